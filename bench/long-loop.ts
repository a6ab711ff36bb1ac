// The long plain loop: one orchestration of 10,000 rounds (activity + one-second timer raced against an event),
// no continue-as-new, on the table store (Azurite) with the virtual clock, run to completion. It finishes (the meta
// row no longer grows per round), slowly: the SDK replays the whole history every episode, as it does on Azure.
//   node dist/bench/long-loop.js '{"rounds":10000,"env":{"AzureWebJobsStorage":"..."}}'
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Host } from '../devhost';

const APP = path.resolve(__dirname, '../../test/fixtures/episodes-app');

export async function longLoop(rounds: number, env: Record<string, string>): Promise<Record<string, number>> {
  Object.assign(process.env, env);
  const host = await Host.start({ appDir: APP, port: 0, storage: 'table', clock: 'virtual', taskHub: `Long${Date.now()}` });
  try {
    const t0 = performance.now();
    const id = await host.engine.start('plainLoop', undefined, JSON.stringify({ rounds }));
    // waitFor moves the virtual clock to each next timer whenever the host is idle, until the instance ends.
    const status = await host.waitFor(id, { timeoutMs: 3_600_000 });
    if (status.runtimeStatus !== 'Completed' || status.output !== rounds) throw new Error(`ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
    const seconds = (performance.now() - t0) / 1000;
    const meta = await host.store.getMeta(id);
    return { rounds, seconds, msPerRoundAvg: (seconds * 1000) / rounds, metaChars: JSON.stringify(meta).length };
  } finally {
    await host.close();
  }
}

if (require.main === module) {
  const args = JSON.parse(process.argv[2] ?? '{}') as { rounds?: number; env?: Record<string, string> };
  longLoop(args.rounds ?? 10_000, args.env ?? {}).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}

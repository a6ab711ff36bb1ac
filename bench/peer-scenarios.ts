// The peer benchmark: the same workloads on the devhost and on @microsoft/durabletask-js's in-memory test backend
// (the peer's own way to run orchestrations without a sidecar), each in a fresh process started by bench/run.ts:
//   a: 1,000 orchestrations of 5 sequential activities     b: one orchestration fanning out 1,000 activities
//   c: 1,000 orchestrations each waiting on a 1 s timer    d: 10,000 signals spread over 100 entities (devhost only:
//      the peer's in-memory backend has no entities)
// devhost runs in this process with the memory store and starts instances in-process (engine.start); "over HTTP" is
// a devhost process of its own (memory store) started through its management API by this process, 64 requests at a
// time (devhost-scenarios' throughput); the peer's client and worker share one process, as its tests do.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Host } from '../devhost';
import { Invoker } from '../devhost/invoke';
import { throughput } from './devhost-scenarios';

const APP = path.resolve(__dirname, '../../bench/peer-app');

export interface PeerResult {
  /** Completed orchestrations (or operations, for d) per second of wall time. */
  perSecond: number;
  /** Wall time of the whole workload. */
  ms: number;
  /** CPU time of this process during the workload (less sensitive to other load on the machine than wall time). */
  cpuMs?: number;
  /** Share of the wall time spent inside the SDK's handlers (orchestrator and activity functions), devhost only. */
  sdkShare?: number;
  /** c on the devhost: wall time from moving the virtual clock past the timers to the last completion. */
  waitMs?: number;
}

type Workload = 'a' | 'b' | 'c' | 'd';

function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/** Time spent in Invoker.invoke (the SDK's function wrappers and the user code), summed over concurrent calls. */
function meterInvoker(): () => number {
  const original = Invoker.prototype.invoke;
  let inside = 0;
  let depth = 0;
  let since = 0;
  Invoker.prototype.invoke = async function (this: Invoker, ...args: Parameters<Invoker['invoke']>) {
    // Wall time while at least one invocation runs (invocations overlap when activities await).
    if (depth++ === 0) since = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      if (--depth === 0) inside += performance.now() - since;
    }
  };
  return () => inside;
}

/** The devhost side in this process: memory store, instances started in-process. */
export async function devhost(workload: Workload): Promise<PeerResult> {
  const inside = meterInvoker();
  const host = await Host.start({ appDir: APP, port: 0, storage: 'memory', clock: workload === 'c' ? 'virtual' : 'real', taskHub: `Peer${Date.now()}` });
  try {
    const start = async (name: string, input?: unknown): Promise<void> => {
      await host.engine.start(name, undefined, input === undefined ? null : JSON.stringify(input));
    };
    // Warm-up, so both sides are measured with a compiled hot path.
    for (let i = 0; i < 50; i++) await start('fiveSteps');
    await host.idle();
    const before = inside();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let units = 1000;
    let waitMs: number | undefined;
    if (workload === 'a') await Promise.all(Array.from({ length: 1000 }, () => start('fiveSteps')));
    else if (workload === 'b') {
      await start('fanOut', 1000);
      units = 1000;
    } else if (workload === 'c') {
      await Promise.all(Array.from({ length: 1000 }, () => start('oneSecond')));
      await host.idle();
      const w0 = performance.now();
      await host.advance(1000); // the virtual clock: the second passes at once
      await host.idle();
      waitMs = performance.now() - w0;
    } else {
      units = 10_000;
      for (let i = 0; i < units; i++) await host.engine.signalEntity('counter', `k${i % 100}`, 'add', '1');
    }
    await host.idle();
    const ms = performance.now() - t0;
    await check(host, workload);
    return { perSecond: (units / ms) * 1000, ms, cpuMs: cpuMs(cpu0), sdkShare: (inside() - before) / ms, ...(waitMs !== undefined ? { waitMs } : {}) };
  } finally {
    await host.close();
  }
}

async function check(host: Host, workload: Workload): Promise<void> {
  if (workload === 'd') {
    let total = 0;
    for (let k = 0; k < 100; k++) total += Number(await host.engine.readEntity('counter', `k${k}`));
    if (total !== 10_000) throw new Error(`the counters add up to ${total}, not 10000`);
    return;
  }
  const open = await host.store.list({ runtimeStatus: ['Pending', 'Running'] });
  const failed = await host.store.list({ runtimeStatus: ['Failed'] });
  if (open.filter((m) => !m.instanceId.startsWith('@')).length > 0 || failed.length > 0) throw new Error(`${open.length} still open, ${failed.length} failed`);
}

/** The peer side: @microsoft/durabletask-js with its in-memory backend, worker and client in this process. */
export async function peer(workload: Exclude<Workload, 'd'>): Promise<PeerResult> {
  // Its test worker builds executors with a console logger and no way to pass another: mute it, so the run
  // measures the engine and not the terminal.
  for (const k of ['log', 'info', 'debug', 'warn'] as const) console[k] = () => undefined;
  const { InMemoryOrchestrationBackend, TestOrchestrationClient, TestOrchestrationWorker, whenAll } = await import('@microsoft/durabletask-js');
  const backend = new InMemoryOrchestrationBackend();
  const worker = new TestOrchestrationWorker(backend);
  const client = new TestOrchestrationClient(backend);
  type Ctx = { callActivity(name: string, input?: unknown): unknown; createTimer(at: Date | number): unknown; currentUtcDateTime: Date };
  worker.addNamedActivity('step', async (_ctx: unknown, n: number) => n + 1);
  worker.addNamedOrchestrator('fiveSteps', async function* (ctx: Ctx): AsyncGenerator<unknown, number, number> {
    let n = 0;
    for (let i = 0; i < 5; i++) n = yield ctx.callActivity('step', n);
    return n;
  } as never);
  worker.addNamedOrchestrator('fanOut', async function* (ctx: Ctx, n: number): AsyncGenerator<unknown, number, number[]> {
    const results = yield whenAll(Array.from({ length: n }, (_, i) => ctx.callActivity('step', i)) as never);
    return results.length;
  } as never);
  worker.addNamedOrchestrator('oneSecond', async function* (ctx: Ctx): AsyncGenerator<unknown, string, unknown> {
    yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 1000));
    return 'done';
  } as never);
  await worker.start();
  try {
    const run = async (name: string, count: number, input?: unknown): Promise<void> => {
      const ids = await Promise.all(Array.from({ length: count }, () => client.scheduleNewOrchestration(name, input)));
      const states = await Promise.all(ids.map((id) => client.waitForOrchestrationCompletion(id, true, 120)));
      const bad = states.filter((s) => !s || s.serializedOutput === undefined);
      if (bad.length > 0) throw new Error(`${bad.length} of ${count} ${name} did not complete`);
    };
    await run('fiveSteps', 50);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (workload === 'a') await run('fiveSteps', 1000);
    else if (workload === 'b') await run('fanOut', 1, 1000);
    else await run('oneSecond', 1000);
    const ms = performance.now() - t0;
    return { perSecond: (1000 / ms) * 1000, ms, cpuMs: cpuMs(cpu0) };
  } finally {
    await worker.stop();
  }
}

// Child-process entry: `node peer-scenarios.js <side> <workload>` prints one JSON line.
/** Workload a started over HTTP: a separate devhost process, its management API, 64 requests at a time. */
async function devhostOverHttp(): Promise<PeerResult> {
  const r = await throughput('memory', 1000, 64, {}, 'api');
  return { perSecond: r.perSecond, ms: r.seconds * 1000 };
}

if (require.main === module) {
  const [side, workload] = process.argv.slice(2) as [string, Workload];
  const run = side === 'peer' ? peer(workload as Exclude<Workload, 'd'>) : side === 'devhost-http' ? devhostOverHttp() : devhost(workload);
  run.then(
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

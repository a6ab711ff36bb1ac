// `npm run bench`: runs each benchmark scenario in a fresh process, several times, and prints the
// median (and the spread) of every figure with the machine it ran on. Not a test: nothing here fails a build.
//   node dist/bench/run.js [--runs 5] [--only throughput-memory,throughput-table,timers,recovery(-10k|-10k-loaded|-100k),game,commands,peer,long-loop,stream]
// (`commands` is the game's commands/s scenario alone, Durable state in memory: a quick A/B figure; `stream` is live
// delivery: 200 players on GET /api/stream, then on long polling, bench/stream-scenarios.ts.)
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startAzurite } from '../devhost/azurite';

const SCENARIOS = path.join(__dirname, 'devhost-scenarios.js');
const GAME = path.join(__dirname, 'game-scenarios.js');
const PEER = path.join(__dirname, 'peer-scenarios.js');
const LONG_LOOP = path.join(__dirname, 'long-loop.js');
const STREAM = path.join(__dirname, 'stream-scenarios.js');

function runChild(script: string, scenario: string, args?: unknown, flags: string[] = [], timeoutMs = 600_000): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const argv = args === undefined ? [] : typeof args === 'string' ? [args] : [JSON.stringify(args)];
    execFile(process.execPath, ['--expose-gc', ...flags, script, scenario, ...argv], { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${scenario} failed: ${stderr || err.message}`));
      const line = stdout.trim().split('\n').pop() ?? '{}';
      resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(1);
}

interface Row {
  name: string;
  figures: Record<string, number[]>;
  goal: string;
}

async function repeat(name: string, runs: number, goal: string, once: () => Promise<Record<string, number>>): Promise<Row> {
  const figures: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    const r = await once();
    for (const [k, v] of Object.entries(r)) (figures[k] ??= []).push(v);
    process.stderr.write(`  ${name} run ${i + 1}/${runs}: ${JSON.stringify(r)}\n`);
  }
  return { name, figures, goal };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, only: { type: 'string' } } });
  const runs = Number(values.runs ?? 5);
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const want = (s: string) => !only || only.has(s);
  const rows: Row[] = [];
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  process.stderr.write(`Benchmarks on ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${runs} runs each.\n`);

  if (want('throughput-memory')) {
    rows.push(await repeat('devhost, memory store: 5-activity orchestrations started over HTTP (management API)', runs, '>= 500/s', () =>
      runChild(SCENARIOS, 'throughput', { storage: 'memory', n: 4000, concurrency: 64, via: 'api' })));
    rows.push(await repeat("devhost, memory store: the same started through the app's HTTP starter (df client RPC)", runs, 'for comparison', () =>
      runChild(SCENARIOS, 'throughput', { storage: 'memory', n: 3000, concurrency: 64, via: 'app' })));
  }
  if (want('peer')) {
    // The same workloads on the devhost and on @microsoft/durabletask-js's in-memory backend, in fresh processes
    // with the same Node flags as `npm start` runs the devhost with.
    const peerRun = (side: string, w: string) => runChild(PEER, side, w, ['--max-semi-space-size=64']);
    const work: [string, string][] = [
      ['a', '1,000 orchestrations of 5 sequential activities'],
      ['b', 'one orchestration fanning out 1,000 activities'],
      ['c', '1,000 orchestrations each waiting on a 1 s timer (devhost: virtual clock)'],
    ];
    for (const [w, what] of work) {
      rows.push(await repeat(`peer (${w}) ${what}: @microsoft/durabletask-js in-memory`, runs, 'reference', () => peerRun('peer', w)));
      rows.push(await repeat(`peer (${w}) ${what}: devhost, memory store, started in-process`, runs, w === 'c' ? 'done in < 100 ms wall' : '>= the peer', () => peerRun('devhost', w)));
      if (w === 'a') rows.push(await repeat(`peer (${w}) ${what}: devhost, started over HTTP`, runs, '>= 0.8x the peer', () => peerRun('devhost-http', w)));
    }
    rows.push(await repeat('peer (d) 10,000 signals spread over 100 entities: devhost (the peer\'s in-memory backend has no entities)', runs, 'reported', () => peerRun('devhost', 'd')));
  }
  if (want('timers')) {
    rows.push(await repeat('devhost, memory store, real clock: 10,000 pending timers', runs, 'RSS < 300 MB, lateness p99 < 50 ms', () =>
      runChild(SCENARIOS, 'timers', { n: 10_000, leadMs: 1000, spreadMs: 10_000 })));
  }
  // A fresh Azurite per size, seeded once (minutes for 100,000), then timed `runs` times: recovery leaves the seeded
  // rows as they are (idle instances are not even read). `--only recovery` runs every size; `recovery-10k-loaded` is
  // the 10,000 whose index rows do not say they are idle (a host killed soon after they started), all loaded at start.
  for (const [n, live, name, idle] of [[10_000, 10_000, 'recovery-10k', true], [10_000, 10_000, 'recovery-10k-loaded', false], [100_000, 10_000, 'recovery-100k', true]] as const) {
    if (want('recovery') || want(name)) {
      const azurite = await startAzurite();
      try {
        const hub = `Recovery${n}`;
        const seeded = await runChild(SCENARIOS, 'seed', { n, live, taskHub: hub, connectionString: azurite.connectionString, idle });
        process.stderr.write(`  seeded ${n} instances (${live} waiting${idle ? ', their rows saying so' : ''}) in ${seeded.seconds.toFixed(0)} s\n`);
        const what = `${n.toLocaleString('en')} stored instances (${live.toLocaleString('en')} waiting on a timer${idle ? '' : ', rows not saying so'}, the rest completed)`;
        rows.push(await repeat(`devhost, table store on Azurite: start-up with ${what}`, runs, n === 10_000 ? 'recovery < 10 s' : 'list 50 < 100 ms', () =>
          runChild(SCENARIOS, 'recovery', { taskHub: hub, connectionString: azurite.connectionString })));
      } finally {
        await azurite.stop();
      }
    }
  }
  if (want('throughput-table') || want('game') || want('commands') || want('long-loop') || want('stream')) {
    const azurite = await startAzurite();
    try {
      if (want('long-loop')) {
        // Minutes per run (the SDK replays the growing history every episode): once is enough.
        rows.push(await repeat('plain loop of 10,000 rounds (activity + timer + event), table store on Azurite, virtual clock', 1, 'completes', () =>
          runChild(LONG_LOOP, JSON.stringify({ rounds: 10_000, env: { AzureWebJobsStorage: azurite.connectionString } }), undefined, ['--max-semi-space-size=64'], 3_600_000)));
      }
      if (want('throughput-table')) {
        rows.push(await repeat("devhost, table store on Azurite: 5-activity orchestrations started over HTTP (app's starter)", runs, '>= 50/s', () =>
          runChild(SCENARIOS, 'throughput', { storage: 'table', n: 500, concurrency: 32, via: 'app', env: { AzureWebJobsStorage: azurite.connectionString } })));
      }
      if (want('game')) {
        for (const durableStore of ['table', 'memory'] as const) {
          rows.push(await repeat(`game app on devhost (${durableStore} Durable store) + Azurite (game tables)`, runs, 'prompt p50 < 30 ms, p99 < 100 ms; >= 200 commands/s; round 500 < 2x round 10 (bounded)', () =>
            runChild(GAME, 'all', { env: { AzureWebJobsStorage: azurite.connectionString }, durableStore })));
        }
      }
      if (want('stream')) {
        rows.push(await repeat('game app on devhost (memory Durable store) + Azurite (game tables): 200 players, each on an open GET /api/stream, then on long polling (wait=25); 5 rounds of one message per player', runs, 'stream p50 < 50 ms, p99 < 200 ms', () =>
          runChild(STREAM, 'stream', { env: { AzureWebJobsStorage: azurite.connectionString } })));
      }
      if (want('commands')) {
        rows.push(await repeat('game app on devhost (memory Durable store) + Azurite (game tables): asynccommand', runs, '>= 200 commands/s', () =>
          runChild(GAME, 'commands', { env: { AzureWebJobsStorage: azurite.connectionString }, durableStore: 'memory' })));
      }
    } finally {
      await azurite.stop();
    }
  }

  const lines = [`Machine: ${os.cpus().length} x ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}. Median of ${runs} runs (min-max).`, ''];
  lines.push('| scenario | figure | median | min-max | goal |', '|---|---|---|---|---|');
  for (const r of rows) {
    for (const [k, v] of Object.entries(r.figures)) {
      lines.push(`| ${r.name} | ${k} | ${fmt(median(v))} | ${fmt(Math.min(...v))}-${fmt(Math.max(...v))} | ${r.goal} |`);
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

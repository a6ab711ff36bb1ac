// `npm run bench`: runs each benchmark scenario in a fresh process, several times, and prints the
// median (and the spread) of every figure with the machine it ran on. Not a test: nothing here fails a build.
//   node dist/bench/run.js [--runs 5] [--only throughput-memory,throughput-table,timers,recovery(-10k|-100k),game]
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startAzurite } from '../devhost/azurite';

const SCENARIOS = path.join(__dirname, 'devhost-scenarios.js');
const GAME = path.join(__dirname, 'game-scenarios.js');

function runChild(script: string, scenario: string, args: unknown): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', script, scenario, JSON.stringify(args)], { maxBuffer: 16 * 1024 * 1024, timeout: 600_000 }, (err, stdout, stderr) => {
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
  if (want('timers')) {
    rows.push(await repeat('devhost, memory store, real clock: 10,000 pending timers', runs, 'RSS < 300 MB, lateness p99 < 50 ms', () =>
      runChild(SCENARIOS, 'timers', { n: 10_000, leadMs: 1000, spreadMs: 10_000 })));
  }
  // A fresh Azurite per size, seeded once (minutes for 100,000), then timed `runs` times: recovery only reads.
  // `--only recovery` runs both sizes, `recovery-10k` / `recovery-100k` one.
  for (const [n, live, name] of [[10_000, 10_000, 'recovery-10k'], [100_000, 10_000, 'recovery-100k']] as const) {
    if (want('recovery') || want(name)) {
      const azurite = await startAzurite();
      try {
        const hub = `Recovery${n}`;
        const seeded = await runChild(SCENARIOS, 'seed', { n, live, taskHub: hub, connectionString: azurite.connectionString });
        process.stderr.write(`  seeded ${n} instances (${live} waiting) in ${seeded.seconds.toFixed(0)} s\n`);
        rows.push(await repeat(`devhost, table store on Azurite: start-up with ${n.toLocaleString('en')} stored instances (${live.toLocaleString('en')} waiting on a timer, the rest completed)`, runs, n === 10_000 ? 'recovery < 10 s' : 'list 50 < 100 ms', () =>
          runChild(SCENARIOS, 'recovery', { taskHub: hub, connectionString: azurite.connectionString })));
      } finally {
        await azurite.stop();
      }
    }
  }
  if (want('throughput-table') || want('game')) {
    const azurite = await startAzurite();
    try {
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

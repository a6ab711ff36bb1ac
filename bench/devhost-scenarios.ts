// Benchmark scenarios of the devhost, each run in a fresh process by bench/run.ts:
//   throughput: "5 sequential activities" orchestrations started over HTTP until all complete
//   timers:     10,000 pending timers (RSS while pending, lateness of each fire)
//   seed + recovery: a table-store hub with 10,000 or 100,000 stored instances: start-up (recovery) time and
//               list latency (written directly through the store, so not part of npm test)
import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { Host } from '../devhost';
import { TableStore } from '../devhost/store/table';
import type { StoredInstance } from '../devhost/store/types';
import { idleUntil, liveFromStore } from '../devhost/durable/state';

/** Node flags of the host process, as `npm start` runs it: a 64 MB young generation spends less time in GC. */
export const HOST_NODE_FLAGS = ['--max-semi-space-size=64'];

const ROOT = path.resolve(__dirname, '../..');
export const BENCH_APP = path.join(ROOT, 'bench/app');
const CLI = path.join(ROOT, 'dist/devhost/cli.js');
const MGMT = '/runtime/webhooks/durabletask';

export interface ThroughputResult {
  orchestrations: number;
  seconds: number;
  perSecond: number;
}

export interface TimerResult {
  timers: number;
  rssMb: number;
  lateP50: number;
  lateP99: number;
  lateMax: number;
}

/** Percentile (0..100) of numbers. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * A port the OS says is free now (another process may still take it before it is used: callers retry).
 * @example const port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Resolves once a devhost child process answers on `base`; fails fast (with its last output) if it exits.
 * @example await waitListening('http://127.0.0.1:18000', child);
 */
export async function waitListening(base: string, child: ChildProcess, tail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the devhost exited with code ${child.exitCode} before listening: ${tail().trim().slice(-1500)}`);
    try {
      if ((await fetch(`${base}/admin/host/status`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the devhost did not answer ${base}/admin/host/status within 60 s`);
}

/**
 * Start `n` fiveSteps orchestrations over HTTP against a separate devhost process (through the management
 * API, or the app's own HTTP starter), `concurrency` requests at a time, and time until all completed.
 */
export async function throughput(storage: 'memory' | 'table', n: number, concurrency: number, env: Record<string, string>, via: 'api' | 'app' = 'api'): Promise<ThroughputResult> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // BENCH_HOST_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the host process.
  const nodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...HOST_NODE_FLAGS, ...nodeArgs, CLI, BENCH_APP, '--port', String(port), '--storage', storage, '--task-hub', `Bench${Date.now()}`, '--quiet'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitListening(base, child);
    // 'api': POST to the Durable management API (what the devhost itself serves); 'app': through the app's own
    // HTTP starter, which adds a function invocation and the SDK client's loopback RPC per start.
    const startUrl = via === 'app' ? `${base}/api/five` : `${base}${MGMT}/orchestrators/fiveSteps`;
    const startOne = async () => {
      const res = await fetch(startUrl, { method: 'POST' });
      if (res.status !== 202) throw new Error(`start answered ${res.status}: ${await res.text()}`);
      await res.arrayBuffer();
    };
    const open = async () => {
      const res = await fetch(`${base}${MGMT}/instances/?runtimeStatus=Pending,Running&top=1`);
      return ((await res.json()) as unknown[]).length;
    };
    // Warm up the JIT and connections.
    await Promise.all(Array.from({ length: 20 }, startOne));
    while ((await open()) > 0) await new Promise((r) => setTimeout(r, 20));

    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < n) {
          next++;
          await startOne();
        }
      }),
    );
    while ((await open()) > 0) await new Promise((r) => setTimeout(r, 10));
    const seconds = (performance.now() - t0) / 1000;
    return { orchestrations: n, seconds, perSecond: n / seconds };
  } finally {
    child.kill('SIGTERM');
  }
}

/**
 * Hold `n` timers in one host (memory store, real clock), due `leadMs` after the last was created and
 * spread over `spreadMs`; measure RSS while all are pending and how late each fired.
 */
export async function timers(n: number, leadMs: number, spreadMs: number): Promise<TimerResult> {
  const host = await Host.start({ appDir: BENCH_APP, port: 0, storage: 'memory', clock: 'real', taskHub: `Timers${Date.now()}` });
  try {
    const ids: string[] = [];
    const createdBy = Date.now() + 15_000; // every instance is started well before the first fire
    for (let i = 0; i < n; i++) {
      const fireAt = new Date(createdBy + leadMs + Math.floor((i * spreadMs) / n)).toISOString();
      ids.push(await host.engine.start('lateTimer', `t${i}`, JSON.stringify({ fireAt })));
    }
    await host.idle();
    if (Date.now() > createdBy) throw new Error('starting the timers took longer than the lead time');
    global.gc?.();
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    if (host.engine.pendingTimers !== n) throw new Error(`expected ${n} pending timers, found ${host.engine.pendingTimers}`);
    // Poll only the timer count while timers fire (listing instances would itself delay them).
    while (host.engine.pendingTimers > 0) await new Promise((r) => setTimeout(r, 200));
    await host.idle();
    const done = await host.store.list({ runtimeStatus: ['Completed'] });
    if (done.length !== n) throw new Error(`${done.length} of ${n} timer orchestrations completed`);
    const late = done.map((m) => Number(JSON.parse(m.output ?? '0')));
    return { timers: n, rssMb, lateP50: percentile(late, 50), lateP99: percentile(late, 99), lateMax: Math.max(...late) };
  } finally {
    await host.close();
  }
}

/**
 * Writes `n` instances into a table-store hub through TableStore.importInstances (batched transactions): `live`
 * of them wait on a timer a year away (what recovery resumes), the rest completed a fiveSteps run. The stored
 * rows are those of real runs (made once in a memory-store host), copied under new ids spread over the index.
 * The waiting ones' index rows say they are idle until their timer, as a host writes once an instance stayed quiet
 * (devhost/store/idle-hints.ts); with `idle: false` they say nothing, as after a crash right after they started.
 */
export async function seed(n: number, live: number, taskHub: string, connectionString: string, idle = true): Promise<{ instances: number; seconds: number }> {
  const t0 = performance.now();
  const template = await Host.start({ appDir: BENCH_APP, port: 0, storage: 'memory', clock: 'virtual', taskHub: 'Template' });
  let waiting: StoredInstance | undefined;
  let done: StoredInstance | undefined;
  try {
    await template.engine.start('lateTimer', 'tplwait', JSON.stringify({ fireAt: new Date(Date.now() + 365 * 86_400_000).toISOString() }));
    await template.engine.start('fiveSteps', 'tpldone', null);
    await template.waitFor('tpldone');
    await template.idle();
    waiting = await template.store.load('tplwait');
    done = await template.store.load('tpldone');
  } finally {
    await template.close();
  }
  if (!waiting || !done || waiting.meta.status !== 'Running' || done.meta.status !== 'Completed') throw new Error('the template instances did not reach their states');
  const texts = { wait: JSON.stringify(waiting), done: JSON.stringify(done) };
  const waitingUntil = idle ? idleUntil(liveFromStore(waiting).state) : undefined;
  const store = new TableStore({ connectionString, taskHub });
  await store.init();
  const CHUNK = 2000;
  for (let from = 0; from < n; from += CHUNK) {
    const items: (StoredInstance & { idleUntil?: number })[] = [];
    for (let i = from; i < Math.min(n, from + CHUNK); i++) {
      // Ids spread over the index's partitions like generated ids, in a known order.
      const id = `${((i * 2654435761) >>> 0).toString(16).padStart(8, '0')}-${i}`;
      const text = i < live ? texts.wait.split('"tplwait"').join(`"${id}"`) : texts.done.split('"tpldone"').join(`"${id}"`);
      items.push({ ...(JSON.parse(text) as StoredInstance), ...(i < live && waitingUntil !== undefined ? { idleUntil: waitingUntil } : {}) });
    }
    await store.importInstances(items, 32);
  }
  await store.close();
  return { instances: n, seconds: (performance.now() - t0) / 1000 };
}

/** Median of numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Starts a host on a seeded hub and times it: Host.start (app load, lease, recovery of every unfinished instance),
 * how long until the index is in memory (read in the background after the start), and then the management API's
 * list of 50 (no filter, and runtimeStatus=Running), 20 times each.
 */
export async function recovery(taskHub: string, connectionString: string): Promise<Record<string, number>> {
  const t0 = performance.now();
  const host = await Host.start({ appDir: BENCH_APP, port: 0, storage: 'table', clock: 'virtual', taskHub, connectionString });
  try {
    const startSeconds = (performance.now() - t0) / 1000;
    const recovered = host.engine.pendingTimers;
    if (!(await (host.store as TableStore).indexLoaded())) throw new Error('the index did not load into memory');
    const indexSeconds = (performance.now() - t0) / 1000;
    const timeList = async (query: string): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        const res = await fetch(`${host.url}${MGMT}/instances/?${query}`);
        const body = (await res.json()) as unknown[];
        if (res.status !== 200 || body.length !== 50) throw new Error(`list ${query} answered ${res.status} with ${body.length} items`);
        ms.push(performance.now() - t);
      }
      return median(ms);
    };
    const listTop50Ms = await timeList('top=50');
    const listRunningTop50Ms = await timeList('top=50&runtimeStatus=Running');
    return { startSeconds, recovered, indexSeconds, listTop50Ms, listRunningTop50Ms };
  } finally {
    await host.close();
  }
}

// Child-process entry: `node devhost-scenarios.js <scenario> <json args>` prints one JSON line.
if (require.main === module) {
  const [scenario, argText] = process.argv.slice(2);
  const args = JSON.parse(argText ?? '{}') as Record<string, never>;
  const run: Promise<unknown> =
    scenario === 'timers'
      ? timers(args.n, args.leadMs, args.spreadMs)
      : scenario === 'seed'
        ? seed(args.n, args.live, args.taskHub, args.connectionString, args.idle ?? true)
        : scenario === 'recovery'
          ? recovery(args.taskHub, args.connectionString)
          : throughput(args.storage, args.n, args.concurrency, args.env ?? {}, args.via ?? 'api');
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

// Live delivery benchmark (`--only stream`), run in a fresh process by bench/run.ts. The game app runs in a devhost
// process of its own (CLI, real clock, Durable state in memory, game tables on Azurite, the memory probe of
// host-probe.ts preloaded); this process is the 200 players' clients, talking to it over HTTP with fetch:
//   stream: every player holds GET /api/stream open (reconnecting with Last-Event-ID on `event: end`); the
//           players type `echo <tag>` one after another, spread evenly over `spreadMs` per round, `rounds` rounds,
//           so a message is written for each player each round. Latency: from the message's time (taken by the
//           host just before it writes the row) to the moment this process has parsed its event.
//   poll:   the same players and writes, each player holding a long poll (GET /api/messages?wait=25) open again as
//           soon as the last one answered, as the web client's fallback does. Latency: to the answer's arrival.
// For each: the host's memory per open stream (or waiting long poll): RSS and V8 heap after a full GC, with all 200
// open minus before any, divided by 200; its CPU while the 200 only wait (% of one core) and per message delivered.
// Every message must arrive exactly once (lost and duplicated are reported).
//   node --expose-gc dist/bench/stream-scenarios.js stream '{"env":{"AzureWebJobsStorage":"<conn>"}}'
// prints one JSON line of numbers on stdout; progress goes to stderr.
import path from 'node:path';
import { percentile } from './devhost-scenarios';
import { cpuMsOf, join, startGame, type Player } from './game-scenarios';

export interface StreamArgs {
  env?: Record<string, string>;
  players?: number;
  rounds?: number;
  spreadMs?: number;
  /** Seconds the 200 only wait while the host's idle CPU is measured. */
  idleS?: number;
  /** The modes in the order they run (default stream, then poll). */
  modes?: ('stream' | 'poll')[];
}

const PROBE = path.join(__dirname, 'host-probe.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number): number => Math.round(x * 10) / 10;
const log = (s: string): void => void process.stderr.write(`[stream-bench] ${s}\n`);

interface Memory {
  rss: number;
  heapUsed: number;
}

/** The host's memory after a full GC, through the probe (SIGUSR2 -> one `[probe]` line on its stderr). */
function probe(child: import('node:child_process').ChildProcess): Promise<Memory> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: string): void => {
      text += chunk;
      const m = /\[probe\] (\{[^\n]*\})\n/.exec(text);
      if (m) {
        child.stderr?.off('data', onData);
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as Memory);
      }
    };
    const timer = setTimeout(() => {
      child.stderr?.off('data', onData);
      reject(new Error('the host did not answer the memory probe within 10 s'));
    }, 10_000);
    child.stderr?.on('data', onData);
    child.kill('SIGUSR2');
  });
}

/** One player's way of receiving messages: records when each tagged message arrived. */
interface Receiver {
  /** Resolves once the receiver is listening (stream: its first chunk came; poll: its first request is out). */
  ready: Promise<void>;
  stop(): void;
  done: Promise<void>;
}

interface Arrivals {
  /** Only messages whose text starts with it count (this mode's). */
  prefix: string;
  /** tag -> arrival times (more than one: a duplicate). */
  byTag: Map<string, number[]>;
  latencies: number[];
  duplicates: number;
}

function record(arrivals: Arrivals, text: string, time: string, now: number): void {
  if (!text.startsWith(arrivals.prefix)) return;
  const seen = arrivals.byTag.get(text);
  if (seen) {
    seen.push(now);
    arrivals.duplicates++;
    return;
  }
  arrivals.byTag.set(text, [now]);
  arrivals.latencies.push(now - Date.parse(time));
}

/** Holds GET /api/stream open for `p`, reconnecting with the last id after `event: end`, until stopped. */
function streamReceiver(base: string, p: Player, arrivals: Arrivals, cursor: string): Receiver {
  const abort = new AbortController();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = (async () => {
    let lastId = cursor;
    while (!abort.signal.aborted) {
      const headers: Record<string, string> = { authorization: `Bearer ${p.token}` };
      headers['last-event-id'] = lastId;
      let res: Response;
      try {
        res = await fetch(`${base}/api/stream`, { headers, signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted) return;
        throw err;
      }
      if (res.status !== 200) throw new Error(`${p.name}: GET /api/stream answered ${res.status}: ${await res.text()}`);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      try {
        for (;;) {
          const { done: ended, value } = await reader.read();
          if (ended) break;
          const now = Date.now();
          markReady();
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id: string | undefined;
            let event: string | undefined;
            let data: string | undefined;
            for (const line of block.split('\n')) {
              if (line.startsWith('id: ')) id = line.slice(4);
              else if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data = line.slice(6);
            }
            if (event === 'message' && data) {
              const m = JSON.parse(data) as { text: string; time: string };
              record(arrivals, m.text, m.time, now);
              lastId = id ?? lastId;
            }
          }
        }
      } catch (err) {
        if (abort.signal.aborted) return;
        throw err;
      }
    }
  })();
  return { ready, done, stop: () => abort.abort() };
}

/** Keeps a long poll (wait=25) open for `p` until stopped. */
function pollReceiver(base: string, p: Player, arrivals: Arrivals, cursor: string): Receiver {
  const abort = new AbortController();
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = (async () => {
    while (!abort.signal.aborted) {
      let res: Response;
      try {
        const q = new URLSearchParams({ wait: '25', after: cursor });
        const pending = fetch(`${base}/api/messages?${q}`, { headers: { authorization: `Bearer ${p.token}` }, signal: abort.signal });
        markReady();
        res = await pending;
        const body = (await res.json()) as { messages: { text: string; time: string }[]; cursor: string };
        const now = Date.now();
        if (res.status !== 200) throw new Error(`${p.name}: GET /api/messages answered ${res.status}: ${JSON.stringify(body)}`);
        for (const m of body.messages) record(arrivals, m.text, m.time, now);
        cursor = body.cursor;
      } catch (err) {
        if (abort.signal.aborted) return;
        throw err;
      }
    }
  })();
  return { ready, done, stop: () => abort.abort() };
}

interface ModeResult {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The writes' own round trip (POST /api/input until its 202), p50 and p99: how busy the host and machine were. */
  postP50Ms: number;
  postP99Ms: number;
  samples: number;
  lost: number;
  duplicates: number;
  rssKbPerReader: number;
  heapKbPerReader: number;
  idleHostCpuPct: number;
  hostCpuMsPerMessage: number;
}

async function runMode(mode: 'stream' | 'poll', base: string, child: import('node:child_process').ChildProcess, players: Player[], a: Required<Omit<StreamArgs, 'env' | 'modes'>>): Promise<ModeResult> {
  // Where each player's stream or long poll starts: after everything said so far, as a client that was reading.
  const cursors = new Map<Player, string>();
  for (const p of players) {
    const r = await fetch(`${base}/api/messages`, { headers: { authorization: `Bearer ${p.token}` } });
    cursors.set(p, ((await r.json()) as { cursor: string }).cursor);
  }
  const open200 = (arrivals: Arrivals): Receiver[] => players.map((p) => (mode === 'stream' ? streamReceiver : pollReceiver)(base, p, arrivals, cursors.get(p)!));
  // The 200 opened once and closed before the baseline: what a route's first use keeps for good (compiled code,
  // pools, the heap grown to its working size) is then in both measurements, not counted per reader.
  const warm = open200({ prefix: 'none', byTag: new Map(), latencies: [], duplicates: 0 });
  await Promise.all(warm.map((r) => r.ready));
  await sleep(1500);
  for (const r of warm) r.stop();
  await Promise.all(warm.map((r) => r.done));
  await sleep(1000);
  const before = await probe(child);
  const arrivals: Arrivals = { prefix: `bench-${mode}-`, byTag: new Map(), latencies: [], duplicates: 0 };
  const receivers = open200(arrivals);
  await Promise.all(receivers.map((r) => r.ready));
  // One poll interval, so every reader has read the table once and settled into waiting.
  await sleep(1500);
  const open = await probe(child);
  const cpuIdle0 = cpuMsOf(child.pid);
  await sleep(a.idleS * 1000);
  const cpuIdle1 = cpuMsOf(child.pid);
  log(`${mode}: ${players.length} open; host RSS ${((open.rss - before.rss) / 2 ** 20).toFixed(1)} MB and heap ${((open.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MB more than with none`);

  const cpuMsg0 = cpuMsOf(child.pid);
  const gap = a.spreadMs / players.length;
  const writes: Promise<void>[] = [];
  const postMs: number[] = [];
  const t0 = performance.now();
  for (let r = 0; r < a.rounds; r++) {
    for (const [i, p] of players.entries()) {
      const at = t0 + (r * players.length + i) * gap;
      const wait = at - performance.now();
      if (wait > 1) await sleep(wait);
      const text = `${arrivals.prefix}${r}-${i}`;
      const sent = performance.now();
      writes.push(
        fetch(`${base}/api/input`, { method: 'POST', headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: `echo ${text}` }) }).then(async (res) => {
          if (res.status !== 202) throw new Error(`${p.name}: POST /api/input answered ${res.status}: ${await res.text()}`);
          await res.arrayBuffer();
          postMs.push(performance.now() - sent);
        }),
      );
    }
  }
  await Promise.all(writes);
  const expected = a.rounds * players.length;
  const deadline = Date.now() + 10_000;
  while (arrivals.byTag.size < expected && Date.now() < deadline) await sleep(50);
  const cpuMsg1 = cpuMsOf(child.pid);
  for (const r of receivers) r.stop();
  await Promise.all(receivers.map((r) => r.done));
  const lost = expected - arrivals.byTag.size;
  log(`${mode}: ${arrivals.byTag.size} of ${expected} messages arrived, ${arrivals.duplicates} twice; p50 ${percentile(arrivals.latencies, 50)} ms, p99 ${percentile(arrivals.latencies, 99)} ms`);
  const cpu = (x0: number | undefined, x1: number | undefined, per: number): number => (x0 === undefined || x1 === undefined ? -1 : round1((x1 - x0) / per));
  return {
    p50Ms: percentile(arrivals.latencies, 50),
    p99Ms: percentile(arrivals.latencies, 99),
    maxMs: Math.max(...arrivals.latencies),
    postP50Ms: round1(percentile(postMs, 50)),
    postP99Ms: round1(percentile(postMs, 99)),
    samples: arrivals.latencies.length,
    lost,
    duplicates: arrivals.duplicates,
    rssKbPerReader: round1((open.rss - before.rss) / 1024 / players.length),
    heapKbPerReader: round1((open.heapUsed - before.heapUsed) / 1024 / players.length),
    idleHostCpuPct: cpu(cpuIdle0, cpuIdle1, a.idleS * 10),
    hostCpuMsPerMessage: cpu(cpuMsg0, cpuMsg1, arrivals.byTag.size || 1),
  };
}

/** Both modes, streams first, on one host process; one flat record of numbers. */
export async function streamBench(args: StreamArgs): Promise<Record<string, number>> {
  const a = { players: args.players ?? 200, rounds: args.rounds ?? 5, spreadMs: args.spreadMs ?? 4000, idleS: args.idleS ?? 5 };
  const env = { ...(process.env.AzureWebJobsStorage ? { AzureWebJobsStorage: process.env.AzureWebJobsStorage } : {}), ...(args.env ?? {}) };
  // Sign-ins at scrypt's test cost (the benchmark is not about passwords); lines well under the input rate limit.
  const game = await startGame('stream', { ...env, GAME_PASSWORD_COST: '10', GAME_SIGNUPS_PER_HOUR: '100000' }, 'memory', ['--expose-gc', '--require', PROBE]);
  try {
    const players = await join(game.base, 'st', a.players);
    // Warm-up: every player's partition, the tables and the hot paths of both routes are used once.
    await Promise.all(players.map((p) => p.type('echo warm-up', 'command')));
    await Promise.all(players.map((p) => p.poll(0)));
    log(`${players.length} players signed in; ${a.rounds} rounds of one message each, spread over ${a.spreadMs} ms a round`);
    const out: Record<string, number> = {};
    for (const mode of args.modes ?? (['stream', 'poll'] as const)) {
      const r = await runMode(mode, game.base, game.child, players, a);
      for (const [k, v] of Object.entries(r)) out[`${mode}${k[0].toUpperCase()}${k.slice(1)}`] = v;
    }
    return out;
  } finally {
    await game.stop();
  }
}

// Child-process entry: `node stream-scenarios.js stream <json args>` prints one JSON line.
if (require.main === module) {
  const [, argText] = process.argv.slice(2);
  streamBench(JSON.parse(argText ?? '{}') as StreamArgs).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`stream-scenarios failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}

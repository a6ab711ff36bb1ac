// Benchmark scenarios of the game app (the repository root) on the devhost with the table store on Azurite, run in
// a fresh process by bench/run.ts. Each scenario starts its own devhost process (CLI, real clock, --storage table,
// a private task hub and GAME_TABLE_PREFIX) and talks to it over HTTP with fetch, exactly as players' clients would:
//   prompt:   50 concurrent players each run `count` and answer it round after round; the time from just before
//             POST /api/input until the next "Round N?" is readable by a long poll (GET /api/messages?wait=) that
//             was already open before the POST. Players think between rounds (args.thinkMs, default 1000 ms
//             +-50%, so about 50 answers/s offered): the goal's 50 players are people, not a closed loop;
//             thinkMs 0 gives the saturated (closed-loop) figure.
//   commands: commands per second that start an orchestration and deliver one message: `asynccommand` (the seed's
//             runAsync example: the HTTP function starts a runAsync orchestration, which runs longRunningFunction
//             and then atReturnFunction, whose msg() is the single message "The final value is 500500"). Plain
//             commands (`echo`, `help`) run inline and start nothing; `greet` delivers one message but then waits
//             for an answer; `ret` delivers nothing; `testdelay`/`remind` wait on timers. Many players keep
//             `depth` commands each in flight; a command counts when its message has been read by the player.
//             Afterwards every command must have delivered exactly one message (lost/duplicated are reported).
//             Also reported: the host process's CPU time per command in the measured window (Linux), a figure
//             that other load on a shared machine moves much less than commands/s.
//   loop:     one player answers `countloop` (bounded: continue-as-new every round) for 505 rounds and `count`
//             (plain: its history grows every round) for up to 505 rounds or args.plainBudgetS seconds; the step
//             latency (answer -> next question readable) at "round 10" is the median of rounds 5-15, at "round 500"
//             the median of rounds 495-505 (for a plain run cut short by its budget: of its last 11 rounds, and
//             plainRounds says how far it got).
//   node --expose-gc dist/bench/game-scenarios.js all|prompt|commands|loop '{"env":{"AzureWebJobsStorage":"<conn>"}}'
// prints one JSON line of numbers on stdout; progress goes to stderr.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, HOST_NODE_FLAGS, percentile, waitListening } from './devhost-scenarios';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/devhost/cli.js');
const SECRET = 'bench-secret-0123456789abcdef0123456789';
/** Longest a single round (answer -> next question) may take before the run fails as "lost message". */
const ROUND_TIMEOUT_MS = 20_000;

export interface GameArgs {
  env?: Record<string, string>;
  /** Where the devhost keeps the Durable state: 'table' (Azurite, default) or 'memory' (the game's tables stay on Azurite). */
  durableStore?: 'memory' | 'table';
  /** prompt: players, warm-up rounds and measured rounds per player, mean think time between rounds. */
  players?: number;
  warmup?: number;
  rounds?: number;
  thinkMs?: number;
  /** commands: players, commands in flight per player, warm-up and measured seconds. */
  cmdPlayers?: number;
  depth?: number;
  cmdWarmupS?: number;
  cmdSeconds?: number;
  /** loop: rounds of the bounded and the plain form, and the plain form's time budget. */
  boundedRounds?: number;
  plainRounds?: number;
  plainBudgetS?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => percentile(xs, 50);
const round1 = (x: number): number => Math.round(x * 10) / 10;
const log = (s: string): void => void process.stderr.write(`[game-bench] ${s}\n`);

/** Problems seen that did not stop the run; reported as figures. */
const counters = { http503: 0, http429: 0, hostErrors: 0, duplicates: 0 };

// ---------------------------------------------------------------------------------------------------------------
// The game app in a devhost child process

/** Devhost processes still running: killed if this process ends early (e.g. bench/run.ts's timeout). */
const live = new Set<ChildProcess>();
process.once('exit', () => live.forEach((c) => c.kill('SIGKILL')));

interface Game {
  base: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startGame(name: string, env: Record<string, string>, durableStore: 'memory' | 'table' = 'table', hostNodeArgs: string[] = []): Promise<Game> {
  if (!env.AzureWebJobsStorage) {
    throw new Error('AzureWebJobsStorage is not set: pass {"env":{"AzureWebJobsStorage":"<Azurite connection string>"}} (bench/run.ts does) or set it in the environment.');
  }
  const id = `${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    // BENCH_HOST_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the host process.
    const nodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...HOST_NODE_FLAGS, ...hostNodeArgs, ...nodeArgs, CLI, ROOT, '--port', String(port), '--storage', durableStore, '--clock', 'real', '--task-hub', `GameBench${id}${attempt}`, '--quiet'], {
      cwd: ROOT,
      env: { ...process.env, ...env, GAME_TOKEN_SECRET: SECRET, GAME_DEV_COMMANDS: '1', GAME_SIGNUPS_PER_HOUR: '1000', GAME_TABLE_PREFIX: `b${id}${attempt}`.replace(/[^A-Za-z0-9]/g, '') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    // --quiet leaves only errors on stderr: pass them on and count the log entries.
    let tail = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      process.stderr.write(`[devhost ${name}] ${chunk}`);
      tail = (tail + chunk).slice(-4000);
      counters.hostErrors += (chunk.match(/^\[[^\]]+\] (error|critical)/gm) ?? []).length;
    });
    live.add(child);
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        resolve();
      }),
    );
    const stop = async (): Promise<void> => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    };
    try {
      await waitListening(base, child, () => tail);
      return { base, child, stop };
    } catch (err) {
      await stop();
      // Another process may have taken the port between freePort() and the listen: try a new one.
      if (attempt < 3 && /EADDRINUSE/.test(tail)) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// A player's client

interface Reply {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

async function call(base: string, method: string, pathname: string, body?: unknown, token?: string, timeoutMs = 30_000, extraHeaders: Record<string, string> = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${base}${pathname}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new Error(`${method} ${pathname} failed without a response: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  const text = await res.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { raw: text.slice(0, 500) };
  }
  return { status: res.status, body: parsed, retryAfter: res.headers.get('retry-after') };
}

interface Message {
  id: string;
  text: string;
  time: string;
}

export class Player {
  token = '';
  player = '';
  private cursor: string | undefined;
  private readonly inbox: Message[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly base: string,
    readonly name: string,
  ) {}

  async signIn(): Promise<void> {
    const r = await call(this.base, 'POST', '/api/sessions', { name: this.name, password: `pw-${this.name}` });
    if (r.status !== 201 && r.status !== 200) throw new Error(`POST /api/sessions for ${this.name} answered ${r.status}: ${JSON.stringify(r.body)}`);
    this.token = String(r.body.token);
    this.player = String(r.body.player);
  }

  /**
   * Types a line with an Idempotency-Key, as the web client does, and expects 202 of the given kind; a 503 is retried
   * a few times with the same key, and a 429 (rate limited) after its Retry-After, as a client would.
   */
  async type(text: string, kind: 'command' | 'answer'): Promise<Record<string, unknown>> {
    // BENCH_NO_IDEMPOTENCY_KEYS=1 sends none, to tell their cost from the rest.
    const headers: Record<string, string> = process.env.BENCH_NO_IDEMPOTENCY_KEYS === '1' ? {} : { 'idempotency-key': randomUUID() };
    for (let attempt = 1; ; attempt++) {
      const r = await call(this.base, 'POST', '/api/input', { text }, this.token, undefined, headers);
      if (r.status === 503 && attempt < 5) {
        counters.http503++;
        log(`${this.name}: POST /api/input ${JSON.stringify(text)} answered 503 (${JSON.stringify(r.body)}); retrying`);
        await sleep(100 * attempt);
        continue;
      }
      if (r.status === 429 && attempt < 5) {
        counters.http429++;
        await sleep(1000 * Number(r.retryAfter ?? 1));
        continue;
      }
      if (r.status !== 202 || r.body.kind !== kind || r.body.ok === false) {
        throw new Error(`${this.name}: POST /api/input ${JSON.stringify(text)} answered ${r.status} ${JSON.stringify(r.body)}; expected 202 kind "${kind}"`);
      }
      return r.body;
    }
  }

  /** One long poll (at most `waitS` seconds): new messages go to the inbox. */
  async poll(waitS: number): Promise<void> {
    const q = new URLSearchParams({ wait: String(waitS) });
    if (this.cursor) q.set('after', this.cursor);
    const r = await call(this.base, 'GET', `/api/messages?${q}`, undefined, this.token, (waitS + 15) * 1000);
    if (r.status !== 200) throw new Error(`${this.name}: GET /api/messages answered ${r.status} ${JSON.stringify(r.body)}`);
    for (const m of r.body.messages as Message[]) {
      if (this.seen.has(m.id)) {
        counters.duplicates++;
        log(`${this.name}: message ${m.id} ${JSON.stringify(m.text)} was delivered twice`);
        continue;
      }
      this.seen.add(m.id);
      this.inbox.push(m);
    }
    this.cursor = String(r.body.cursor);
  }

  /** Takes all messages read so far. */
  take(): Message[] {
    return this.inbox.splice(0);
  }

  /**
   * Long-polls until a message `text` is readable and returns performance.now() at that moment. Any other message
   * before it is a failure (the loops here say nothing else).
   */
  async expect(text: string, timeoutMs = ROUND_TIMEOUT_MS): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => m.text === text);
      if (i >= 0) {
        const got = this.inbox.splice(0, i + 1);
        if (got.length > 1) throw new Error(`${this.name}: unexpected messages before ${JSON.stringify(text)}: ${JSON.stringify(got.slice(0, -1).map((m) => m.text))}`);
        return performance.now();
      }
      if (this.inbox.length > 0) throw new Error(`${this.name}: expected ${JSON.stringify(text)}, got ${JSON.stringify(this.inbox.map((m) => m.text))}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.name}: ${JSON.stringify(text)} was not readable within ${timeoutMs} ms (lost or very late message)`);
      await this.poll(Math.max(1, Math.min(10, Math.ceil(left / 1000))));
    }
  }

  /**
   * One interactive step: answer `answer` and wait for `next`. The long poll is opened before the POST (as a client
   * that always keeps one open), so the time is "POST until the message is readable", not a poll interval.
   */
  async step(answer: string, next: string): Promise<number> {
    const t0 = performance.now();
    const arrived = this.expect(next);
    arrived.catch(() => undefined); // awaited below; avoid an unhandled rejection while the POST is in flight
    await this.type(answer, 'answer');
    return (await arrived) - t0;
  }
}

export async function join(base: string, prefix: string, n: number): Promise<Player[]> {
  const players = Array.from({ length: n }, (_, i) => new Player(base, `${prefix}${i}`));
  // Sign-ins hash passwords (scrypt): a few at a time.
  for (let i = 0; i < n; i += 10) await Promise.all(players.slice(i, i + 10).map((p) => p.signIn()));
  return players;
}

// ---------------------------------------------------------------------------------------------------------------
// Scenarios

export interface PromptResult {
  promptP50Ms: number;
  promptP99Ms: number;
  promptMaxMs: number;
  promptSamples: number;
  /** Answers per second all players achieved together (with their think time). */
  promptRoundsPerSec: number;
  /** The mean think time used (an input, printed so the figures can be read). */
  promptThinkMs: number;
}

/** Prompt round trip with `players` concurrent players answering `count`. */
export async function prompt(a: GameArgs): Promise<PromptResult> {
  const n = a.players ?? 50;
  const warmup = a.warmup ?? 2;
  const rounds = a.rounds ?? 20;
  const thinkMs = a.thinkMs ?? 1000;
  const game = await startGame('prompt', a.env ?? {}, a.durableStore);
  try {
    const players = await join(game.base, 'pr', n);
    log(`prompt: ${n} players signed in; ${warmup} warm-up + ${rounds} measured rounds each, think ${thinkMs} ms +-50%`);
    const samples: number[] = [];
    const t0 = performance.now();
    await Promise.all(
      players.map(async (p, i) => {
        await sleep((i * Math.max(thinkMs, 100)) / n); // stagger the starts over one think time
        const first = p.expect('Round 1?');
        first.catch(() => undefined);
        await p.type('count', 'command');
        await first;
        for (let r = 1; r <= warmup + rounds; r++) {
          if (thinkMs > 0) await sleep(thinkMs * (0.5 + Math.random()));
          const ms = await p.step('go', `Round ${r + 1}?`);
          if (r > warmup) samples.push(ms);
        }
        await p.type('stop', 'answer');
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    log(`prompt: ${samples.length} measured round trips; ${n * (warmup + rounds)} answers in ${seconds.toFixed(1)} s`);
    return {
      promptP50Ms: round1(median(samples)),
      promptP99Ms: round1(percentile(samples, 99)),
      promptMaxMs: round1(Math.max(...samples)),
      promptSamples: samples.length,
      promptRoundsPerSec: round1((n * (warmup + rounds)) / seconds),
      promptThinkMs: thinkMs,
    };
  } finally {
    await game.stop();
  }
}

export interface CommandsResult {
  commandsPerSec: number;
  commandsCompleted: number;
  commandsLost: number;
  /** CPU time of the host process per command completed in the measured window (Linux; -1 elsewhere). */
  hostCpuMsPerCommand: number;
}

let ticksPerSecond: number | undefined;

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. Less sensitive
 * than a rate to other load on a shared machine, so A/B runs can compare what a change costs per command.
 */
export function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond; // utime, stime (fields 14, 15)
  } catch {
    return undefined;
  }
}

const FINAL = 'The final value is 500500';

/** Completed `asynccommand`s per second (message read by the player), `depth` in flight per player. */
export async function commands(a: GameArgs): Promise<CommandsResult> {
  const n = a.cmdPlayers ?? 50;
  const depth = a.depth ?? 2;
  const warmS = a.cmdWarmupS ?? 3;
  const measureS = a.cmdSeconds ?? 12;
  const game = await startGame('commands', a.env ?? {}, a.durableStore);
  try {
    const players = await join(game.base, 'cm', n);
    log(`commands: ${n} players x ${depth} asynccommand in flight; ${warmS} s warm-up, ${measureS} s measured`);
    const done: number[] = []; // performance.now() of each completion
    const t0 = performance.now();
    const tMeasure = t0 + warmS * 1000;
    const tEnd = tMeasure + measureS * 1000;
    let sent = 0;
    let got = 0;
    let lost = 0;
    let cpuAtStart: number | undefined;
    let cpuAtEnd: number | undefined;
    const marks = [
      setTimeout(() => (cpuAtStart = cpuMsOf(game.child.pid)), tMeasure - performance.now()),
      setTimeout(() => (cpuAtEnd = cpuMsOf(game.child.pid)), tEnd - performance.now()),
    ];
    await Promise.all(
      players.map(async (p) => {
        let mine = 0;
        let read = 0;
        let writing = true;
        let failed = false;
        const waiting: (() => void)[] = [];
        const wakeAll = (): void => waiting.splice(0).forEach((r) => r());
        const reader = (async () => {
          try {
            while ((writing || read < mine) && performance.now() < tEnd + 30_000 && !failed) {
              await p.poll(writing ? 5 : 2);
              const now = performance.now();
              for (const m of p.take()) {
                if (m.text !== FINAL) throw new Error(`${p.name}: unexpected message ${JSON.stringify(m.text)} while running asynccommand`);
                read++;
                got++;
                done.push(now);
              }
              wakeAll();
            }
          } catch (err) {
            failed = true;
            throw err;
          } finally {
            wakeAll();
          }
        })();
        const writers = Array.from({ length: depth }, async () => {
          try {
            while (performance.now() < tEnd && !failed) {
              if (mine - read >= depth) {
                await new Promise<void>((r) => waiting.push(r));
                continue;
              }
              mine++;
              sent++;
              await p.type('asynccommand', 'command');
            }
          } catch (err) {
            failed = true;
            throw err;
          }
        });
        const wrote = Promise.all(writers).finally(() => {
          writing = false;
        });
        await Promise.all([wrote, reader]);
        if (read < mine) {
          lost += mine - read;
          log(`${p.name}: ${mine - read} of ${mine} asynccommand results never became readable (30 s after the last command)`);
        }
      }),
    );
    for (const m of marks) clearTimeout(m);
    const inWindow = done.filter((t) => t >= tMeasure && t < tEnd).length;
    log(`commands: sent ${sent}, read ${got} results, ${inWindow} in the ${measureS} s window`);
    const cpu = cpuAtStart !== undefined && cpuAtEnd !== undefined && inWindow > 0 ? round1((cpuAtEnd - cpuAtStart) / inWindow) : -1;
    return { commandsPerSec: round1(inWindow / measureS), commandsCompleted: got, commandsLost: lost, hostCpuMsPerCommand: cpu };
  } finally {
    await game.stop();
  }
}

export interface LoopResult {
  boundedRound10Ms: number;
  boundedRound500Ms: number;
  boundedRatio: number;
  plainRound10Ms: number;
  plainRound500Ms: number;
  plainRatio: number;
  plainRounds: number;
}

/** Step latency of one player's `key` loop for `rounds` rounds (or until `budgetS`); latencies[r] = answer to round r. */
export async function runLoop(p: Player, key: string, rounds: number, budgetS: number): Promise<number[]> {
  const latencies: number[] = [];
  const first = p.expect('Round 1?');
  first.catch(() => undefined);
  await p.type(key, 'command');
  await first;
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    latencies[r] = await p.step('go', `Round ${r + 1}?`);
    if (r % 100 === 0) log(`${key}: round ${r}: ${latencies[r].toFixed(1)} ms (median of the last 11: ${median(latencies.slice(r - 10, r + 1)).toFixed(1)} ms)`);
    if (performance.now() - t0 > budgetS * 1000) {
      log(`${key}: stopped after round ${r}: the ${budgetS} s budget is used up`);
      break;
    }
  }
  await p.type('stop', 'answer');
  return latencies;
}

/** Median of latencies[from..to] that exist. */
const around = (lat: number[], from: number, to: number): number => median(lat.slice(from, to + 1).filter((x) => x !== undefined));

/** Step latency at round 10 and round 500 for the bounded (`countloop`) and plain (`count`) forms. */
export async function loops(a: GameArgs): Promise<LoopResult> {
  const bounded = a.boundedRounds ?? 505;
  const plain = a.plainRounds ?? 505;
  const game = await startGame('loop', a.env ?? {}, a.durableStore);
  try {
    const [pb, pp, pw] = await join(game.base, 'lp', 3);
    // Warm the host (JIT, connections, tables) with short runs of both forms, so "round 10" compares loop state
    // and not a cold process.
    await runLoop(pw, 'countloop', 30, 60);
    await runLoop(pw, 'count', 30, 60);
    const b = await runLoop(pb, 'countloop', bounded, 300);
    if (b.length - 1 < bounded) throw new Error(`countloop reached only round ${b.length - 1} of ${bounded} within its 300 s budget`);
    const p = await runLoop(pp, 'count', plain, a.plainBudgetS ?? 60);
    const pLast = p.length - 1;
    const b10 = around(b, 5, 15);
    const b500 = around(b, bounded - 10, bounded);
    const p10 = around(p, 5, 15);
    const p500 = around(p, pLast - 10, pLast);
    return {
      boundedRound10Ms: round1(b10),
      boundedRound500Ms: round1(b500),
      boundedRatio: Math.round((b500 / b10) * 100) / 100,
      plainRound10Ms: round1(p10),
      plainRound500Ms: round1(p500),
      plainRatio: Math.round((p500 / p10) * 100) / 100,
      plainRounds: pLast,
    };
  } finally {
    await game.stop();
  }
}

/** Runs the named scenario(s) and returns one flat record of numbers. */
export async function runGame(scenario: string, args: GameArgs): Promise<Record<string, number>> {
  const env = { ...(process.env.AzureWebJobsStorage ? { AzureWebJobsStorage: process.env.AzureWebJobsStorage } : {}), ...(args.env ?? {}) };
  const a = { ...args, env };
  const all = scenario === 'all';
  if (!all && !['prompt', 'commands', 'loop'].includes(scenario)) throw new Error(`unknown scenario ${JSON.stringify(scenario)}: use all, prompt, commands or loop`);
  const out: Record<string, number> = {};
  const t0 = performance.now();
  if (all || scenario === 'prompt') Object.assign(out, await prompt(a));
  if (all || scenario === 'commands') Object.assign(out, await commands(a));
  if (all || scenario === 'loop') Object.assign(out, await loops(a));
  Object.assign(out, counters);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return out;
}

// Child-process entry: `node game-scenarios.js <scenario> <json args>` prints one JSON line.
if (require.main === module) {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      process.stderr.write(`game-scenarios: ${signal}, stopping the devhost\n`);
      process.exit(1); // the 'exit' handler kills the devhost
    });
  }
  const [scenario, argText] = process.argv.slice(2);
  let args: GameArgs;
  try {
    args = JSON.parse(argText ?? '{}') as GameArgs;
  } catch (err) {
    process.stderr.write(`game-scenarios: the second argument must be JSON: ${String(err)}\n`);
    process.exit(2);
  }
  runGame(scenario ?? 'all', args)
    .then((r) => {
      for (const [k, v] of Object.entries(r)) if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`figure ${k} is not a finite number: ${String(v)}`);
      process.stdout.write(JSON.stringify(r) + '\n');
    })
    .then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`game-scenarios ${scenario} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exit(1);
      },
    );
}

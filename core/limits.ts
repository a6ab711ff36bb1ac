// Per-player limits, each with an answer the player can act on: lines per second on /api/input (a token bucket),
// live tasks and running interactive commands (caps counted from the Durable instance listing), and the longest
// delay. The shared state is a row per player and limit (allowance.ts); what a process holds is only a borrowed slice.
import type { DurableClient } from 'durable-functions';
import { Allowance, GRANT_MS, type Pool } from './allowance';
import { toMillis } from './duration';
import { GameError, type ErrorCode } from './errors';
import { countLive } from './instances';
import type { InstanceKind } from './names';
import { settings } from './settings';
import type { TaskStart } from './steps';

/** Codes of the limits: a plain command that lets one escape answers /api/input with it (see router.ts). */
export const LIMIT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['rate_limited', 'too_many_tasks', 'too_many_commands', 'delay_too_long']);

interface Bucket {
  /** Tokens left at `at` (ms). */
  t: number;
  at: number;
}

/** The token bucket of one player's lines: GAME_INPUT_BURST tokens, refilled at GAME_INPUT_RATE a second. */
const inputPool: Pool<Bucket> = {
  name: 'input',
  maxSlice: 20,
  refuseOnFreshRow: false,
  async borrow({ state, want, nowMs }) {
    const rate = settings.inputRate();
    const burst = settings.inputBurst();
    const tokens = state ? Math.min(burst, state.t + (Math.max(0, nowMs - state.at) * rate) / 1000) : burst;
    if (tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - tokens) / rate));
      throw new GameError(
        'rate_limited',
        `You are sending lines faster than this game accepts (${rate} a second, ${burst} at once); that line was not run. Wait ${wait} s, then send it again.`,
        { retryAfterSeconds: wait },
      );
    }
    // At most half the burst: what an instance holds is on top of what the bucket refills meanwhile.
    const grant = Math.max(1, Math.min(want, Math.floor(tokens), Math.floor(burst / 2)));
    return { grant, state: { t: tokens - grant, at: nowMs } };
  },
};

interface LiveCount {
  /** Live instances at the last recount (null: never counted). */
  base: number | null;
  /** Slices borrowed since: [id, units, counted until (ms), 1 when reported finished]. */
  g: [string, number, number, 0 | 1][];
}

/**
 * A cap on live instances of some kinds. Between recounts the row holds the count at the last one plus every slice
 * borrowed since; a recount (when that sum reaches the cap) lists the live instances by id prefix and keeps only the
 * slices whose starts a listing may not show yet (not reported finished, borrowed less than GRANT_MS ago).
 */
function capPool(name: string, kinds: InstanceKind[], cap: () => number, refuse: (live: number, starting: number, cap: number) => GameError): Pool<LiveCount, DurableClient> {
  return {
    name,
    maxSlice: 20,
    refuseOnFreshRow: true,
    async borrow({ player, state, want, grantId, previous, nowMs, ctx }) {
      const max = cap();
      let grants = (state?.g ?? []).map((g) => (previous && g[0] === previous.id ? ([g[0], previous.used, g[2], previous.finished ? 1 : 0] as LiveCount['g'][number]) : g)).filter((g) => g[1] > 0);
      let base = state?.base ?? null;
      const upper = (b: number): number => b + grants.reduce((n, g) => n + g[1], 0);
      if (base === null || upper(base) + 1 > max) {
        base = await countLive(ctx, player, kinds);
        grants = grants.filter((g) => g[3] === 0 && g[2] > nowMs);
        if (upper(base) + 1 > max) throw refuse(base, upper(base) - base, max);
      }
      const grant = Math.max(1, Math.min(want, Math.floor((max - upper(base)) / 2)));
      grants.push([grantId, grant, nowMs + GRANT_MS, 0]);
      return { grant, state: { base, g: grants } };
    },
  };
}

const starting = (n: number): string => (n > 0 ? ` (and ${n} being started)` : '');

const tasksPool = capPool('tasks', ['delay', 'async'], settings.maxTasksPerPlayer, (live, n, max) =>
  new GameError(
    'too_many_tasks',
    `You have ${live} delays and background jobs waiting or running${starting(n)}; one player may have at most ${max}. ` +
      'Cancel one ("tasks <id> cancel", or POST /api/tasks/<id>/cancel) or wait until one finishes, then try again.',
  ),
);

const commandsPool = capPool('cmds', ['cmd'], settings.maxCommandsPerPlayer, (live, n, max) =>
  new GameError(
    'too_many_commands',
    `You have ${live} commands running that wait for time or for your answer${starting(n)}; one player may have at most ${max}. ` +
      'Answer or finish one first (GET /api/prompts shows what you are being asked), then try again.',
  ),
);

const lines = new Allowance(inputPool);
const tasks = new Allowance(tasksPool);
const commands = new Allowance(commandsPool);

/**
 * Takes one line from `player`'s bucket; throws GameError('rate_limited') with retryAfterSeconds when it is empty.
 *
 * @example
 * await admitLine('alice');
 */
export async function admitLine(player: string): Promise<void> {
  await lines.take(player, undefined);
}

/**
 * Admits one more live instance of `player` (a task, or an interactive command); throws too_many_tasks /
 * too_many_commands at the cap. Call the returned function once the instance was created (or failed to be).
 *
 * @example
 * const created = await admitStart(client, 'alice', 'task');
 * try { await client.startNew(...) } finally { created() }
 */
export function admitStart(client: DurableClient, player: string, what: 'task' | 'command'): Promise<() => void> {
  return (what === 'task' ? tasks : commands).take(player, client);
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms >= size && (ms % size === 0 || size === 1000)) {
      const n = Math.round((ms / size) * 10) / 10;
      return `${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

/**
 * Refuses a task that would wait longer than GAME_MAX_DELAY_SECONDS: a delay's length, or a runAsync retry's longest
 * wait (its maxDelay; without one a retry waits at most an hour). Checked where the task starts, never in
 * orchestrator code (where a changed setting would break the replay of instances already running).
 *
 * @example
 * checkWaits({ kind: 'delay', player: 'alice', command: 'remind', callback: 'remind', args: [], ms: 60_000 });
 */
export function checkWaits(task: TaskStart): void {
  const maxMs = settings.maxDelaySeconds() * 1000;
  const [what, ms] = task.kind === 'delay' ? ['A delay of', task.ms] : ['A retry wait of', task.retry?.maxDelay === undefined ? 0 : toMillis(task.retry.maxDelay)];
  if (ms > maxMs) {
    throw new GameError('delay_too_long', `${what} ${describeMs(ms)} is longer than this game allows (${describeMs(maxMs)}); use a shorter one.`);
  }
}

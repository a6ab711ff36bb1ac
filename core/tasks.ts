// Task handles and the two ways to start a task: delay() (a durable timer, then a callback) and runAsync()
// (a background function with success and failure callbacks), as in Evennia's utils.delay / run_async.
import { toMillis, type Duration } from './duration';
import { GameError, type ErrorCode } from './errors';
import { assertJson, type Json } from './json';
import type { ControlOp } from './names';
import type { TaskProgress } from './progress';
import { resolveCallback, type CallbackRef } from './registry';
import { Step, type RetryPolicy, type Runtime, type StepSpec, type TaskStart } from './steps';
import type { Cmd } from './context';

/** The two kinds of task: a delay (timer, then callback) or a runAsync background job. */
export type TaskKind = 'delay' | 'async';

/** Where a task is in its life. */
export type TaskState = 'waiting' | 'paused' | 'running' | 'fired' | 'cancelled' | 'completed' | 'failed' | 'terminated' | 'unknown';

/** A task as /api/tasks and handle.info() report it. */
export interface TaskInfo {
  id: string;
  kind: TaskKind;
  /** The callback (delay) or function (runAsync). */
  callback: string;
  /** The command that started it. */
  command: string;
  state: TaskState;
  createdAt: string;
  /** Delays: when the callback runs (absent while paused). */
  fireAt?: string;
  /** Delays: seconds left (frozen while paused). */
  remaining?: number;
  /** Finished tasks: the callback's result, or the error text. */
  result?: Json;
  error?: string;
  /** Running background jobs: the latest ctx.progress() of the function (fraction 0..1, note, when). */
  progress?: TaskProgress;
}

/**
 * A handle on a delay or background task, like Evennia's TaskHandlerTask. Each method is a Step:
 * `await` it in plain commands and callbacks, `yield` it in interactive commands. Ids are never reused.
 *
 * @example
 * const task = await delay(cmd, 60, 'remind', ['Tea is ready']);
 * await task.pause();            // freezes the remaining time
 * const left = await task.remaining();
 */
export class TaskHandle {
  constructor(
    readonly id: string,
    readonly player: string,
    private readonly runtime: Runtime,
  ) {}

  private control(op: ControlOp): Step<boolean> {
    return new Step({ kind: 'control', player: this.player, id: this.id, op }, this.runtime, (raw) => raw === 'sent');
  }

  /** Ends the task without running its callback. True when the request was sent; false if it already finished. */
  cancel(): Step<boolean> {
    return this.control('cancel');
  }
  /** Freezes a delay's remaining time (Evennia only holds the callback; we stop the clock). */
  pause(): Step<boolean> {
    return this.control('pause');
  }
  /** Restarts a paused delay with the time it had left. */
  unpause(): Step<boolean> {
    return this.control('unpause');
  }
  /** Runs a delay's callback now and ends the task (Evennia's do_task). */
  doTask(): Step<boolean> {
    return this.control('fire');
  }
  /**
   * Runs a delay's callback now and keeps the task waiting with the time it had (Evennia's TaskHandlerTask.call): it
   * still fires later. True when the request was sent; the callback's result is not returned (it runs in the task).
   */
  call(): Step<boolean> {
    return this.control('call');
  }
  /** Everything known about the task. */
  info(): Step<TaskInfo> {
    return new Step({ kind: 'info', player: this.player, id: this.id }, this.runtime, (raw) => raw as TaskInfo);
  }
  /** True while the task can still run its callback (waiting, paused or running). */
  exists(): Step<boolean> {
    return new Step({ kind: 'info', player: this.player, id: this.id }, this.runtime, (raw) => ['waiting', 'paused', 'running'].includes((raw as TaskInfo).state));
  }
  /** True while a delay counts down or a background job runs (false when paused or finished). */
  active(): Step<boolean> {
    return new Step({ kind: 'info', player: this.player, id: this.id }, this.runtime, (raw) => ['waiting', 'running'].includes((raw as TaskInfo).state));
  }
  /** Seconds until a delay fires (frozen while paused); null when it is not pending. */
  remaining(): Step<number | null> {
    return new Step({ kind: 'info', player: this.player, id: this.id }, this.runtime, (raw) => (raw as TaskInfo).remaining ?? null);
  }

  toJSON(): { id: string } {
    return { id: this.id };
  }
}

/** The most tasks listTasks() returns (a player's live ones never exceed GAME_MAX_TASKS_PER_PLAYER, at most 1000). */
export const MAX_LISTED_TASKS = 2000;

/**
 * The player's live tasks and those finished within a day, newest first (what GET /api/tasks shows): at most
 * `limit` (default 50; inside interactive() always 50).
 *
 * @example
 * for (const t of await listTasks(cmd)) caller.msg(`${t.id} ${t.state}`);
 */
export function listTasks(cmd: Cmd, options: { limit?: number } = {}): Step<TaskInfo[]> {
  const { limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LISTED_TASKS)) {
    throw new GameError('invalid_body', `listTasks() limit ${String(limit)} must be an integer from 1 to ${MAX_LISTED_TASKS}.`);
  }
  return new Step(limit === undefined ? { kind: 'list', player: cmd.player } : { kind: 'list', player: cmd.player, limit }, cmd.runtime, (raw) => raw as TaskInfo[]);
}

/**
 * Starts an interactive (or loop) command for the player as if they had typed `key args`, e.g. from a callback:
 * its questions stack on top of any open prompt (the newest prompt gets the next line). Returns the instance id.
 *
 * @example
 * export const offer = callback('offer', async (ctx) => { await startCommand(ctx, 'trade'); });
 */
export function startCommand(cmd: Cmd, key: string, args = ''): Step<string> {
  if (typeof key !== 'string' || typeof args !== 'string') throw new GameError('invalid_body', 'startCommand(cmd, key, args) takes strings.');
  return new Step({ kind: 'command', player: cmd.player, key, args }, cmd.runtime, (raw) => unlessRefused(raw) as string);
}

/**
 * A start inside interactive() runs in the startTask activity, which answers a limit (too_many_tasks, ...) with
 * `{refused}` instead of failing (a failure would be retried); here it becomes the GameError the generator can catch.
 */
function unlessRefused(raw: unknown): unknown {
  const refused = (raw as { refused?: { code: ErrorCode; message: string } } | null)?.refused;
  if (refused) throw new GameError(refused.code, refused.message);
  return raw;
}

const handleFor = (cmd: Cmd) => (raw: unknown, runtime: Runtime) => new TaskHandle((unlessRefused(raw) as { id: string }).id, cmd.player, runtime);

function startStep(cmd: Cmd, task: TaskStart): Step<TaskHandle> {
  const spec: StepSpec = { kind: 'start', task };
  return new Step(spec, cmd.runtime, handleFor(cmd));
}

/**
 * Runs `callback(ctx, ...args)` after `seconds` (a number, or "10s", "5m", "7d"), durably: it survives restarts
 * and scale-out. Returns a TaskHandle. The callback must be registered with callback() and `args` must be plain
 * JSON; both are checked here, at the call site.
 *
 * @example
 * // plain command
 * const task = await delay(cmd, 10, 'sayTest', []);
 * // interactive command
 * const task = yield* delay(cmd, 10, sayTest, []);
 */
export function delay<A extends Json[]>(cmd: Cmd, seconds: Duration, callback: CallbackRef<A>, args: A = [] as unknown as A): Step<TaskHandle> {
  const ms = toMillis(seconds, 'delay()');
  const name = resolveCallback(callback, 'delay()');
  assertJson(args, 'delay() args', cmd.key);
  if (!Array.isArray(args)) throw new GameError('not_plain_json', `delay() args must be an array of plain JSON values, got ${typeof args}.`);
  return startStep(cmd, { kind: 'delay', player: cmd.player, command: cmd.key, callback: name, args, ms });
}

/** Options of runAsync(), after Evennia's reserved kwargs. */
export interface RunAsyncOptions {
  /** Called as atReturn(ctx, result, atReturnKwargs) when fn succeeds. */
  atReturn?: CallbackRef;
  atReturnKwargs?: { [key: string]: Json };
  /** Called as atErr(ctx, error, atErrKwargs) when fn, or atReturn, fails. */
  atErr?: CallbackRef;
  atErrKwargs?: { [key: string]: Json };
  /** Retry fn with backoff before giving up. */
  retry?: RetryPolicy;
}

/**
 * Runs `fn(ctx, ...args)` in the background (a Durable activity), then atReturn with its result or atErr with the
 * error (also when atReturn fails, as in Evennia). Without atErr a default errback logs the failure with the
 * instance id, function and player, tells the player, and the task's status shows the failure.
 *
 * @example
 * await runAsync(cmd, 'longRunning', [], { atReturn: 'showResult', atErr: 'showError' });
 */
export function runAsync<A extends Json[]>(cmd: Cmd, fn: CallbackRef<A>, args: A = [] as unknown as A, options: RunAsyncOptions = {}): Step<TaskHandle> {
  const task: TaskStart = { kind: 'async', player: cmd.player, command: cmd.key, fn: resolveCallback(fn, 'runAsync()'), args };
  assertJson(args, 'runAsync() args', cmd.key);
  if (!Array.isArray(args)) throw new GameError('not_plain_json', `runAsync() args must be an array of plain JSON values, got ${typeof args}.`);
  if (options.atReturn !== undefined) task.atReturn = resolveCallback(options.atReturn, 'runAsync() atReturn');
  if (options.atErr !== undefined) task.atErr = resolveCallback(options.atErr, 'runAsync() atErr');
  if (options.atReturnKwargs !== undefined) {
    assertJson(options.atReturnKwargs, 'runAsync() atReturnKwargs', cmd.key);
    task.atReturnKwargs = options.atReturnKwargs;
  }
  if (options.atErrKwargs !== undefined) {
    assertJson(options.atErrKwargs, 'runAsync() atErrKwargs', cmd.key);
    task.atErrKwargs = options.atErrKwargs;
  }
  if (options.retry !== undefined) {
    const r = options.retry;
    if (!Number.isInteger(r.attempts) || r.attempts < 1 || r.attempts > 100) {
      throw new GameError('invalid_body', `runAsync() retry.attempts ${String(r.attempts)} must be an integer from 1 to 100.`);
    }
    toMillis(r.firstDelay, 'runAsync() retry.firstDelay');
    if (r.maxDelay !== undefined) toMillis(r.maxDelay, 'runAsync() retry.maxDelay');
    if (r.backoff !== undefined && !(Number.isFinite(r.backoff) && r.backoff >= 1)) {
      throw new GameError('invalid_body', `runAsync() retry.backoff ${String(r.backoff)} must be a number >= 1.`);
    }
    task.retry = { ...r };
  }
  return startStep(cmd, task);
}

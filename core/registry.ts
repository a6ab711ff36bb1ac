// The registry of commands and callbacks that game code declares at load time with command(), interactive(),
// loop() and callback(). functions/ registers one Durable activity per callback from it; nothing here is state.
import type { Caller, Cmd } from './context';
import { GameError } from './errors';
import type { Json } from './json';
import { CALLBACK_ACTIVITY_PREFIX } from './names';

/**
 * What `yield` evaluates to inside interactive(): the answer for `yield "question"`, undefined for `yield 5`, the
 * task's result for a Durable task. Typed `any` so Evennia's `answer = yield "question"` reads naturally; use
 * `yield* ask(...)` / `yield* sleep(...)` / `yield* delay(...)` for precise types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type YieldResult = any;

/** A plain command body: runs inline in the HTTP request. */
export type PlainCommand = (caller: Caller, args: string, cmd: Cmd) => void | Promise<void>;

/** An interactive command body: a generator that may `yield` seconds, questions, steps or Durable tasks. */
export type InteractiveBody<R = unknown> = (caller: Caller, args: string, cmd: Cmd) => Generator<unknown, R, YieldResult>;

/** A command body marked by interactive(): runs as a `command` orchestration. */
export interface Interactive<R = unknown> {
  readonly kind: 'interactive';
  readonly body: InteractiveBody<R>;
}

/** What one round of a loop() returns: go on with a new state, or stop with a result. */
export type LoopNext<S extends Json> = { readonly again: S } | { readonly stop: Json };

/** A long interactive loop whose state is explicit: each round runs in a fresh orchestration history. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Loop<S extends Json = any> {
  readonly kind: 'loop';
  readonly start: (args: string, caller: Caller) => S;
  readonly round: (caller: Caller, state: S, cmd: Cmd) => Generator<unknown, LoopNext<S>, YieldResult>;
}

/** Options of command(). */
export interface CommandOptions {
  aliases?: string[];
  /** One or more lines shown by `help` and GET /api/commands. */
  help?: string;
  /** Hidden commands run but are not listed. */
  hidden?: boolean;
}

/** A registered command. */
export interface CommandDef {
  readonly key: string;
  readonly aliases: readonly string[];
  readonly help: string;
  readonly hidden: boolean;
  readonly func: PlainCommand | Interactive | Loop;
}

/** What a callback receives first: the context of the player whose task runs, plus the task id. */
export interface CallbackContext extends Cmd {
  /** The delay or runAsync instance running this callback. */
  readonly taskId: string;
  /** Writes to the function log with the task id and player. */
  log(message: string): void;
  /**
   * Inside the function a runAsync() runs: records how far it is (`fraction` from 0 to 1, and a short note), shown
   * by /api/tasks and the operator page while the job runs. Cheap to call often: at most one value a second is
   * written, and the last one when the function returns. Elsewhere (delay callbacks, atReturn, atErr) it throws
   * wrong_context.
   *
   * @example
   * ctx.progress(i / steps, `${i} of ${steps} done`);
   */
  progress(fraction: number, note?: string): void;
}

/** A callback body. Arguments and result must be plain JSON. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CallbackFn<A extends unknown[] = any[]> = (ctx: CallbackContext, ...args: A) => unknown;

/** A registered callback, as returned by callback(). Pass it (or its name) to delay() / runAsync(). */
export interface Callback<A extends unknown[] = unknown[]> {
  readonly name: string;
  /** The Durable activity that runs it. */
  readonly activity: string;
  /** @internal carries the argument types. */
  readonly __args?: A;
}

/** A callback by value or by name. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CallbackRef<A extends unknown[] = any[]> = string | Callback<A>;

const commands = new Map<string, CommandDef>();
const byName = new Map<string, CommandDef>();
const callbacks = new Map<string, { ref: Callback; fn: CallbackFn }>();
let sealed = false;

const KEY = /^[a-z@+?][a-z0-9_@+.-]{0,31}$/;
const CALLBACK_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function checkOpen(what: string): void {
  if (sealed) {
    throw new GameError(
      'bad_registration',
      `${what} was registered after the function app started; register commands and callbacks at module load (top level of a game/ file imported by game/index.ts).`,
    );
  }
}

/**
 * Declares a command players can type: `key args...` (case-insensitive, also by alias). A plain `func` runs inline
 * in the HTTP request; an interactive() or loop() one runs as a Durable orchestration.
 *
 * @example
 * command('look', (caller) => caller.msg('You see a quiet room.'), { help: 'Look around.' });
 * command('waitloop', interactive(function* (caller) { yield 5; caller.msg('Now 5 seconds have passed.'); }));
 */
export function command(key: string, func: PlainCommand | Interactive | Loop, options: CommandOptions = {}): CommandDef {
  checkOpen(`command('${key}')`);
  const names = [key, ...(options.aliases ?? [])].map((n) => n.toLowerCase());
  for (const name of names) {
    if (!KEY.test(name)) throw new GameError('bad_registration', `Command name ${JSON.stringify(name)} is not allowed: use 1-32 of a-z, 0-9, _ @ + . - (starting with a letter, @ or +).`);
    const taken = byName.get(name);
    if (taken) throw new GameError('bad_registration', `Command name '${name}' is already used by command '${taken.key}'.`);
  }
  if (typeof func !== 'function' && !(func && (func.kind === 'interactive' || func.kind === 'loop'))) {
    throw new GameError('bad_registration', `command('${key}') needs a function, interactive(function* ...) or loop({...}).`);
  }
  if (typeof func === 'function' && func.constructor.name === 'GeneratorFunction') {
    throw new GameError('bad_registration', `command('${key}') got a bare generator function: wrap it as interactive(function* (caller, args) { ... }).`);
  }
  const def: CommandDef = { key: names[0], aliases: names.slice(1), help: options.help ?? '', hidden: options.hidden ?? false, func };
  commands.set(def.key, def);
  for (const name of names) byName.set(name, def);
  return def;
}

/**
 * Marks a generator as an interactive command body, Evennia's @interactive: `yield <seconds>` waits,
 * `answer = yield "question"` asks the player, `yield <Durable task>` passes it through, `return value` ends it.
 *
 * @example
 * command('waitloop', interactive(function* (caller) {
 *   caller.msg('Getting ready to wait ...');
 *   yield 5;
 *   const answer = yield 'Do you want to wait another 5 secs?';
 * }));
 */
export function interactive<R>(body: InteractiveBody<R>): Interactive<R> {
  if (typeof body !== 'function') throw new GameError('bad_registration', 'interactive() takes a generator function: interactive(function* (caller, args) { ... }).');
  return { kind: 'interactive', body };
}

/**
 * An interactive loop for many rounds: `start` makes the first state, each `round` is an interactive generator that
 * returns again(nextState) or stop(result). Between rounds the orchestration continues-as-new, so its history (and
 * replay cost) stays bounded however many rounds run. State must be plain JSON.
 *
 * @example
 * command('train', loop({
 *   start: () => ({ round: 1 }),
 *   *round(caller, state) {
 *     const answer = yield `Round ${state.round}: again?`;
 *     return answer === 'yes' ? again({ round: state.round + 1 }) : stop(state.round);
 *   },
 * }));
 */
export function loop<S extends Json>(spec: { start: (args: string, caller: Caller) => S; round: Loop<S>['round'] }): Loop<S> {
  if (typeof spec?.start !== 'function' || typeof spec.round !== 'function') {
    throw new GameError('bad_registration', 'loop() takes { start(args, caller) { return state }, *round(caller, state, cmd) { ... return again(state) or stop(result) } }.');
  }
  return { kind: 'loop', start: spec.start, round: spec.round };
}

/**
 * Continues a loop() with the next round's state.
 *
 * @example
 * return again({ round: state.round + 1 });
 */
export function again<S extends Json>(state: S): LoopNext<S> {
  return { again: state };
}

/**
 * Ends a loop() with a result (the orchestration's output).
 *
 * @example
 * return stop('done');
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function stop(result: Json = null): LoopNext<any> {
  return { stop: result };
}

/**
 * Registers a named callback that delay() and runAsync() can run later, on any instance, after restarts: it runs as
 * the Durable activity `cb_<name>`. It receives a CallbackContext (msg the player, tell anyone, start more tasks)
 * and the plain-JSON arguments it was scheduled with; its return value (plain JSON) is the task's result.
 *
 * @example
 * export const sayTest = callback('sayTest', (ctx) => ctx.caller.msg('Test!'));
 * // later, in a command:
 * await delay(cmd, 10, sayTest, []);
 */
export function callback<A extends unknown[]>(name: string, fn: CallbackFn<A>): Callback<A> {
  checkOpen(`callback('${name}')`);
  if (!CALLBACK_NAME.test(name)) throw new GameError('bad_registration', `Callback name ${JSON.stringify(name)} is not allowed: use a letter then up to 63 letters, digits or '_'.`);
  if (callbacks.has(name)) throw new GameError('bad_registration', `A callback named '${name}' is already registered.`);
  if (typeof fn !== 'function') throw new GameError('bad_registration', `callback('${name}', fn) needs a function.`);
  const ref: Callback<A> = Object.freeze({ name, activity: `${CALLBACK_ACTIVITY_PREFIX}${name}` });
  callbacks.set(name, { ref, fn: fn as CallbackFn });
  return ref;
}

/**
 * The registered name of a callback reference; throws GameError('unknown_callback') naming it otherwise.
 *
 * @example
 * resolveCallback('sayTest', 'delay()') // "sayTest"
 */
export function resolveCallback(ref: CallbackRef, where: string): string {
  const name = typeof ref === 'string' ? ref : typeof ref === 'object' && ref !== null ? ref.name : undefined;
  if (typeof name !== 'string' || !callbacks.has(name)) {
    const shown = typeof ref === 'function' ? `a function${(ref as { name?: string }).name ? ` (${(ref as { name: string }).name})` : ''}` : JSON.stringify(name ?? ref);
    const known = [...callbacks.keys()].sort().join(', ') || 'none';
    throw new GameError(
      'unknown_callback',
      `${where} got ${shown}, which is not a registered callback. Register it once at load time with callback('name', fn) and pass the result or its name ` +
        `(a closure cannot survive a restart). Registered: ${known}.`,
    );
  }
  return name;
}

/** The registered callback body, by name. */
export function callbackBody(name: string): CallbackFn | undefined {
  return callbacks.get(name)?.fn;
}

/** All registered callbacks. */
export function allCallbacks(): Callback[] {
  return [...callbacks.values()].map((c) => c.ref);
}

/** The command for a typed key or alias (case-insensitive). */
export function findCommand(name: string): CommandDef | undefined {
  return byName.get(name.toLowerCase());
}

/** All commands, sorted by key. */
export function allCommands(): CommandDef[] {
  return [...commands.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** Refuses registrations from now on (called once the function app has registered everything). */
export function sealRegistry(): void {
  sealed = true;
}

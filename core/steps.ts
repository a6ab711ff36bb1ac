// Steps: the operations a command performs that outlive a call (sleep, ask, start a task, control a task).
// One value serves both worlds: `await` it in plain commands and callbacks, `yield` it inside interactive().
import type { DurableOrchestrationContext } from 'durable-functions';
import { toMillis, type Duration } from './duration';
import { GameError } from './errors';
import { assertJson, type Json } from './json';
import type { ControlOp } from './names';

/** Starting a delay or a background job. */
export type TaskStart =
  | { kind: 'delay'; player: string; command: string; callback: string; args: Json[]; ms: number }
  | {
      kind: 'async';
      player: string;
      command: string;
      fn: string;
      args: Json[];
      atReturn?: string;
      atReturnKwargs?: { [key: string]: Json };
      atErr?: string;
      atErrKwargs?: { [key: string]: Json };
      retry?: RetryPolicy;
    };

/** Retries of a runAsync function, with exponential backoff (Durable's RetryOptions). */
export interface RetryPolicy {
  /** Total attempts, including the first (>= 1). */
  attempts: number;
  /** Wait before the first retry. */
  firstDelay: Duration;
  /** Multiplier applied to the wait after each retry (default 2). */
  backoff?: number;
  /** Upper bound of one wait (default 1 hour). */
  maxDelay?: Duration;
}

/** The wire form of a step: plain JSON, so activities can carry it. */
export type StepSpec =
  | { kind: 'sleep'; ms: number }
  | { kind: 'ask'; question: string; timeoutMs?: number; default?: Json }
  | { kind: 'start'; task: TaskStart }
  | { kind: 'control'; player: string; id: string; op: ControlOp }
  | { kind: 'info'; player: string; id: string }
  | { kind: 'list'; player: string; limit?: number }
  | { kind: 'command'; player: string; key: string; args: string };

/** Executes steps outside orchestrations (HTTP functions, activities). */
export interface Runtime {
  readonly where: 'client' | 'orchestration';
  run(spec: StepSpec): Promise<unknown>;
}

const STEP = Symbol.for('evennia-durable.step');

/**
 * A durable operation. `await step` runs it in a plain command or a callback; `yield step` (or `yield* step` for a
 * typed result) runs it inside interactive().
 */
export class Step<T> implements PromiseLike<T> {
  readonly [STEP] = true;

  constructor(
    readonly spec: StepSpec,
    private readonly runtime: Runtime | undefined,
    private readonly finishWith: (raw: unknown, runtime: Runtime) => T,
  ) {}

  /** Turns the raw result of the spec into the step's value (used by both runtimes). */
  finish(raw: unknown, runtime: Runtime): T {
    return this.finishWith(raw, runtime);
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    return this.execute().then(onFulfilled, onRejected);
  }

  private async execute(): Promise<T> {
    const runtime = this.runtime;
    if (!runtime || runtime.where === 'orchestration') {
      throw new GameError(
        'wrong_context',
        runtime
          ? `A ${this.spec.kind} step was awaited inside interactive(); write \`yield step\` (or \`const x = yield* step\`) there instead of await.`
          : `${this.spec.kind}() only works inside interactive(): write \`yield ${this.spec.kind === 'sleep' ? 'sleep(5)' : 'ask("question?")'}\` in a generator command. In a plain command use delay(cmd, seconds, callback, args).`,
      );
    }
    return this.finish(await runtime.run(this.spec), runtime);
  }

  /** `const x = yield* step` gives a typed result inside interactive(). */
  *[Symbol.iterator](): Generator<Step<T>, T, unknown> {
    return (yield this) as T;
  }
}

/** True for a Step (matched by symbol, so two copies of this module still agree). */
export function isStep(value: unknown): value is Step<unknown> {
  return typeof value === 'object' && value !== null && (value as { [STEP]?: unknown })[STEP] === true;
}

/**
 * Pauses an interactive command for a while (the same as `yield seconds`).
 *
 * @example
 * yield* sleep('5m');
 */
export function sleep(duration: Duration): Step<void> {
  return new Step({ kind: 'sleep', ms: toMillis(duration, 'sleep()') }, undefined, () => undefined);
}

/** Options of ask(). */
export interface AskOptions<D extends Json> {
  /** Stop waiting after this long; the prompt closes and ask() returns `default`. */
  timeout?: Duration;
  /** What ask() returns on timeout (default null). */
  default?: D;
}

/**
 * Asks the player a question and waits for their next line (the same as `yield "question"`, plus a timeout).
 * On timeout it returns `options.default` (null if not given) and the prompt closes.
 *
 * @example
 * const answer = yield* ask('Continue? (yes/no)', { timeout: '30s', default: 'no' });
 */
export function ask<D extends Json = null>(question: string, options: AskOptions<D> = {}): Step<string | D> {
  if (typeof question !== 'string') throw new GameError('bad_yield', `ask() takes a question string, got ${typeof question}.`);
  const spec: StepSpec = { kind: 'ask', question };
  if (options.timeout !== undefined) spec.timeoutMs = toMillis(options.timeout, 'ask() timeout');
  if (options.default !== undefined) {
    assertJson(options.default, 'ask() default');
    spec.default = options.default;
  }
  return new Step<string | D>(spec, undefined, (raw) => raw as string | D);
}

/** The Durable context of an interactive command, for yielding Durable tasks directly. */
export type DurableContext = DurableOrchestrationContext;

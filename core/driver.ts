// The interactive driver: steps a game developer's generator inside a Durable orchestrator, turning each yield into
// Durable work. Runs inside orchestrators, so it must be deterministic (lint forbids clocks, randomness, timers, I/O):
// time comes from df.currentUtcDateTime, ids from the instance id and counters, and all I/O goes through activities.
import * as df from 'durable-functions';
import type { DurableOrchestrationContext, Task, TimerTask } from 'durable-functions';
import { CommandContext, type Caller } from './context';
import { MAX_DURATION_MS } from './duration';
import { GameError } from './errors';
import { whyNotJson, type Json } from './json';
import { answerEvent, CLAIM_TAKEOVER_MS, fn } from './names';
import type { BatchId, OutMessage } from './outbox';
import type { ExpireOutcome, NewPrompt } from './prompts';
import { isStep, type Runtime, type StepSpec } from './steps';

/** Input of the internal `deliver` activity: messages to write and prompts to open or close, in one call. */
export interface DeliverInput {
  /** `at` is the orchestration's time: the same on every retry of the activity. */
  batch: BatchId;
  messages: OutMessage[];
  openPrompt?: NewPrompt;
  closePrompts?: { player: string; promptId: string }[];
}

/** Undelivered messages and prompt closes carried from one loop generation to the next. */
export interface Carry {
  messages: OutMessage[];
  closePrompts: string[];
}

/** Flush sequence numbers per generation, so batches of later generations sort after earlier ones. */
const SEQ_PER_GENERATION = 1_000_000;

/** Steps inside an orchestration are executed by the driver, never awaited. */
export const orchestrationRuntime: Runtime = {
  where: 'orchestration',
  run(spec: StepSpec): Promise<unknown> {
    return Promise.reject(new GameError('wrong_context', `A ${spec.kind} step was awaited inside interactive(); yield it instead.`));
  },
};

/** Retries for the driver's own activities (storage hiccups), not for user callbacks. */
function internalRetry(): df.RetryOptions {
  const retry = new df.RetryOptions(500, 5);
  retry.backoffCoefficient = 2;
  return retry;
}

function isDurableTask(value: unknown): value is Task {
  return typeof value === 'object' && value !== null && 'stateObj' in value && 'isFaulted' in value && 'actionObj' in value;
}

function describeYield(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function') return 'a Promise';
  try {
    return `${typeof value} ${JSON.stringify(value)?.slice(0, 80) ?? String(value)}`;
  } catch {
    return typeof value;
  }
}

/** The expirePrompt activity's result; histories from before it returned objects hold the bare state. */
function expireOutcome(raw: unknown): ExpireOutcome {
  if (typeof raw === 'string') return { state: raw === 'claimed' || raw === 'gone' ? raw : 'expired' };
  return raw as ExpireOutcome;
}

function answerText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (raw && typeof raw === 'object' && typeof (raw as { text?: unknown }).text === 'string') return (raw as { text: string }).text;
  return raw === undefined || raw === null ? '' : String(raw);
}

/**
 * The I/O side of one orchestration episode: buffers messages (via the CommandContext), opens and closes prompts,
 * and flushes everything through the `deliver` activity before each wait.
 *
 * @example
 * const io = new InteractiveIO(context.df, cmd, generation);
 * yield* io.sleep(5000);
 */
export class InteractiveIO {
  private flushSeq = 0;
  private promptSeq = 0;
  private readonly toClose: string[] = [];

  constructor(
    private readonly ctx: DurableOrchestrationContext,
    readonly cmd: CommandContext,
    private readonly generation: number,
  ) {}

  private after(ms: number): Date {
    return new Date(this.ctx.currentUtcDateTime.getTime() + ms);
  }

  /**
   * What is still to deliver, handed to the next generation of a loop (continue-as-new is not a wait, so it need
   * not flush: the next round delivers it with its first wait, saving an activity per round).
   */
  carryOver(): Carry {
    return { messages: this.cmd.drain(), closePrompts: this.toClose.splice(0) };
  }

  /** Takes over what the previous generation did not deliver. */
  adopt(carry: Carry | undefined): void {
    if (!carry) return;
    for (const m of carry.messages) this.cmd.tell(m.player, m.text);
    this.toClose.push(...carry.closePrompts);
  }

  /** Delivers buffered messages and prompt changes; a no-op when there is nothing to deliver. */
  *flush(openPrompt?: NewPrompt): Generator<Task, void, unknown> {
    const messages = this.cmd.drain();
    const closing = this.toClose.splice(0);
    if (messages.length === 0 && closing.length === 0 && !openPrompt) return;
    const input: DeliverInput = {
      batch: {
        source: `${this.ctx.instanceId}.g${this.generation}`,
        seq: this.generation * SEQ_PER_GENERATION + this.flushSeq++,
        at: this.ctx.currentUtcDateTime.getTime(),
      },
      messages,
    };
    if (openPrompt) input.openPrompt = openPrompt;
    if (closing.length > 0) input.closePrompts = closing.map((promptId) => ({ player: this.cmd.player, promptId }));
    yield this.ctx.callActivityWithRetry(fn.deliverActivity, internalRetry(), input);
  }

  /** A durable timer (messages are flushed first). */
  *sleep(ms: number): Generator<Task, void, unknown> {
    yield* this.flush();
    yield this.ctx.createTimer(this.after(ms));
  }

  /**
   * Asks the player and waits for their answer, or until the timeout: then the prompt is expired unless a line has
   * already claimed it, in which case that answer is taken (never lost): from its event, or, when the event has not
   * come CLAIM_TAKEOVER_MS after the claim (the claiming process died before raising it), from the stored claim.
   */
  *ask(question: string, timeoutMs: number | undefined, fallback: Json): Generator<Task, Json, unknown> {
    const promptId = `${this.ctx.instanceId}.g${this.generation}.p${this.promptSeq++}`;
    const openedAt = this.ctx.currentUtcDateTime.getTime();
    this.cmd.caller.msg(question);
    const prompt: NewPrompt = { player: this.cmd.player, promptId, instanceId: this.ctx.instanceId, question, openedAt };
    if (timeoutMs !== undefined) prompt.timeoutAt = openedAt + timeoutMs;
    yield* this.flush(prompt);
    const answer = this.ctx.waitForExternalEvent(answerEvent(promptId));
    if (timeoutMs === undefined) {
      const raw = yield answer;
      this.toClose.push(promptId);
      return answerText(raw);
    }
    let timer: TimerTask = this.ctx.createTimer(this.after(timeoutMs));
    for (;;) {
      const winner = yield this.ctx.Task.any([answer, timer]);
      if (winner === answer) {
        timer.cancel();
        this.toClose.push(promptId);
        return answerText(answer.result);
      }
      const outcome = expireOutcome(yield this.ctx.callActivityWithRetry(fn.expirePromptActivity, internalRetry(), { player: this.cmd.player, promptId }));
      if (outcome.state === 'answered') return outcome.answer; // the check closed the prompt row
      if (outcome.state !== 'claimed') return fallback;
      // A line claimed the prompt just before it expired: its answer event is on the way; check again soon.
      timer = this.ctx.createTimer(this.after(CLAIM_TAKEOVER_MS));
    }
  }

  /** Runs one step spec. */
  *perform(spec: StepSpec): Generator<Task, unknown, unknown> {
    switch (spec.kind) {
      case 'sleep':
        return yield* this.sleep(spec.ms);
      case 'ask':
        return yield* this.ask(spec.question, spec.timeoutMs, spec.default ?? null);
      case 'start': {
        yield* this.flush();
        const id = `${spec.task.player}.${spec.task.kind}.${this.ctx.newGuid(this.ctx.instanceId)}`;
        return yield this.ctx.callActivityWithRetry(fn.startTaskActivity, internalRetry(), { task: spec.task, id });
      }
      case 'command': {
        yield* this.flush();
        const id = `${spec.player}.cmd.${this.ctx.newGuid(this.ctx.instanceId)}`;
        return yield this.ctx.callActivityWithRetry(fn.startTaskActivity, internalRetry(), { command: spec, id });
      }
      case 'control':
      case 'info':
      case 'list':
        yield* this.flush();
        return yield this.ctx.callActivity(fn.taskControlActivity, spec);
    }
  }

  /** Turns one yielded value into Durable work and returns what the yield evaluates to. */
  *resolve(value: unknown): Generator<Task, unknown, unknown> {
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0 || value * 1000 > MAX_DURATION_MS) {
        throw new GameError('bad_yield', `interactive command '${this.cmd.key}' yielded ${String(value)}: a wait must be a finite number of seconds >= 0, at most 100 years.`);
      }
      return yield* this.sleep(Math.round(value * 1000));
    }
    if (typeof value === 'string') return yield* this.ask(value, undefined, null);
    if (isStep(value)) return value.finish(yield* this.perform(value.spec), orchestrationRuntime);
    if (isDurableTask(value)) {
      yield* this.flush();
      return yield value;
    }
    throw new GameError(
      'bad_yield',
      `interactive command '${this.cmd.key}' yielded ${describeYield(value)}. Yield a number of seconds (\`yield 5\`), a question ` +
        `(\`answer = yield "Continue?"\`), a step (sleep(), ask(), delay(), runAsync(), a task handle method) or a Durable task from cmd.df.`,
    );
  }

  /**
   * Drives a generator to its end: each yielded value is resolved and its result (or error) sent back in.
   * Errors the generator does not catch propagate.
   */
  *drive<R>(gen: Generator<unknown, R, unknown>): Generator<Task, R, unknown> {
    let resume: { ok: true; value: unknown } | { ok: false; error: unknown } = { ok: true, value: undefined };
    for (;;) {
      const step: IteratorResult<unknown, R> = resume.ok ? gen.next(resume.value) : gen.throw(resume.error);
      if (step.done) return step.value;
      try {
        resume = { ok: true, value: yield* this.resolve(step.value) };
      } catch (error) {
        resume = { ok: false, error };
      }
    }
  }
}

/**
 * Creates the command context and I/O for an interactive orchestration.
 *
 * @example
 * const { cmd, io } = interactiveSession(context.df, { key: 'waitloop', args: '', player: 'alice' }, 0);
 * const result = yield* io.drive(def.body(cmd.caller, cmd.args, cmd));
 */
export function interactiveSession(ctx: DurableOrchestrationContext, init: { key: string; args: string; player: string }, generation: number): { cmd: CommandContext; caller: Caller; io: InteractiveIO } {
  const cmd = new CommandContext({ ...init, runtime: orchestrationRuntime, df: ctx });
  return { cmd, caller: cmd.caller, io: new InteractiveIO(ctx, cmd, generation) };
}

/**
 * Throws GameError('not_plain_json') unless an orchestration's result is plain JSON.
 *
 * @example
 * checkResult(value, 'waitloop');
 */
export function checkResult(value: unknown, key: string): Json {
  const why = whyNotJson(value ?? null, `the value returned by '${key}'`);
  if (why) throw new GameError('not_plain_json', `${why}: an interactive command's return value must be plain JSON (it becomes the orchestration output).`);
  return (value ?? null) as Json;
}

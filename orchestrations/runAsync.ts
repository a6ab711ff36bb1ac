// The `runAsync` orchestrator: runs a registered function as an activity (optionally with retries and backoff),
// then atReturn with its result, or atErr with the error (also atReturn's, as in Evennia); without atErr a default
// errback logs with context, tells the player and fails the instance. Deterministic code only.
// Retries are this orchestrator's own timers, not callActivityWithRetry: each attempt then gets its own batch key in
// its input, so a re-run of one attempt writes nothing twice while each attempt still says what it says.
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { z } from 'zod';
import { callbackErrorOf, type CallbackError } from '../core/callbackError';
import { toMillis } from '../core/duration';
import { GameError } from '../core/errors';
import { CALLBACK_ACTIVITY_PREFIX, fn } from '../core/names';
import type { DeliverInput } from '../core/driver';

const kwargs = z.record(z.string(), z.unknown());

/** Input of a `runAsync` instance (a TaskStart of kind 'async'). */
export const runAsyncInputSchema = z.object({
  kind: z.literal('async'),
  player: z.string().min(1),
  command: z.string(),
  fn: z.string().min(1),
  args: z.array(z.unknown()),
  atReturn: z.string().optional(),
  atReturnKwargs: kwargs.optional(),
  atErr: z.string().optional(),
  atErrKwargs: kwargs.optional(),
  retry: z
    .object({
      attempts: z.number().int().min(1),
      firstDelay: z.union([z.number(), z.string()]),
      backoff: z.number().optional(),
      maxDelay: z.union([z.number(), z.string()]).optional(),
    })
    .optional(),
});

/**
 * The orchestrator function registered as `runAsync`. Output: `{state:'completed', result}` or, when atErr
 * handled a failure, `{state:'failed', error}`.
 *
 * @example
 * df.app.orchestration('runAsync', runAsyncOrchestrator);
 */
export function* runAsyncOrchestrator(context: OrchestrationContext): Generator<Task, unknown, unknown> {
  const ctx = context.df;
  const parsed = runAsyncInputSchema.safeParse(ctx.getInput());
  if (!parsed.success) throw new GameError('invalid_body', `runAsync orchestration input is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const input = parsed.data;
  const call = (name: string, step: string, args: unknown[]) => ({ name: `${CALLBACK_ACTIVITY_PREFIX}${name}`, input: { player: input.player, command: input.command, taskId: ctx.instanceId, batch: `${ctx.instanceId}.${step}`, at: ctx.currentUtcDateTime.getTime(), args } });

  /**
   * Runs fn, retrying with exponential backoff as RetryOptions would; attempt n (from 2) has the batch `fn.a<n>`. The
   * custom status names the attempt that runs (or waits to), so a progress row of an earlier attempt is not shown.
   */
  function* runFn(): Generator<Task, unknown, unknown> {
    const attempts = input.retry?.attempts ?? 1;
    let wait = input.retry ? Math.max(1, toMillis(input.retry.firstDelay)) : 0;
    const maxWait = input.retry?.maxDelay !== undefined ? toMillis(input.retry.maxDelay) : 3_600_000;
    for (let attempt = 1; ; attempt++) {
      const step = attempt === 1 ? 'fn' : `fn.a${attempt}`;
      ctx.setCustomStatus({ state: 'running', fn: input.fn, attempt: `${ctx.instanceId}.${step}` });
      if (attempt > 1) {
        yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + Math.min(wait, maxWait)));
        wait *= input.retry?.backoff ?? 2;
      }
      const c = call(input.fn, step, input.args);
      try {
        return yield ctx.callActivity(c.name, { ...c.input, progress: true });
      } catch (err) {
        if (attempt >= attempts) throw err;
      }
    }
  }

  function* fail(err: unknown, stage: string): Generator<Task, unknown, unknown> {
    let error: CallbackError = callbackErrorOf(err);
    if (input.atErr) {
      ctx.setCustomStatus({ state: 'failed', fn: input.fn });
      const c = call(input.atErr, 'atErr', [error, input.atErrKwargs ?? {}]);
      try {
        yield ctx.callActivity(c.name, c.input);
        return { state: 'failed', error: error.message };
      } catch (errbackErr) {
        // The errback itself failed: fall back to the default errback, so the player still hears of it.
        error = { ...error, message: `${error.message} (and its errback '${input.atErr}' failed too: ${callbackErrorOf(errbackErr).message})` };
        stage = `${stage}, then atErr`;
      }
    }
    // The default errback: Evennia's logs silently; we log with context, tell the player and fail the instance.
    if (!ctx.isReplaying) context.error(`runAsync ${ctx.instanceId}: function '${input.fn}' (${stage}) for player ${input.player} failed: ${error.message}`);
    const notice: DeliverInput = {
      batch: { source: `${ctx.instanceId}.error`, seq: 0, at: ctx.currentUtcDateTime.getTime() },
      messages: [{ player: input.player, text: `Background task '${input.fn}' failed: ${error.message.length > 1000 ? `${error.message.slice(0, 1000)}…` : error.message}` }],
    };
    yield ctx.callActivityWithRetry(fn.deliverActivity, new df.RetryOptions(500, 5), notice);
    throw new GameError('callback_failed', `runAsync function '${input.fn}' (${stage}) for player ${input.player} failed: ${error.message}`);
  }

  let result: unknown;
  try {
    result = yield* runFn();
  } catch (err) {
    return yield* fail(err, 'fn');
  }
  if (input.atReturn) {
    try {
      const c = call(input.atReturn, 'atReturn', [result ?? null, input.atReturnKwargs ?? {}]);
      yield ctx.callActivity(c.name, c.input);
    } catch (err) {
      return yield* fail(err, 'atReturn');
    }
  }
  ctx.setCustomStatus({ state: 'completed', fn: input.fn });
  return { state: 'completed', result: result ?? null };
}

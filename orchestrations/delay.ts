// The `delay` orchestrator: a durable timer raced against the control events cancel / pause / unpause / fire,
// then the callback activity. Pause freezes the remaining time. Deterministic code only.
import * as df from 'durable-functions';
import type { OrchestrationContext, Task, TimerTask } from 'durable-functions';
import { z } from 'zod';
import { callbackErrorOf } from '../core/callbackError';
import { GameError } from '../core/errors';
import { CALLBACK_ACTIVITY_PREFIX, CONTROL_EVENTS, fn, type ControlOp } from '../core/names';
import type { DeliverInput } from '../core/driver';

/** Input of a `delay` instance (a TaskStart of kind 'delay'). */
export const delayInputSchema = z.object({
  kind: z.literal('delay'),
  player: z.string().min(1),
  command: z.string(),
  callback: z.string().min(1),
  args: z.array(z.unknown()),
  ms: z.number().min(0),
});

/**
 * The orchestrator function registered as `delay`. Its custom status is `{state:'waiting', fireAt}` or
 * `{state:'paused', remainingMs}`; its output `{state:'fired', result}` or `{state:'cancelled'}`.
 *
 * @example
 * df.app.orchestration('delay', delayOrchestrator);
 */
export function* delayOrchestrator(context: OrchestrationContext): Generator<Task, unknown, unknown> {
  const ctx = context.df;
  const parsed = delayInputSchema.safeParse(ctx.getInput());
  if (!parsed.success) throw new GameError('invalid_body', `delay orchestration input is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const input = parsed.data;
  const now = (): number => ctx.currentUtcDateTime.getTime();

  /** Runs the callback for call(); a failure is told to the player and the task goes on waiting. */
  function* callNow(batch: string): Generator<Task, void, unknown> {
    try {
      yield ctx.callActivity(`${CALLBACK_ACTIVITY_PREFIX}${input.callback}`, { player: input.player, command: input.command, taskId: ctx.instanceId, batch, at: now(), args: input.args });
    } catch (err) {
      const { message } = callbackErrorOf(err);
      if (!ctx.isReplaying) context.error(`delay ${ctx.instanceId}: callback '${input.callback}' called for player ${input.player} failed: ${message}`);
      const notice: DeliverInput = { batch: { source: `${batch}.error`, seq: 0, at: now() }, messages: [{ player: input.player, text: `Your delayed task '${input.callback}' failed when called: ${message}` }] };
      yield ctx.callActivityWithRetry(fn.deliverActivity, new df.RetryOptions(500, 5), notice);
    }
  }

  // One pending wait per control event, replaced only when consumed (a fresh wait per round would let an old,
  // never-completed wait swallow the next event of that name).
  const waits = new Map<ControlOp, Task>(CONTROL_EVENTS.map((op) => [op, ctx.waitForExternalEvent(op)]));
  let remaining = input.ms;
  let paused = false;
  let calls = 0;
  for (;;) {
    const startedAt = now();
    let timer: TimerTask | undefined;
    if (paused) {
      ctx.setCustomStatus({ state: 'paused', remainingMs: remaining, callback: input.callback });
    } else {
      timer = ctx.createTimer(new Date(startedAt + remaining));
      ctx.setCustomStatus({ state: 'waiting', fireAt: new Date(startedAt + remaining).toISOString(), callback: input.callback });
    }
    const winner = yield ctx.Task.any(timer ? [timer, ...waits.values()] : [...waits.values()]);
    if (winner === timer) break;
    timer?.cancel();
    const op = [...waits].find(([, task]) => task === winner)?.[0];
    if (!op) continue;
    waits.set(op, ctx.waitForExternalEvent(op));
    if (!paused) remaining = Math.max(0, remaining - (now() - startedAt));
    if (op === 'cancel') {
      ctx.setCustomStatus({ state: 'cancelled', callback: input.callback });
      return { state: 'cancelled' };
    }
    if (op === 'fire') break;
    if (op === 'call') {
      // Evennia's TaskHandlerTask.call: the callback runs now and the task keeps its time (the call's own counts).
      calls += 1;
      const before = now();
      yield* callNow(`${ctx.instanceId}.call${calls}`);
      if (!paused) remaining = Math.max(0, remaining - (now() - before));
      continue;
    }
    paused = op === 'pause';
  }

  ctx.setCustomStatus({ state: 'firing', callback: input.callback });
  try {
    const result: unknown = yield ctx.callActivity(`${CALLBACK_ACTIVITY_PREFIX}${input.callback}`, {
      player: input.player,
      command: input.command,
      taskId: ctx.instanceId,
      batch: `${ctx.instanceId}.fire`,
      at: ctx.currentUtcDateTime.getTime(),
      args: input.args,
    });
    ctx.setCustomStatus({ state: 'fired', callback: input.callback });
    return { state: 'fired', result };
  } catch (err) {
    const { message } = callbackErrorOf(err);
    if (!ctx.isReplaying) context.error(`delay ${ctx.instanceId}: callback '${input.callback}' for player ${input.player} failed: ${message}`);
    const notice: DeliverInput = {
      batch: { source: `${ctx.instanceId}.error`, seq: 0, at: ctx.currentUtcDateTime.getTime() },
      messages: [{ player: input.player, text: `Your delayed task '${input.callback}' failed: ${message}` }],
    };
    yield ctx.callActivityWithRetry(fn.deliverActivity, new df.RetryOptions(500, 5), notice);
    throw new GameError('callback_failed', `callback '${input.callback}' of delay ${ctx.instanceId} (player ${input.player}) failed: ${message}`);
  }
}

// The `command` orchestrator: runs an interactive() command, or one round of a loop() command per execution
// (continue-as-new between rounds keeps the history bounded). Deterministic code only.
import type { OrchestrationContext, Task } from 'durable-functions';
import { z } from 'zod';
import { callbackErrorOf } from '../core/callbackError';
import { checkResult, interactiveSession } from '../core/driver';
import { GameError, untrappedNotice } from '../core/errors';
import { whyNotJson } from '../core/json';
import { findCommand } from '../core/registry';

/** Input of a `command` instance. */
export const commandInputSchema = z.object({
  player: z.string().min(1),
  key: z.string().min(1),
  args: z.string(),
  /** Loop round (0 for the first execution). */
  generation: z.number().int().min(0).default(0),
  /** Loop state carried into this round. */
  state: z.unknown().optional(),
  /** What the previous round had not delivered yet. */
  carry: z.object({ messages: z.array(z.object({ player: z.string(), text: z.string() })), closePrompts: z.array(z.string()) }).optional(),
});
export type CommandInput = z.input<typeof commandInputSchema>;

/**
 * The orchestrator function registered as `command`.
 *
 * @example
 * df.app.orchestration('command', commandOrchestrator);
 */
export function* commandOrchestrator(context: OrchestrationContext): Generator<Task, unknown, unknown> {
  const parsed = commandInputSchema.safeParse(context.df.getInput());
  if (!parsed.success) throw new GameError('invalid_body', `command orchestration input is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const input = parsed.data;
  const def = findCommand(input.key);
  if (!def || typeof def.func === 'function') {
    throw new GameError('bad_registration', `'${input.key}' is not an interactive command in this app version (it may have been renamed since the instance started).`);
  }
  const { cmd, caller, io } = interactiveSession(context.df, { key: def.key, args: input.args, player: input.player }, input.generation);
  io.adopt(input.carry);
  try {
    if (def.func.kind === 'interactive') {
      const result = checkResult(yield* io.drive(def.func.body(caller, input.args, cmd)), def.key);
      yield* io.flush();
      return result;
    }
    const state = input.generation === 0 ? def.func.start(input.args, caller) : input.state;
    const why = whyNotJson(state, `the state of loop '${def.key}'`);
    if (why) throw new GameError('not_plain_json', `${why}: loop state must be plain JSON.`);
    const next: unknown = yield* io.drive(def.func.round(caller, state as never, cmd));
    if (next && typeof next === 'object' && 'again' in next) {
      const nextWhy = whyNotJson((next as { again: unknown }).again, `the state returned by loop '${def.key}'`);
      if (nextWhy) throw new GameError('not_plain_json', `${nextWhy}: loop state must be plain JSON.`);
      context.df.continueAsNew({ ...input, generation: input.generation + 1, state: (next as { again: unknown }).again, carry: io.carryOver() });
      return undefined;
    }
    if (next && typeof next === 'object' && 'stop' in next) {
      const result = checkResult((next as { stop: unknown }).stop, def.key);
      yield* io.flush();
      return result;
    }
    throw new GameError('bad_yield', `A round of loop '${def.key}' returned ${JSON.stringify(next) ?? 'undefined'}; return again(nextState) or stop(result).`);
  } catch (err) {
    const message = callbackErrorOf(err).message;
    caller.msg(untrappedNotice(def.key, message));
    if (!context.df.isReplaying) context.error(`command ${context.df.instanceId} ('${def.key}', player ${input.player}) failed: ${message}`);
    yield* io.flush();
    throw err;
  }
}

// Runs a registered callback inside its Durable activity: builds its context, delivers what it said exactly once,
// and turns a throw into an activity failure whose message is the callback's own. Activities run at least once, so
// everything a callback creates is named after the scheduled call (its `batch`): a re-run writes and starts nothing new.
import type { DurableClient } from 'durable-functions';
import { z } from 'zod';
import { ClientRuntime } from './clientRuntime';
import { CommandContext } from './context';
import { GameError, describeError, isGameError } from './errors';
import { whyNotJson, type Json } from './json';
import { writeMessages, type OutMessage } from './outbox';
import { callbackBody, type CallbackContext } from './registry';

export { callbackErrorOf, type CallbackError } from './callbackError';

/** The input every callback activity receives. */
export const callbackInputSchema = z.object({
  player: z.string().min(1),
  command: z.string(),
  taskId: z.string().min(1),
  /**
   * Unique per scheduled call (the orchestrator's instance id and step, and attempt for runAsync retries); a re-run of
   * the activity gets the same one, so its messages and the ids of what it starts come out the same.
   */
  batch: z.string().min(1),
  /** When the orchestration scheduled the call (ms): stamps the final messages' batch (outbox BatchId.at). */
  at: z.number().int().optional(),
  args: z.array(z.unknown()),
});
export type CallbackInput = z.infer<typeof callbackInputSchema>;

class CallbackCommandContext extends CommandContext implements CallbackContext {
  constructor(
    init: ConstructorParameters<typeof CommandContext>[0],
    readonly taskId: string,
    private readonly logger: (message: string) => void,
  ) {
    super(init);
  }
  log(message: string): void {
    this.logger(`[task ${this.taskId} player ${this.player}] ${message}`);
  }
}

/**
 * How long a callback runs again while the game's storage is unavailable (GameError storage_unavailable: an outage of
 * Table Storage, a restart of Azurite). A re-run is safe, since everything it says and starts is named after its batch;
 * without it, a reminder due during a storage outage of a few seconds was lost ("Your delayed task 'remind' failed:
 * Table storage failed to write ..."), because the delay orchestrator runs a callback once.
 */
export const OUTAGE_RETRY_MS = 60_000;
/** Longest wait between two runs while storage is unavailable. */
const OUTAGE_RETRY_MAX_WAIT_MS = 8_000;

/**
 * Runs callback `name` with a validated input. Messages are written even when it throws, and only once however often
 * the activity runs: what it says before a step (delay(), runAsync(), startCommand(), a handle method) is the batch's
 * n-th delivery, the tasks it starts get ids derived from the batch (ClientRuntime IdPlan). The return value must be
 * plain JSON (undefined becomes null). While storage is unavailable it runs again (0.5 s, 1 s, 2 s ... 8 s apart) for
 * up to `retryForMs` (OUTAGE_RETRY_MS); any other failure is the callback's, reported at once.
 *
 * @example
 * df.app.activity('cb_remind', { extraInputs: [df.input.durableClient()],
 *   handler: (input, context) => runCallback('remind', input, () => df.getClient(context), (m) => context.log(m)) });
 */
export async function runCallback(
  name: string,
  rawInput: unknown,
  client: DurableClient | (() => DurableClient),
  log: (message: string) => void,
  o: { retryForMs?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<Json> {
  const parsed = callbackInputSchema.safeParse(rawInput);
  if (!parsed.success) throw new GameError('invalid_body', `Callback '${name}' got a malformed input: ${parsed.error.issues[0]?.message ?? 'invalid'}.`);
  const input = parsed.data;
  const body = callbackBody(name);
  if (!body) throw new GameError('unknown_callback', `No callback named '${name}' is registered in this app version.`);
  const giveUpAt = Date.now() + (o.retryForMs ?? OUTAGE_RETRY_MS);
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let wait = 500; ; wait = Math.min(2 * wait, OUTAGE_RETRY_MAX_WAIT_MS)) {
    try {
      return await runOnce(name, input, body, client, log);
    } catch (err) {
      if (isGameError(err, 'storage_unavailable') && Date.now() + wait <= giveUpAt) {
        log(`Callback '${name}' of task ${input.taskId} (player ${input.player}) could not reach storage (${err.message}); running it again in ${wait} ms.`);
        await sleep(wait);
        continue;
      }
      log(`Callback '${name}' of task ${input.taskId} (player ${input.player}) failed: ${describeError(err)}`);
      // Only the message crosses the Durable boundary (the host wraps it as "Activity function ... failed: <message>").
      throw new Error(err instanceof Error ? err.message : describeError(err));
    }
  }
}

/** One run of a callback: its body, then what it said; a throw is passed on as it is, after what it said is written. */
async function runOnce(name: string, input: CallbackInput, body: NonNullable<ReturnType<typeof callbackBody>>, client: DurableClient | (() => DurableClient), log: (message: string) => void): Promise<Json> {
  // Messages said before a step are written before it runs: the n-th such write of every run has the same batch id.
  let seq = 0;
  const deliver = (messages: OutMessage[]): Promise<void> => writeMessages({ source: input.batch, seq: seq++, at: input.at }, messages);
  const runtime = new ClientRuntime(client, undefined, { base: input.batch, fresh: false });
  const ctx = new CallbackCommandContext({ key: input.command, args: '', player: input.player, runtime, deliver }, input.taskId, log);
  let result: unknown;
  try {
    result = await body(ctx, ...(input.args as Json[]));
    const why = whyNotJson(result ?? null, `the value returned by callback '${name}'`);
    if (why) throw new GameError('not_plain_json', `${why}: return plain JSON from callbacks.`);
  } catch (err) {
    await deliver(ctx.drain());
    throw err;
  }
  // A retried success (the host lost its completion) writes its final messages only once.
  await writeMessages({ source: `${input.batch}.ok`, seq: seq, at: input.at }, ctx.drain());
  return (result ?? null) as Json;
}

// Runs a registered callback inside its Durable activity: builds its context, delivers what it says while it runs,
// exactly once, and turns a throw into an activity failure whose message is the callback's own. Activities run at least
// once, so everything a callback creates is named after the scheduled call (its `batch`): a re-run writes and starts
// nothing new.
import type { DurableClient } from 'durable-functions';
import { z } from 'zod';
import { ClientRuntime } from './clientRuntime';
import { CommandContext } from './context';
import { GameError, describeError, isGameError } from './errors';
import { whyNotJson, type Json } from './json';
import { writeMessages, type OutMessage } from './outbox';
import { ProgressReporter } from './progress';
import { callbackBody, type CallbackContext } from './registry';
import type { Runtime } from './steps';

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
  /** Set for the function of a runAsync (each attempt): ctx.progress() reports on the task. */
  progress: z.boolean().optional(),
});
export type CallbackInput = z.infer<typeof callbackInputSchema>;

/**
 * What a callback says, written as it is said: the n-th message of a run is the batch's n-th delivery, whenever it is
 * written, so a re-run (which says the same things in the same order) writes none of them again. One message per
 * delivery costs a write each, but it is the only split a re-run is sure to repeat: one cut by timing could differ.
 * Writes go one after the other; after a failed one nothing more is written and the callback fails (its activity is
 * retried, or its attempt fails), so what the player reads is never out of order.
 */
class LiveOutbox {
  private count = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly source: string,
    private readonly at: number | undefined,
  ) {}

  push(messages: OutMessage[]): void {
    for (const message of messages) {
      const seq = this.count++;
      this.chain = this.chain.then(async () => {
        if (this.failure !== undefined) return;
        try {
          await writeMessages({ source: this.source, seq, at: this.at }, [message]);
        } catch (err) {
          this.failure = err;
        }
      });
    }
  }

  /** Waits until everything said so far is written; throws the first write's failure. */
  async flushed(): Promise<void> {
    await this.chain;
    if (this.failure !== undefined) throw this.failure;
  }
}

class CallbackCommandContext extends CommandContext implements CallbackContext {
  constructor(
    init: ConstructorParameters<typeof CommandContext>[0],
    readonly taskId: string,
    private readonly logger: (message: string) => void,
    private readonly live: LiveOutbox,
    private readonly reporter: ProgressReporter | undefined,
    private readonly callbackName: string,
  ) {
    super(init);
  }
  override tell(player: string, text: string): void {
    super.tell(player, text);
    this.live.push(this.drain());
  }
  log(message: string): void {
    this.logger(`[task ${this.taskId} player ${this.player}] ${message}`);
  }
  progress(fraction: number, note?: string): void {
    if (!this.reporter) {
      throw new GameError(
        'wrong_context',
        `ctx.progress() reports on the function a runAsync() runs; callback '${this.callbackName}' runs here as a delay callback, atReturn or atErr, which have no progress to show.`,
      );
    }
    this.reporter.report(fraction, note);
  }
}

/** A runtime that first waits until what the callback said is written, so it is readable before what the step does. */
function afterMessages(runtime: Runtime, live: LiveOutbox): Runtime {
  return {
    where: runtime.where,
    run: async (spec) => {
      await live.flushed();
      return runtime.run(spec);
    },
  };
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
 * Runs callback `name` with a validated input. What it says is written while it runs (a runAsync function's messages
 * arrive before it ends), and only once however often the activity runs: its n-th message is the batch's n-th
 * delivery, the tasks it starts get ids derived from the batch (ClientRuntime IdPlan). Everything it said is written
 * before a step (delay(), runAsync(), startCommand(), a handle method) runs and before it returns or fails. The return
 * value must be plain JSON (undefined becomes null). While storage is unavailable it runs again (0.5 s, 1 s, 2 s ...
 * 8 s apart) for up to `retryForMs` (OUTAGE_RETRY_MS); any other failure is the callback's, reported at once.
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

/** One run of a callback: its body, then what it said is written; a throw is passed on as it is, after that. */
async function runOnce(name: string, input: CallbackInput, body: NonNullable<ReturnType<typeof callbackBody>>, client: DurableClient | (() => DurableClient), log: (message: string) => void): Promise<Json> {
  const live = new LiveOutbox(input.batch, input.at);
  const reporter = input.progress ? new ProgressReporter(input.player, input.taskId, input.batch, log) : undefined;
  const runtime = afterMessages(new ClientRuntime(client, undefined, { base: input.batch, fresh: false }), live);
  const ctx = new CallbackCommandContext({ key: input.command, args: '', player: input.player, runtime }, input.taskId, log, live, reporter, name);
  let result: unknown;
  try {
    result = await body(ctx, ...(input.args as Json[]));
    const why = whyNotJson(result ?? null, `the value returned by callback '${name}'`);
    if (why) throw new GameError('not_plain_json', `${why}: return plain JSON from callbacks.`);
  } catch (err) {
    await Promise.all([live.flushed(), reporter?.flush()]);
    throw err;
  }
  await Promise.all([live.flushed(), reporter?.flush()]);
  return (result ?? null) as Json;
}

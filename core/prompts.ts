// Open prompts on Table Storage: rows `p<promptId>` in the player's partition of the Messages table, so a question
// and its prompt row commit in one transaction. A typed line answers a prompt by claiming its row with an
// ETag-conditioned write, so two racing lines can never both answer one prompt.
import { odata, type TransactionAction } from '@azure/data-tables';
import { CLAIM_TAKEOVER_MS } from './names';
import { statusOf, storageError, table } from './tables';

/** The row key of a prompt (messages are 'm…', delivery markers 'x…'). */
export const promptRowKey = (promptId: string): string => `p${promptId}`;
const PROMPTS_FROM = 'p';
const PROMPTS_TO = 'q';

/** A question waiting for one player's answer. */
export interface Prompt {
  player: string;
  promptId: string;
  /** The orchestration instance that waits for `answer:<promptId>`. */
  instanceId: string;
  question: string;
  /** When the question was asked (orchestration time, ms). */
  openedAt: number;
  /** When an unanswered prompt stops waiting (ms), if it has a timeout. */
  timeoutAt?: number;
  /** 'claimed' once a line took it: the answer is in flight to the instance. */
  state: 'open' | 'claimed';
  answer?: string;
  claimedAt?: number;
  /** Row version for conditional writes. */
  etag: string;
}

type Row = Omit<Prompt, 'player' | 'promptId' | 'etag'>;

/** What a prompt needs to open. */
export type NewPrompt = Pick<Prompt, 'player' | 'promptId' | 'instanceId' | 'question' | 'openedAt' | 'timeoutAt'>;

/**
 * Opens a prompt; opening the same prompt id twice (a retried activity) keeps the first row, claimed or not.
 *
 * @example
 * await openPrompt({ player: 'alice', promptId, instanceId, question: 'Continue?', openedAt: 0 });
 */
export async function openPrompt(p: NewPrompt): Promise<void> {
  const client = await table('Messages');
  try {
    await client.createEntity(promptEntity(p));
  } catch (err) {
    if (statusOf(err) !== 409) throw storageError(err, `open prompt ${p.promptId}`);
  }
}

/** The row that opens a prompt. */
export function promptEntity(p: NewPrompt): { partitionKey: string; rowKey: string } & Row {
  const row: Row = { instanceId: p.instanceId, question: p.question, openedAt: p.openedAt, state: 'open' };
  if (p.timeoutAt !== undefined) row.timeoutAt = p.timeoutAt;
  return { partitionKey: p.player, rowKey: promptRowKey(p.promptId), ...row };
}

/**
 * The transaction actions that open `open` and close `close` (all of one player), to commit with that player's
 * messages.
 *
 * @example
 * await writeMessages(batch, messages, Date.now(), { player, actions: promptActions(next, [previous]) });
 */
export function promptActions(open: NewPrompt | undefined, close: { player: string; promptId: string }[]): TransactionAction[] {
  const actions: TransactionAction[] = [];
  if (open) actions.push(['create', promptEntity(open)]);
  for (const c of close) actions.push(['delete', { partitionKey: c.player, rowKey: promptRowKey(c.promptId) }]);
  return actions;
}

/**
 * Opens one prompt and closes others of the same player in a single transaction (one request per round of a
 * prompt loop); falls back to separate writes when the transaction conflicts (a retried open, an already closed
 * prompt).
 *
 * @example
 * await openAndClosePrompts(next, [{ player: 'alice', promptId: previousId }]);
 */
export async function openAndClosePrompts(open: NewPrompt | undefined, close: { player: string; promptId: string }[]): Promise<void> {
  const samePlayer = open !== undefined && close.length > 0 && close.length < 99 && close.every((c) => c.player === open.player && c.promptId !== open.promptId);
  if (samePlayer) {
    const client = await table('Messages');
    try {
      await client.submitTransaction(promptActions(open, close));
      return;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 409 && status !== 404) throw storageError(err, `open prompt ${open.promptId}`);
    }
  }
  if (open) await openPrompt(open);
  await Promise.all(close.map((c) => closePrompt(c.player, c.promptId)));
}

/**
 * A player's prompts (open and claimed), newest first.
 *
 * @example
 * const [newest] = (await listPrompts('alice')).filter((p) => p.state === 'open');
 */
export async function listPrompts(player: string): Promise<Prompt[]> {
  const client = await table('Messages');
  const prompts: Prompt[] = [];
  try {
    const filter = odata`PartitionKey eq ${player} and RowKey ge ${PROMPTS_FROM} and RowKey lt ${PROMPTS_TO}`;
    for await (const row of client.listEntities<Row>({ queryOptions: { filter } })) {
      prompts.push({
        player,
        promptId: (row.rowKey ?? '').slice(1),
        instanceId: row.instanceId,
        question: row.question,
        openedAt: row.openedAt,
        timeoutAt: row.timeoutAt,
        state: row.state,
        answer: row.answer,
        claimedAt: row.claimedAt,
        etag: row.etag,
      });
    }
  } catch (err) {
    throw storageError(err, `list prompts of ${player}`);
  }
  return prompts.sort((a, b) => b.openedAt - a.openedAt || (a.promptId < b.promptId ? 1 : -1));
}

/**
 * Claims an open prompt for `answer`; returns the claimed prompt (with its new etag), or undefined when another
 * line claimed it first or it closed meanwhile.
 *
 * @example
 * const claimed = await claimPrompt(prompt, 'yes', Date.now());
 */
export async function claimPrompt(p: Prompt, answer: string, nowMs: number): Promise<Prompt | undefined> {
  const client = await table('Messages');
  try {
    const res = await client.updateEntity({ partitionKey: p.player, rowKey: promptRowKey(p.promptId), state: 'claimed', answer, claimedAt: nowMs }, 'Merge', { etag: p.etag });
    return { ...p, state: 'claimed', answer, claimedAt: nowMs, etag: res.etag ?? '' };
  } catch (err) {
    const status = statusOf(err);
    if (status === 412 || status === 404) return undefined;
    throw storageError(err, `claim prompt ${p.promptId}`);
  }
}

/**
 * Undoes a claim whose answer could not be raised, so the prompt can be answered again.
 *
 * @example
 * await unclaimPrompt(claimed);
 */
export async function unclaimPrompt(p: Prompt): Promise<void> {
  const client = await table('Messages');
  try {
    await client.updateEntity({ partitionKey: p.player, rowKey: promptRowKey(p.promptId), state: 'open', answer: '', claimedAt: 0 }, 'Merge', { etag: p.etag });
  } catch (err) {
    const status = statusOf(err);
    if (status !== 412 && status !== 404) throw storageError(err, `unclaim prompt ${p.promptId}`);
  }
}

/**
 * Deletes a prompt (answered, or its instance is gone). Deleting a missing prompt is fine.
 *
 * @example
 * await closePrompt('alice', promptId);
 */
export async function closePrompt(player: string, promptId: string): Promise<void> {
  const client = await table('Messages');
  try {
    await client.deleteEntity(player, promptRowKey(promptId));
  } catch (err) {
    if (statusOf(err) !== 404) throw storageError(err, `close prompt ${promptId}`);
  }
}

/**
 * What the timeout check of a prompt found: no answer will come (`expired`: it was open and is now closed; `gone`:
 * it was already closed), an answer is on its way (`claimed` recently: wait for the event and check again), or
 * the stored answer of a claim older than CLAIM_TAKEOVER_MS, whose row this check closed (`answered`).
 */
export type ExpireOutcome = { state: 'expired' } | { state: 'gone' } | { state: 'claimed' } | { state: 'answered'; answer: string };

/**
 * The timeout check of a prompt: closes it if still open; if a line claimed it, hands over the stored answer once
 * the claim is CLAIM_TAKEOVER_MS old (closing the row, so the answer is taken exactly once), else reports it claimed.
 *
 * @example
 * const outcome = await expirePrompt('alice', promptId);
 * if (outcome.state === 'answered') return outcome.answer;
 */
export async function expirePrompt(player: string, promptId: string, nowMs = Date.now()): Promise<ExpireOutcome> {
  const client = await table('Messages');
  for (;;) {
    let row: Row & { etag: string };
    try {
      row = await client.getEntity<Row>(player, promptRowKey(promptId));
    } catch (err) {
      if (statusOf(err) === 404) return { state: 'gone' };
      throw storageError(err, `read prompt ${promptId}`);
    }
    const claimed = row.state === 'claimed';
    if (claimed && nowMs - (row.claimedAt ?? 0) < CLAIM_TAKEOVER_MS) return { state: 'claimed' };
    try {
      await client.deleteEntity(player, promptRowKey(promptId), { etag: row.etag });
      return claimed ? { state: 'answered', answer: row.answer ?? '' } : { state: 'expired' };
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return { state: 'gone' };
      if (status !== 412) throw storageError(err, `expire prompt ${promptId}`);
      // Changed under us (claimed, or a claim undone): look again.
    }
  }
}

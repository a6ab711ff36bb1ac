// Idempotency-Key on POST /api/input: the first answer to a key is kept in a row `k<hash of the key>` of the player's
// partition of the Messages table (as long as messages are: GAME_MESSAGE_RETENTION_SECONDS) and a repeat gets it
// again. Everything the line creates (messages, task and command ids) is named after the key and the time it was
// first seen, so a retry of a request that was cut off finishes it without doing anything twice. The row is created
// by the line's own write when it has just one (an answer's claim, a no-match reply), else held before a command.
import { createHash } from 'node:crypto';
import type { TransactionAction } from '@azure/data-tables';
import { GameError, type ErrorCode } from './errors';
import { promptRowKey, type Prompt } from './prompts';
import { settings } from './settings';
import { statusOf, storageError, table } from './tables';

/**
 * How long a request holds its key: a repeat within it is told to wait (409); after it, a repeat takes over and redoes
 * what is missing (the first request died, or ran a command that said nothing, which keeps no answer: see router.ts).
 */
export const KEY_LEASE_MS = 5_000;
/** Longest key accepted. */
export const MAX_KEY_LENGTH = 255;

/** The answer kept for a key: what the first request answered (202), or the refusal it got (a limit). */
export type KeptAnswer<R = unknown> = { result: R } | { error: { code: ErrorCode; message: string } };

interface KeyRow {
  /** Hash of the line the key was first used with. */
  line: string;
  /** When the key was first seen (ms): part of every name the line creates. */
  at: number;
  state: 'running' | 'done';
  /** While running: until when the request holds the key. */
  until: number;
  /** When done: the KeptAnswer as JSON. */
  answer?: string;
}

/** A request that holds its Idempotency-Key (or took it in its only write). */
export interface KeyedRequest {
  player: string;
  rowKey: string;
  /** When the key was first seen (ms). */
  at: number;
  /** Names what the line creates: the same on every attempt with this key, never reused by another. */
  base: string;
  /** False when an earlier attempt may have done part of the work (it held the key and stopped answering). */
  fresh: boolean;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('base64url');

/**
 * The Idempotency-Key header's value, checked: 1-255 printable ASCII characters; undefined when absent.
 *
 * @example
 * const key = checkKey(req.headers.get('idempotency-key')); // "3f2a…" or undefined
 */
export function checkKey(header: string | null): string | undefined {
  if (header === null) return undefined;
  const key = header.trim();
  if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
    throw new GameError(
      'invalid_idempotency_key',
      `The Idempotency-Key header must be 1-${MAX_KEY_LENGTH} printable ASCII characters (a fresh UUID per typed line is ideal); got ${key.length} characters.`,
    );
  }
  return key;
}

/** A line sent with an Idempotency-Key, before it holds the key. */
export interface KeyedLine {
  player: string;
  rowKey: string;
  /** Hash of the line, kept with the key to refuse the same key with another line. */
  line: string;
  /** When this request began (ms). */
  nowMs: number;
}

/**
 * A write that creates the key's row failed because the row exists: an earlier request with the key got there first.
 * routeLine then answers from that row (resumeKey).
 */
export class KeyTaken extends Error {
  constructor() {
    super('the Idempotency-Key was taken by an earlier request');
    this.name = 'KeyTaken';
  }
}

/**
 * The key of a request, checked and hashed; nothing is read or written yet.
 *
 * @example
 * const k = keyedLine('alice', key, 'look', Date.now());
 */
export function keyedLine(player: string, key: string, line: string, nowMs: number): KeyedLine {
  return { player, rowKey: `k${sha(key).slice(0, 32)}`, line: sha(line).slice(0, 32), nowMs };
}

/** The KeyedRequest of a line that holds its key since `at`. */
function requestOf(k: KeyedLine, at: number, fresh: boolean): KeyedRequest {
  return { player: k.player, rowKey: k.rowKey, at, fresh, base: `in.${k.rowKey}.${at}` };
}

/**
 * The names a line uses when it takes its key in the same write as its only effect (an answer's claim, a no-match
 * reply): nobody can have used them before, since that write creates the key's row.
 *
 * @example
 * const names = firstNames(k); // { base: 'in.k…<time>', at, ... }
 */
export function firstNames(k: KeyedLine): KeyedRequest {
  return requestOf(k, k.nowMs, true);
}

/**
 * The row change that creates the key's row with `answer` kept: commit it with the line's only write, so the key is
 * taken exactly when that write happens. Fails (409, KeyTaken) when an earlier request took the key.
 *
 * @example
 * await writeMessages(batch, [reply], Date.now(), { player, actions: [keptAction(k, { result })] });
 */
export function keptAction(k: KeyedLine, answer: KeptAnswer): TransactionAction {
  const row: KeyRow = { line: k.line, at: k.nowMs, state: 'done', until: 0, answer: JSON.stringify(answer) };
  return ['create', { partitionKey: k.player, rowKey: k.rowKey, ...row }];
}

/**
 * Takes the key before the line runs a command (whose steps may be many writes): a row that holds it for
 * KEY_LEASE_MS. Throws KeyTaken when an earlier request took it.
 *
 * @example
 * const request = await holdKey(k);
 */
export async function holdKey(k: KeyedLine): Promise<KeyedRequest> {
  const client = await table('Messages');
  const row: KeyRow = { line: k.line, at: k.nowMs, state: 'running', until: k.nowMs + KEY_LEASE_MS };
  try {
    await client.createEntity({ partitionKey: k.player, rowKey: k.rowKey, ...row });
    return requestOf(k, k.nowMs, true);
  } catch (err) {
    if (statusOf(err) === 409) throw new KeyTaken();
    throw storageError(err, `keep the Idempotency-Key of ${k.player}`);
  }
}

/**
 * Answers a line whose key an earlier request took: its kept answer; or, when that request stopped answering before
 * keeping one (its lease ran out: a crash, or a command that said nothing and so kept no answer), the key held anew
 * so this request redoes the line under the same names (nothing twice). Throws idempotency_key_reused (the key came
 * with another line) or request_in_progress (the earlier request still holds it).
 *
 * @example
 * const resumed = await resumeKey(k);
 * if ('answer' in resumed) return resumed.answer;
 */
export async function resumeKey(k: KeyedLine): Promise<KeyedRequest | { answer: KeptAnswer }> {
  const client = await table('Messages');
  let row: KeyRow & { etag: string };
  try {
    row = await client.getEntity<KeyRow>(k.player, k.rowKey);
  } catch (err) {
    if (statusOf(err) === 404) throw busy(1); // deleted meanwhile (trimmed): a retry starts afresh
    throw storageError(err, `read the Idempotency-Key of ${k.player}`);
  }
  const take = async (next: KeyRow, fresh: boolean): Promise<KeyedRequest> => {
    try {
      await client.updateEntity({ partitionKey: k.player, rowKey: k.rowKey, ...next }, 'Replace', { etag: row.etag });
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404) throw busy(1);
      throw storageError(err, `keep the Idempotency-Key of ${k.player}`);
    }
    return requestOf(k, next.at, fresh);
  };
  // A key older than the retention is forgotten, as its messages are: it starts over under new names.
  if (row.at < k.nowMs - settings.messageRetentionSeconds() * 1000) {
    return take({ line: k.line, at: k.nowMs, state: 'running', until: k.nowMs + KEY_LEASE_MS }, true);
  }
  if (row.line !== k.line) {
    throw new GameError('idempotency_key_reused', 'This Idempotency-Key was already used with a different line; send each typed line with a key of its own (and the same key only when resending that line).');
  }
  if (row.state === 'done' && row.answer) return { answer: JSON.parse(row.answer) as KeptAnswer };
  if (row.until > k.nowMs) throw busy(Math.ceil((row.until - k.nowMs) / 1000));
  return take({ ...row, state: 'running', until: k.nowMs + KEY_LEASE_MS, answer: '' }, false);
}

function busy(seconds: number): GameError {
  const s = Math.max(1, seconds);
  return new GameError('request_in_progress', `A request with this Idempotency-Key is still being handled; send it again in ${s} s to get its answer.`, { retryAfterSeconds: s });
}

/**
 * The row change that keeps `answer` for the request, to commit with other writes of the player's partition.
 *
 * @example
 * await writeMessages(batch, messages, Date.now(), { player, actions: [finishAction(request, { result })] });
 */
export function finishAction(r: KeyedRequest, answer: KeptAnswer): TransactionAction {
  return ['upsert', { partitionKey: r.player, rowKey: r.rowKey, state: 'done', until: 0, answer: JSON.stringify(answer) }, 'Merge'];
}

/**
 * Keeps `answer` as the answer to the request's key.
 *
 * @example
 * await finishKeyed(request, { result });
 */
export async function finishKeyed(r: KeyedRequest, answer: KeptAnswer): Promise<void> {
  const [, entity] = finishAction(r, answer);
  const client = await table('Messages');
  try {
    await client.upsertEntity(entity, 'Merge');
  } catch (err) {
    throw storageError(err, `keep the answer of ${r.player}'s Idempotency-Key`);
  }
}

/**
 * Lets go of the key after a failure that left no answer: a retry takes over at once and redoes what is missing
 * (under the same names, so nothing twice). With `holdUntil`, keeps holding it instead (the request goes on after
 * an answer it kept turned out wrong). Best effort: false when the row could not be written.
 *
 * @example
 * await releaseKeyed(request);
 */
export async function releaseKeyed(r: KeyedRequest, holdUntil = 0): Promise<boolean> {
  const client = await table('Messages');
  try {
    await client.upsertEntity({ partitionKey: r.player, rowKey: r.rowKey, state: 'running', until: holdUntil, answer: '' }, 'Merge');
    return true;
  } catch {
    return false;
  }
}

/**
 * Claims `prompt` for `answer` and keeps the request's answer in the same transaction, so a retry after a crash
 * between the two can never find the prompt answered but the key unanswered (and route the line elsewhere). `held`
 * is the request when it already holds its key; otherwise the transaction also takes the key (KeyTaken when an
 * earlier request had). Returns the claimed prompt, or undefined when another line claimed it first or it closed.
 * (The claim writes the fields prompts.ts claimPrompt writes, as a transaction action.)
 *
 * @example
 * const claimed = await claimKeyed(prompt, 'yes', k, undefined, { result: { kind: 'answer', promptId, instanceId } });
 */
export async function claimKeyed(prompt: Prompt, answer: string, k: KeyedLine, held: KeyedRequest | undefined, kept: KeptAnswer): Promise<Prompt | undefined> {
  const client = await table('Messages');
  const claimedAt = held?.at ?? k.nowMs;
  const claim: TransactionAction = ['update', { partitionKey: prompt.player, rowKey: promptRowKey(prompt.promptId), state: 'claimed', answer, claimedAt }, 'Merge', { etag: prompt.etag }];
  try {
    const res = await client.submitTransaction([claim, held ? finishAction(held, kept) : keptAction(k, kept)]);
    const etag = res.getResponseForEntity(promptRowKey(prompt.promptId))?.etag ?? '';
    return { ...prompt, state: 'claimed', answer, claimedAt, etag };
  } catch (err) {
    const status = statusOf(err);
    if (status === 409 && !held) throw new KeyTaken();
    if (status === 412 || status === 404) return undefined;
    throw storageError(err, `claim prompt ${prompt.promptId}`);
  }
}

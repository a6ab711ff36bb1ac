// Idempotency-Key on POST /api/input: the first answer to a key is kept in a row `k<hash of the key>` of the player's
// partition of the Messages table (as long as messages are: GAME_MESSAGE_RETENTION_SECONDS) and a repeat gets it
// again. Everything the line creates (messages, task and command ids) is named after the key and the time it was
// first seen, so a retry of a request that was cut off finishes it without doing anything twice.
import { createHash } from 'node:crypto';
import type { TransactionAction } from '@azure/data-tables';
import { GameError, type ErrorCode } from './errors';
import { promptRowKey, type Prompt } from './prompts';
import { settings } from './settings';
import { statusOf, storageError, table } from './tables';

/** How long a request holds its key: a repeat within it is told to wait (409), after it takes over (a crash). */
export const KEY_LEASE_MS = 10_000;
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

/** One request under an Idempotency-Key, between begin and finish. */
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

/**
 * Starts (or resumes) the request of `key`: the new KeyedRequest, or the answer a previous request with the key got.
 * Throws idempotency_key_reused (the key came with another line) or request_in_progress (another request holds it).
 *
 * @example
 * const begun = await beginKeyed('alice', key, 'look', Date.now());
 * if ('answer' in begun) return begun.answer;
 */
export async function beginKeyed(player: string, key: string, line: string, nowMs: number): Promise<KeyedRequest | { answer: KeptAnswer }> {
  const client = await table('Messages');
  const rowKey = `k${sha(key).slice(0, 32)}`;
  const lineHash = sha(line).slice(0, 32);
  const request = (at: number, fresh: boolean): KeyedRequest => ({ player, rowKey, at, fresh, base: `in.${rowKey}.${at}` });
  const fresh: KeyRow = { line: lineHash, at: nowMs, state: 'running', until: nowMs + KEY_LEASE_MS };
  try {
    await client.createEntity({ partitionKey: player, rowKey, ...fresh });
    return request(nowMs, true);
  } catch (err) {
    if (statusOf(err) !== 409) throw storageError(err, `keep the Idempotency-Key of ${player}`);
  }
  let row: KeyRow & { etag: string };
  try {
    row = await client.getEntity<KeyRow>(player, rowKey);
  } catch (err) {
    if (statusOf(err) === 404) throw busy(1); // deleted between the two calls (trimmed): a retry starts afresh
    throw storageError(err, `read the Idempotency-Key of ${player}`);
  }
  const take = async (next: KeyRow, isFresh: boolean): Promise<KeyedRequest> => {
    try {
      await client.updateEntity({ partitionKey: player, rowKey, ...next }, 'Replace', { etag: row.etag });
    } catch (err) {
      if (statusOf(err) === 412 || statusOf(err) === 404) throw busy(1);
      throw storageError(err, `keep the Idempotency-Key of ${player}`);
    }
    return request(next.at, isFresh);
  };
  // A key older than the retention is forgotten, as its messages are: it starts over under a new name.
  if (row.at < nowMs - settings.messageRetentionSeconds() * 1000) return take(fresh, true);
  if (row.line !== lineHash) {
    throw new GameError('idempotency_key_reused', 'This Idempotency-Key was already used with a different line; send each typed line with a key of its own (and the same key only when resending that line).');
  }
  if (row.state === 'done' && row.answer) return { answer: JSON.parse(row.answer) as KeptAnswer };
  if (row.until > nowMs) throw busy(Math.ceil((row.until - nowMs) / 1000));
  // The request that held the key stopped answering (its host died): this one finishes the work, under the same names.
  return take({ ...row, until: nowMs + KEY_LEASE_MS }, false);
}

function busy(seconds: number): GameError {
  const s = Math.max(1, seconds);
  return new GameError('request_in_progress', `A request with this Idempotency-Key is still being handled; send it again in ${s} s to get its answer.`, { retryAfterSeconds: s });
}

/** The row change that keeps `answer` for the request (to commit with other writes of the player's partition). */
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
 * between the two can never find the prompt answered but the key unanswered (and route the line elsewhere). Returns
 * the claimed prompt, or undefined when another line claimed it first or it closed. (The claim is the one of
 * prompts.ts claimPrompt, written as a transaction action.)
 *
 * @example
 * const claimed = await claimKeyed(prompt, 'yes', request, { result: { kind: 'answer', promptId, instanceId } });
 */
export async function claimKeyed(prompt: Prompt, answer: string, r: KeyedRequest, kept: KeptAnswer): Promise<Prompt | undefined> {
  const client = await table('Messages');
  const claimedAt = r.at;
  const claim: TransactionAction = ['update', { partitionKey: prompt.player, rowKey: promptRowKey(prompt.promptId), state: 'claimed', answer, claimedAt }, 'Merge', { etag: prompt.etag }];
  try {
    const res = await client.submitTransaction([claim, finishAction(r, kept)]);
    const etag = res.getResponseForEntity(promptRowKey(prompt.promptId))?.etag ?? '';
    return { ...prompt, state: 'claimed', answer, claimedAt, etag };
  } catch (err) {
    const status = statusOf(err);
    if (status === 412 || status === 404) return undefined;
    throw storageError(err, `claim prompt ${prompt.promptId}`);
  }
}


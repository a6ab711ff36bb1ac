// The player outbox on Table Storage (table Messages, partition = player): exactly-once writes per batch and
// cursor reads that never miss a message committed shortly after a newer one (see `WINDOW_MS`).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { odata, type TransactionAction } from '@azure/data-tables';
import { GameError } from './errors';
import { settings } from './settings';
import { statusOf, storageError, table } from './tables';

/** One line of text for one player. */
export interface OutMessage {
  player: string;
  text: string;
}

/** A message as a player reads it. */
export interface ReadMessage {
  id: string;
  text: string;
  time: string;
}

/**
 * Who wrote a batch and its place in that writer's sequence. Same batch id = same messages: a retried delivery
 * finds its marker row and writes nothing.
 */
export interface BatchId {
  source: string;
  seq: number;
}

/** Other rows of one player's partition to commit in the same transaction as the first chunk (prompt changes). */
export interface ExtraActions {
  player: string;
  actions: TransactionAction[];
}

/** The extra actions conflicted (a prompt already opened or closed): nothing was written for that player. */
export class ExtraConflict extends Error {
  constructor(
    readonly player: string,
    readonly status: number,
  ) {
    super(`prompt changes for ${player} conflict (HTTP ${status})`);
    this.name = 'ExtraConflict';
  }
}

/** Longest message accepted, in characters. */
export const MAX_MESSAGE_CHARS = 16 * 1024;

/**
 * How far behind the newest message a reader looks again. Row keys start with the writer's clock; a message whose
 * write commits within this window after a newer one is still delivered (exactly once: the cursor remembers what
 * it returned within the window). Covers commit latency and clock skew between instances.
 */
export const WINDOW_MS = 5000;

const PAGE = 100;
const CHUNK_BYTES = 2_000_000;

/** Local wake-ups for long polls in this process. Only a latency shortcut: readers also poll the table. */
const written = new EventEmitter();
written.setMaxListeners(0);

/** A message row as stored. */
interface Row {
  rowKey: string;
  text: string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);
const timeOfKey = (key: string): number => Number(key.slice(1, 16));

/**
 * Checks a message before it is buffered, so an oversized one fails where it was written.
 *
 * @example
 * checkMessage(text); // throws GameError('message_too_long') over 16 KiB
 */
export function checkMessage(text: unknown): string {
  if (typeof text !== 'string') {
    throw new GameError('invalid_body', `msg() takes a string, got ${text === null ? 'null' : typeof text}; use String(value) or JSON.stringify(value).`);
  }
  if (text.length > MAX_MESSAGE_CHARS) {
    throw new GameError('message_too_long', `A message of ${text.length} characters is over the ${MAX_MESSAGE_CHARS} limit; split it into several msg() calls.`);
  }
  return text;
}

/**
 * Writes messages for one or more players, exactly once per batch id.
 *
 * @example
 * await writeMessages({ source: instanceId, seq: 3 }, [{ player: 'alice', text: 'Test!' }]);
 */
export async function writeMessages(batch: BatchId, messages: readonly OutMessage[], nowMs = Date.now(), extra?: ExtraActions): Promise<void> {
  if (messages.length === 0 && !extra?.actions.length) return;
  const client = await table('Messages');
  const byPlayer = new Map<string, string[]>();
  if (extra?.actions.length) byPlayer.set(extra.player, []);
  for (const m of messages) byPlayer.set(m.player, [...(byPlayer.get(m.player) ?? []), m.text]);
  const sourceHash = hash(batch.source);
  await Promise.all(
    [...byPlayer].map(async ([player, texts]) => {
      // One transaction per chunk: the marker row and the messages commit together or not at all.
      const chunks: string[][] = [[]];
      const own = extra?.player === player ? extra.actions : [];
      let bytes = 0;
      for (const text of texts) {
        const size = Buffer.byteLength(text) + 200;
        const current = chunks[chunks.length - 1];
        if (current.length > 0 && (current.length + (chunks.length === 1 ? own.length : 0) >= 99 || bytes + size > CHUNK_BYTES)) {
          chunks.push([]);
          bytes = 0;
        }
        chunks[chunks.length - 1].push(text);
        bytes += size;
      }
      let index = 0;
      const committed: Row[] = [];
      for (const [c, chunk] of chunks.entries()) {
        const marker = `x${sourceHash}.${batch.seq}.${c}`;
        const actions: TransactionAction[] = [['create', { partitionKey: player, rowKey: marker, t: nowMs }], ...(c === 0 ? own : [])];
        const rows: Row[] = [];
        for (const text of chunk) {
          const rowKey = `m${pad(nowMs, 15)}.${pad(batch.seq, 8)}.${sourceHash}.${pad(index++, 4)}`;
          actions.push(['create', { partitionKey: player, rowKey, text, t: nowMs }]);
          rows.push({ rowKey, text });
        }
        try {
          await client.submitTransaction(actions);
          committed.push(...rows);
        } catch (err) {
          const status = statusOf(err);
          if (status === 409 && (await exists(player, marker))) continue; // delivered before: nothing to do
          if (c === 0 && own.length > 0 && (status === 409 || status === 404)) {
            throw new ExtraConflict(player, status);
          }
          throw storageError(err, `write ${chunk.length} message(s) for ${player}`);
        }
      }
      if (committed.length > 0) written.emit(player, committed);
    }),
  );
}

async function exists(player: string, rowKey: string): Promise<boolean> {
  const client = await table('Messages');
  try {
    await client.getEntity(player, rowKey);
    return true;
  } catch (err) {
    if (statusOf(err) === 404) return false;
    throw storageError(err, 'check a delivery marker');
  }
}

interface Cursor {
  /** Newest row key returned so far. */
  k: string;
  /** Row keys already returned that lie within WINDOW_MS of `k`. */
  s: string[];
}

function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (typeof value.k === 'string' && /^m\d{15}/.test(value.k) && Array.isArray(value.s) && value.s.every((s) => typeof s === 'string')) {
      return { k: value.k, s: value.s };
    }
  } catch {
    // fall through to the error below
  }
  throw new GameError('invalid_query', `after=${JSON.stringify(cursor.slice(0, 60))} is not a cursor this server returned; omit it to read from the start.`);
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

/**
 * Reads a player's messages after `cursor`, oldest first, at most 100; returns them and the next cursor.
 *
 * @example
 * const { messages, cursor } = await readMessages('alice', previousCursor);
 */
export async function readMessages(player: string, cursor?: string, nowMs = Date.now()): Promise<{ messages: ReadMessage[]; cursor: string }> {
  const from = decodeCursor(cursor);
  const seen = new Set(from?.s ?? []);
  const low = lowKey(from, nowMs);
  const client = await table('Messages');
  const rows: Row[] = [];
  try {
    const pages = client
      .listEntities<{ text: string; t: number }>({ queryOptions: { filter: odata`PartitionKey eq ${player} and RowKey ge ${low} and RowKey lt ${'n'}` } })
      .byPage({ maxPageSize: 1000 });
    for await (const page of pages) {
      for (const row of page) if (row.rowKey && !seen.has(row.rowKey)) rows.push({ rowKey: row.rowKey, text: row.text });
      if (rows.length >= PAGE) break;
    }
  } catch (err) {
    throw storageError(err, `read messages of ${player}`);
  }
  return pageAfter(from, rows);
}

/** The oldest row key a read after `from` must look at (the window behind the cursor, within retention). */
function lowKey(from: Cursor | undefined, nowMs: number): string {
  const lowMs = Math.max(from ? timeOfKey(from.k) - WINDOW_MS : 0, nowMs - settings.messageRetentionSeconds() * 1000, 0);
  return `m${pad(lowMs, 15)}`;
}

/** The page of `rows` (not yet seen, at or above the low key) a reader at `from` gets, and its next cursor. */
function pageAfter(from: Cursor | undefined, candidates: Row[]): { messages: ReadMessage[]; cursor: string } {
  const seen = new Set(from?.s ?? []);
  const rows = candidates.filter((r) => !seen.has(r.rowKey));
  rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
  const page = rows.slice(0, PAGE);
  const messages = page.map((row) => ({ id: row.rowKey, text: row.text, time: new Date(timeOfKey(row.rowKey)).toISOString() }));
  let k = from?.k ?? `m${pad(0, 15)}`;
  for (const row of page) if (row.rowKey > k) k = row.rowKey;
  const horizon = timeOfKey(k) - WINDOW_MS;
  const s = [...seen, ...page.map((r) => r.rowKey)].filter((key) => timeOfKey(key) >= horizon);
  return { messages, cursor: encodeCursor({ k, s }) };
}

/**
 * Like readMessages, but when nothing is there yet, waits up to `waitSeconds` for a message to arrive.
 *
 * @example
 * const result = await waitForMessages('alice', cursor, 25);
 */
export async function waitForMessages(player: string, cursor: string | undefined, waitSeconds: number, pollMs = 1000): Promise<{ messages: ReadMessage[]; cursor: string }> {
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    // Subscribe before reading so a write between the read and the wait is not missed.
    const pushed: Row[] = [];
    let wake: () => void = () => undefined;
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const onWrite = (rows: Row[]): void => {
      pushed.push(...rows);
      wake();
    };
    written.on(player, onWrite);
    try {
      const result = await readMessages(player, cursor);
      const left = deadline - Date.now();
      if (result.messages.length > 0 || left <= 0) return result;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.min(pollMs, left))))]);
      clearTimeout(timer);
      cursor = result.cursor;
      // Rows this process just committed answer the wait without another query; rows written elsewhere
      // meanwhile are within the cursor's window and come with the next read.
      if (pushed.length > 0) {
        const from = decodeCursor(cursor);
        const low = lowKey(from, Date.now());
        const fresh = pageAfter(from, pushed.filter((r) => r.rowKey >= low));
        if (fresh.messages.length > 0) return fresh;
      }
    } finally {
      written.off(player, onWrite);
    }
  }
}

/**
 * Deletes a player's messages and delivery markers older than the retention setting (at most `limit` rows).
 *
 * @example
 * await trimMessages('alice');
 */
export async function trimMessages(player: string, nowMs = Date.now(), limit = 500): Promise<number> {
  const client = await table('Messages');
  const before = nowMs - settings.messageRetentionSeconds() * 1000;
  let deleted = 0;
  try {
    // Timestamp is the service's write time: it ages messages and delivery markers alike.
    // Prompt rows ('p…') stay: they live as long as the question waits.
    const old = client.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${player} and Timestamp lt ${new Date(before)} and (RowKey lt ${'p'} or RowKey ge ${'q'})`, select: ['RowKey'] },
    });
    const batch: TransactionAction[] = [];
    for await (const row of old) {
      batch.push(['delete', { partitionKey: player, rowKey: row.rowKey ?? '' }]);
      if (batch.length === 100) {
        await client.submitTransaction(batch.splice(0));
        deleted += 100;
      }
      if (deleted + batch.length >= limit) break;
    }
    if (batch.length > 0) {
      await client.submitTransaction(batch);
      deleted += batch.length;
    }
  } catch (err) {
    throw storageError(err, `trim messages of ${player}`);
  }
  return deleted;
}

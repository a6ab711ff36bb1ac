// The player outbox on Table Storage (table Messages, partition = player): exactly-once writes per batch and
// cursor reads that never miss a message committed shortly after a newer one (see `WINDOW_MS`).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { odata, type TransactionAction } from '@azure/data-tables';
import { remember } from './bounded';
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
  /**
   * When the batch was made (ms), the same on every retry: an orchestration's currentUtcDateTime, or Date.now() for
   * a source used only once. A batch written within FRESH_MS of it is stored under row keys that depend only on the
   * batch (one plain insert per message): a retry finds its rows taken and writes nothing. Without it, or later, the
   * rows get the writer's clock and a marker row in the same transaction makes retries no-ops.
   */
  at?: number;
}

/**
 * How late (or early, by clock skew) a stamped batch may be written under its own time. Keeps every row's time
 * within WINDOW_MS of its commit, which is what readers rely on.
 */
export const FRESH_MS = 1000;

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

/**
 * Longest a message write may take, the SDK's retries included: it commits within WINDOW_MS of its rows' time (a
 * stamped batch's time may be FRESH_MS old when the write starts), or fails as storage_unavailable and is written again
 * later under a new time (its guard rows keep that exactly-once). Without a bound, a write made during a storage outage
 * was retried by the SDK until the outage ended and landed after readers had moved more than WINDOW_MS past its rows,
 * so they never delivered it.
 */
export const MAX_WRITE_MS = WINDOW_MS - FRESH_MS - 1000;

const PAGE = 100;
/** Most prompt changes (ExtraActions) that commit with a batch's first chunk. */
export const MAX_EXTRA_ACTIONS = 50;
const CHUNK_BYTES = 2_000_000;

/** The newest row time this process wrote to each player's partition (most recent players only). */
const lastWritten = new Map<string, number>();
const LAST_WRITTEN_PLAYERS = 10_000;

function noteWritten(player: string, ms: number): void {
  remember(lastWritten, player, Math.max(lastWritten.get(player) ?? 0, ms), LAST_WRITTEN_PLAYERS);
}

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
  const abortSignal = AbortSignal.timeout(MAX_WRITE_MS);
  const client = await table('Messages');
  const byPlayer = new Map<string, string[]>();
  if (extra?.actions.length) byPlayer.set(extra.player, []);
  for (const m of messages) {
    const texts = byPlayer.get(m.player);
    if (texts) texts.push(m.text);
    else byPlayer.set(m.player, [m.text]);
  }
  const sourceHash = hash(batch.source);
  const keyOf = (ms: number, i: number): string => `m${pad(ms, 15)}.${pad(batch.seq, 8)}.${sourceHash}.${pad(i, 4)}`;
  // Prompt changes (extra) always take the marker transaction: they must commit with the messages.
  const stampable = !extra?.actions.length && batch.at !== undefined;
  await Promise.all(
    [...byPlayer].map(async ([player, texts]) => {
      // Under its own time only when on time and not older than what this process last wrote to the player (a
      // clock behind the writers', e.g. the devhost's virtual one, must not reorder what one process wrote).
      const at = batch.at as number;
      const stamped = stampable && Math.abs(nowMs - at) <= FRESH_MS && at > (lastWritten.get(player) ?? 0);
      // Otherwise the writer's clock, but never before what this process already wrote to the player (so its
      // writes keep their order even after a stamp from a clock ahead), nor the stamp's own ms (the placeholder
      // below takes that key).
      let keyMs = stamped ? at : Math.max(nowMs, (lastWritten.get(player) ?? 0) + 1);
      if (!stamped && stampable && keyMs === at) keyMs++;
      // Chunks that each commit whole: with the guard rows (up to two; and, in the first, up to MAX_EXTRA_ACTIONS
      // prompt changes) at most a transaction's 100 rows, and 2 MB. The boundaries never depend on the prompt changes
      // actually present, so a retry that writes the same batch without them (delivery.ts) chunks it the same.
      const chunks: string[][] = [[]];
      const own = extra?.player === player ? extra.actions : [];
      if (own.length > MAX_EXTRA_ACTIONS) throw new GameError('invalid_body', `At most ${MAX_EXTRA_ACTIONS} prompt changes commit with messages; got ${own.length}.`);
      let bytes = 0;
      for (const text of texts) {
        const size = Buffer.byteLength(text) + 200;
        const current = chunks[chunks.length - 1];
        const room = chunks.length === 1 ? 98 - MAX_EXTRA_ACTIONS : 98;
        if (current.length > 0 && (current.length >= room || bytes + size > CHUNK_BYTES)) {
          chunks.push([]);
          bytes = 0;
        }
        chunks[chunks.length - 1].push(text);
        bytes += size;
      }
      let index = 0;
      const committed: Row[] = [];
      for (const [c, chunk] of chunks.entries()) {
        const first = index;
        if (stamped) {
          // On time: the rows' keys are the batch's own, so a plain insert is exactly-once.
          const rows = chunk.map((text) => ({ rowKey: keyOf(keyMs, index++), text }));
          try {
            const entities = rows.map((r) => ({ partitionKey: player, rowKey: r.rowKey, text: r.text, t: keyMs }));
            if (entities.length === 1) await client.createEntity(entities[0], { abortSignal });
            else await client.submitTransaction(entities.map((e): TransactionAction => ['create', e]), { abortSignal });
            committed.push(...rows);
          } catch (err) {
            if (statusOf(err) !== 409) throw storageError(err, `write ${chunk.length} message(s) for ${player}`);
            // 409: an earlier attempt wrote this chunk (a chunk commits whole).
          }
          continue;
        }
        // Under the writer's clock. The first row of the transaction guards against a second write: a marker row
        // for unstamped batches; for stamped ones, a text-less placeholder at the chunk's on-time key, so that
        // an on-time attempt (before or after this one, on any instance) and this one exclude each other.
        const marker = `x${sourceHash}.${batch.seq}.${c}`;
        const guardKey = stampable ? keyOf(batch.at as number, first) : marker;
        const actions: TransactionAction[] = [['create', { partitionKey: player, rowKey: guardKey, t: keyMs }], ...(c === 0 ? own : [])];
        // A stamped batch also takes the marker: an attempt by a version that wrote markers only is seen too.
        if (stampable) actions.push(['create', { partitionKey: player, rowKey: marker, t: keyMs }]);
        const rows: Row[] = [];
        for (const text of chunk) {
          const rowKey = keyOf(keyMs, index++);
          actions.push(['create', { partitionKey: player, rowKey, text, t: keyMs }]);
          rows.push({ rowKey, text });
        }
        try {
          await client.submitTransaction(actions, { abortSignal });
          committed.push(...rows);
        } catch (err) {
          const status = statusOf(err);
          if (status === 409 && (stampable || (await exists(player, guardKey)))) continue; // delivered before: nothing to do
          if (c === 0 && own.length > 0 && (status === 409 || status === 404)) {
            throw new ExtraConflict(player, status);
          }
          throw storageError(err, `write ${chunk.length} message(s) for ${player}`);
        }
      }
      if (committed.length > 0) {
        noteWritten(player, keyMs);
        written.emit(player, committed);
      }
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

/**
 * Most messages a cursor remembers from its window. A player who gets more than this within WINDOW_MS (a fast
 * loop) has the window shortened to the remembered ones instead: the cursor must stay short enough for a URL.
 */
export const CURSOR_MEMORY = 128;

interface Cursor {
  /** Newest row key returned so far. */
  k: string;
  /**
   * Messages already returned within the window behind `k`, each as `<ms before k, base 36>.<short hash of the
   * row key>`: compact, so the cursor stays about 2 KB at most however fast messages come.
   */
  s: string[];
  /** When set, rows older than this time (ms) are not read again: the window was shortened (see CURSOR_MEMORY). */
  lo?: number;
}

/** Short ids of recent row keys: readers re-read their window, so the same keys come back many times. */
const seenIds = new Map<string, string>();
const SEEN_IDS_MAX = 20_000;

function seenId(rowKey: string): string {
  return seenIds.get(rowKey) ?? remember(seenIds, rowKey, createHash('sha256').update(rowKey).digest('base64url').slice(0, 8), SEEN_IDS_MAX);
}
const idOfEntry = (entry: string): string => entry.slice(entry.indexOf('.') + 1);

/** A cursor's `k`: a message row key (writeMessages' keyOf), or the start of the partition. */
const CURSOR_KEY = /^m\d{15}(\.\d{8,}\.[0-9a-f]{16}\.\d{4,})?$/;

function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof value.k === 'string' &&
      CURSOR_KEY.test(value.k) &&
      Array.isArray(value.s) &&
      value.s.length <= 4 * CURSOR_MEMORY &&
      value.s.every((e) => typeof e === 'string' && /^[0-9a-z]+\.[\w-]+$/.test(e)) &&
      (value.lo === undefined || (Number.isSafeInteger(value.lo) && value.lo >= 0))
    ) {
      const decoded: Cursor = { k: value.k, s: value.s, lo: value.lo };
      // Only the exact text encodeCursor makes: base64 decoding skips characters outside its alphabet and takes padding
      // or standard base64, and JSON takes other key orders, spaces and extra keys; none of those is a cursor we made.
      if (encodeCursor(decoded) === cursor) return decoded;
    }
  } catch {
    // fall through to the error below
  }
  throw new GameError('invalid_query', `after=${JSON.stringify(cursor.slice(0, 60))} is not a cursor this server returned; omit it to read from the start.`);
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

/** The ids (short hashes) of the messages a cursor already returned. */
const seenSet = (from: Cursor | undefined): Set<string> => new Set((from?.s ?? []).map(idOfEntry));

/**
 * Reads a player's messages after `cursor`, oldest first, at most 100; returns them and the next cursor.
 *
 * @example
 * const { messages, cursor } = await readMessages('alice', previousCursor);
 */
export async function readMessages(player: string, cursor?: string, nowMs = Date.now()): Promise<{ messages: ReadMessage[]; cursor: string }> {
  const from = decodeCursor(cursor);
  const seen = seenSet(from);
  const low = lowKey(from, nowMs);
  const client = await table('Messages');
  const rows: Row[] = [];
  try {
    const pages = client
      .listEntities<{ text: string; t: number }>({ queryOptions: { filter: odata`PartitionKey eq ${player} and RowKey ge ${low} and RowKey lt ${'n'}` } })
      .byPage({ maxPageSize: 1000 });
    for await (const page of pages) {
      for (const row of page) {
        // Rows without text are placeholders of batches written late (see writeMessages), not messages.
        if (row.rowKey && typeof row.text === 'string' && !seen.has(seenId(row.rowKey))) rows.push({ rowKey: row.rowKey, text: row.text });
      }
      if (rows.length >= PAGE) break;
    }
  } catch (err) {
    throw storageError(err, `read messages of ${player}`);
  }
  return pageAfter(from, rows);
}

/** The oldest row key a read after `from` must look at (the window behind the cursor, within retention). */
function lowKey(from: Cursor | undefined, nowMs: number): string {
  const lowMs = Math.max(from ? timeOfKey(from.k) - WINDOW_MS : 0, from?.lo ?? 0, nowMs - settings.messageRetentionSeconds() * 1000, 0);
  return `m${pad(lowMs, 15)}`;
}

/** The page of `rows` (not yet seen, at or above the low key) a reader at `from` gets, and its next cursor. */
function pageAfter(from: Cursor | undefined, candidates: Row[]): { messages: ReadMessage[]; cursor: string } {
  const seen = seenSet(from);
  const rows = candidates.filter((r) => !seen.has(seenId(r.rowKey)));
  rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
  const page = rows.slice(0, PAGE);
  const messages = page.map((row) => ({ id: row.rowKey, text: row.text, time: new Date(timeOfKey(row.rowKey)).toISOString() }));
  let k = from?.k ?? `m${pad(0, 15)}`;
  for (const row of page) if (row.rowKey > k) k = row.rowKey;
  const kt = timeOfKey(k);
  // Everything remembered, with its time, newest first: what the previous cursor held, and this page.
  const oldKt = from ? timeOfKey(from.k) : kt;
  const remembered = [
    ...(from?.s ?? []).map((e) => ({ t: oldKt - parseInt(e.slice(0, e.indexOf('.')), 36), id: idOfEntry(e) })),
    ...page.map((r) => ({ t: timeOfKey(r.rowKey), id: seenId(r.rowKey) })),
  ]
    .filter((e) => e.t >= kt - WINDOW_MS && e.t >= (from?.lo ?? 0))
    .sort((a, b) => b.t - a.t);
  let lo = from?.lo !== undefined && from.lo > kt - WINDOW_MS ? from.lo : undefined;
  let kept = remembered;
  if (remembered.length > CURSOR_MEMORY) {
    // Too many to remember: stop re-reading below the oldest kept time (all messages of that very ms are kept).
    lo = remembered[CURSOR_MEMORY - 1].t;
    kept = remembered.filter((e) => e.t >= lo!);
  }
  const s = kept.map((e) => `${(kt - e.t).toString(36)}.${e.id}`);
  return { messages, cursor: encodeCursor(lo === undefined ? { k, s } : { k, s, lo }) };
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

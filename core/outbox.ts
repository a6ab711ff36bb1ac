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

/**
 * How long after a table read began a waiting reader may move its cursor past rows this process just wrote
 * (pageOfWritten) without reading again: what WINDOW_MS has left beyond FRESH_MS and MAX_WRITE_MS. A write from
 * another instance that commits after that read is at most FRESH_MS + MAX_WRITE_MS older than its commit, so it
 * stays within the window of a cursor moved no later than this.
 */
export const OWN_WRITES_MS = WINDOW_MS - FRESH_MS - MAX_WRITE_MS;

/** Most messages one read returns. */
export const PAGE = 100;
/** Most prompt changes (ExtraActions) that commit with a batch's first chunk. */
export const MAX_EXTRA_ACTIONS = 50;
const CHUNK_BYTES = 2_000_000;

/** The newest row time this process wrote to each player's partition (most recent players only). */
const lastWritten = new Map<string, number>();
const LAST_WRITTEN_PLAYERS = 10_000;

function noteWritten(player: string, ms: number): void {
  remember(lastWritten, player, Math.max(lastWritten.get(player) ?? 0, ms), LAST_WRITTEN_PLAYERS);
}

/** Local wake-ups for waiting readers in this process (watch.ts). Only a latency shortcut: readers also poll the table. */
const written = new EventEmitter();
written.setMaxListeners(0);

/** A message row as stored. */
export interface Row {
  rowKey: string;
  text: string;
}

/**
 * Calls `listener` with the rows this process commits to `player`'s outbox, until the returned function is called.
 *
 * @example
 * const stop = onWritten('alice', (rows) => wake());
 * stop();
 */
export function onWritten(player: string, listener: (rows: Row[]) => void): () => void {
  written.on(player, listener);
  return () => {
    written.off(player, listener);
  };
}

/**
 * How many readers of this process are listening for writes (onWritten), all players together: 0 when no
 * long poll or stream is open. Tests check that closed streams leave nothing behind.
 *
 * @example
 * expect(writeListenerCount()).toBe(0);
 */
export function writeListenerCount(): number {
  let n = 0;
  for (const player of written.eventNames()) n += written.listenerCount(player);
  return n;
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
  /**
   * Whose outbox the cursor reads (a short hash of the player), so another player's cursor is refused instead of
   * silently skipping this player's messages. Cursors made before it was added have none and are taken as they are.
   */
  p?: string;
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

const playerTags = new Map<string, string>();
/** The cursor's tag of a player (Cursor.p). */
function playerTag(player: string): string {
  return playerTags.get(player) ?? remember(playerTags, player, createHash('sha256').update(`cursor:${player}`).digest('base64url').slice(0, 8), SEEN_IDS_MAX);
}

/** Where a cursor came from, as its error message names it. */
export type CursorSource = 'after' | 'Last-Event-ID';

function decodeCursor(cursor: string | undefined, player: string, source: CursorSource = 'after'): Cursor | undefined {
  if (!cursor) return undefined;
  const named = source === 'after' ? `after=${JSON.stringify(cursor.slice(0, 60))}` : `Last-Event-ID ${JSON.stringify(cursor.slice(0, 60))}`;
  let decoded: Cursor | undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      (value.p === undefined || (typeof value.p === 'string' && /^[\w-]{8}$/.test(value.p))) &&
      typeof value.k === 'string' &&
      CURSOR_KEY.test(value.k) &&
      Array.isArray(value.s) &&
      value.s.length <= 4 * CURSOR_MEMORY &&
      value.s.every((e) => typeof e === 'string' && /^[0-9a-z]+\.[\w-]+$/.test(e)) &&
      (value.lo === undefined || (Number.isSafeInteger(value.lo) && value.lo >= 0))
    ) {
      const candidate: Cursor = { p: value.p, k: value.k, s: value.s, lo: value.lo };
      // Only the exact text encodeCursor makes: base64 decoding skips characters outside its alphabet and takes padding
      // or standard base64, and JSON takes other key orders, spaces and extra keys; none of those is a cursor we made.
      if (encodeCursor(candidate) === cursor) decoded = candidate;
    }
  } catch {
    // fall through to the error below
  }
  if (!decoded) throw new GameError('invalid_query', `${named} is not a cursor this server returned; omit it to read from the start.`);
  if (decoded.p !== undefined && decoded.p !== playerTag(player)) {
    throw new GameError('invalid_query', `${named} is a cursor of another player's messages; use a cursor you were given, or omit it to read from the start.`);
  }
  return decoded;
}

/** One fixed key order (JSON.stringify drops the undefined ones), so a cursor has exactly one spelling. */
const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify({ p: c.p, k: c.k, s: c.s, lo: c.lo })).toString('base64url');

/**
 * Checks a cursor a client sent before anything is read, so a stream can refuse it with a 400 before it opens.
 *
 * @example
 * checkCursor('alice', req.headers.get('last-event-id') ?? undefined, 'Last-Event-ID'); // GameError('invalid_query') if bad
 */
export function checkCursor(player: string, cursor: string | undefined, source: CursorSource): void {
  decodeCursor(cursor, player, source);
}

/** The ids (short hashes) of the messages a cursor already returned. */
const seenSet = (from: Cursor | undefined): Set<string> => new Set((from?.s ?? []).map(idOfEntry));

/** A page of messages and the cursor that reads on after it. */
export interface MessagePage {
  messages: ReadMessage[];
  cursor: string;
}

/** A page with a cursor per message: `after[i]` resumes right after `messages[i]` (a stream's event ids). */
export interface EachPage extends MessagePage {
  after: string[];
}

/**
 * Reads a player's messages after `cursor`, oldest first, at most 100; returns them and the next cursor.
 *
 * @example
 * const { messages, cursor } = await readMessages('alice', previousCursor);
 */
export async function readMessages(player: string, cursor?: string, nowMs = Date.now()): Promise<MessagePage> {
  const { messages, cursor: next } = await readPage(player, cursor, nowMs, false);
  return { messages, cursor: next };
}

/**
 * Like readMessages, with a cursor after each message as well.
 *
 * @example
 * const { messages, after } = await readMessagesEach('alice', cursor); // after[i]: the event id of messages[i]
 */
export function readMessagesEach(player: string, cursor?: string, nowMs = Date.now()): Promise<EachPage> {
  return readPage(player, cursor, nowMs, true) as Promise<EachPage>;
}

async function readPage(player: string, cursor: string | undefined, nowMs: number, each: boolean): Promise<MessagePage & { after?: string[] }> {
  const from = decodeCursor(cursor, player);
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
  return pageAfter(player, from, rows, each);
}

/**
 * The page a reader at `cursor` gets from `rows` this process has just written (onWritten), without reading the
 * table; rows behind the cursor's window or already returned are left out. Rows other instances wrote meanwhile
 * are within the window of the cursor it returns, so the next table read still finds them.
 *
 * @example
 * const page = pageOfWritten('alice', cursor, rows, Date.now(), true);
 */
export function pageOfWritten(player: string, cursor: string | undefined, rows: readonly Row[], nowMs: number, each: boolean): MessagePage & { after?: string[] } {
  const from = decodeCursor(cursor, player);
  const low = lowKey(from, nowMs);
  return pageAfter(player, from, rows.filter((r) => r.rowKey >= low), each);
}

/** The oldest row key a read after `from` must look at (the window behind the cursor, within retention). */
function lowKey(from: Cursor | undefined, nowMs: number): string {
  const lowMs = Math.max(from ? timeOfKey(from.k) - WINDOW_MS : 0, from?.lo ?? 0, nowMs - settings.messageRetentionSeconds() * 1000, 0);
  return `m${pad(lowMs, 15)}`;
}

/**
 * The page of `candidates` (not yet seen, at or above the low key) a reader at `from` gets, and its next cursor;
 * with `each`, also the cursor after each message (the cursors a reader taking one message at a time would get).
 */
function pageAfter(player: string, from: Cursor | undefined, candidates: readonly Row[], each: boolean): MessagePage & { after?: string[] } {
  const seen = seenSet(from);
  const unique = new Map<string, Row>();
  for (const r of candidates) if (!seen.has(seenId(r.rowKey))) unique.set(r.rowKey, r);
  const rows = [...unique.values()].sort((a, b) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0));
  const page = rows.slice(0, PAGE);
  const messages = page.map((row) => ({ id: row.rowKey, text: row.text, time: new Date(timeOfKey(row.rowKey)).toISOString() }));
  if (!each) return { messages, cursor: encodeCursor(advance(player, from, page)) };
  const after: string[] = [];
  let at = from;
  for (const row of page) {
    at = advance(player, at, [row]);
    after.push(encodeCursor(at));
  }
  return { messages, cursor: after.length > 0 ? after[after.length - 1] : encodeCursor(advance(player, from, [])), after };
}

/** The cursor after `page` (sorted, unseen rows) for a reader at `from`. */
function advance(player: string, from: Cursor | undefined, page: readonly Row[]): Cursor {
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
  return { p: playerTag(player), k, s, lo };
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

// How the table store lays out and encodes an instance's rows (meta, history, inbox): keys, JSON split over
// properties, size limits, and the error type of the store. Used by table.ts, which does the I/O.
import { TableEntity, TableEntityResult } from '@azure/data-tables';
import { HistoryEvent, InboxMessage, InstanceMeta } from './types';

// Row layout of the `<taskHub>Instances` table (PartitionKey = instance id):
//   M                          the meta: JSON in d0,d1,... plus the plain columns status, createdTime, name
//                              (for server-side filters), t0,t1,... (tombstones, see `commit`) and historyFrom
//                              (after a rewind: the first history row of the execution that counts)
//   H:<executionId>:<seq>      the events one commit appended to that execution (JSON array in d0,d1,...), and
//                              the engine's action signatures it recorded (JSON array in a0,a1,...; first row only)
//   I:<message id>             one inbox message (JSON in d0,d1,...)
// Row keys sort as the engine needs them: seq is zero-padded, message ids are sortable by contract.
// Beside it, `<taskHub>Index` holds one summary row per instance for listing and recovery (see table-index.ts).

/** An entity-group transaction holds at most 100 operations. */
export const MAX_TX_ACTIONS = 100;
/** A string property holds 64 KiB = 32,768 UTF-16 units; chunks stay below with a margin. */
const CHUNK_CHARS = 30_000;
/** An entity holds 1 MiB (strings counted as UTF-16); one commit stays below with a margin. */
const MAX_WRITE_BYTES = 900 * 1024;
/** One transaction's body holds 4 MiB; commits stay below with a margin. */
export const MAX_TX_BYTES = 3.5 * 1024 * 1024;
/** Characters of JSON per history row (UTF-16: twice that in bytes, below MAX_WRITE_BYTES). */
const ROW_CHARS = 400_000;
export const SEQ_DIGITS = 10;
export const META_ROW = 'M';
export const INBOX = 'I:';

/** Characters Azure Table keys may not contain. */
const BAD_KEY_CHAR = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

/** Stable codes of TableStore's own errors. */
export type TableStoreErrorCode =
  /** One write would exceed what an Azure Table entity holds (1 MiB; the store stops at 900 KB). */
  | 'PayloadTooLarge'
  /** A commit met a history row it did not expect: another writer, or a view older than the stored one. Nothing was written. */
  | 'StaleWrite'
  /** A value that must become a table key contains '/', '\\', '#', '?' or a control character, or is empty. */
  | 'InvalidKey'
  /** A task hub name or connection string the store cannot use. */
  | 'InvalidConfig'
  /** A purge kept meeting new rows and gave up. */
  | 'PurgeContention';

/**
 * An error of the table store, with a stable `code` (match on `code`, not `instanceof`).
 * @example if ((err as { code?: string }).code === 'PayloadTooLarge') return fail(413, err.message);
 */
export class TableStoreError extends Error {
  constructor(readonly code: TableStoreErrorCode, message: string) {
    super(message);
    this.name = 'TableStoreError';
  }
}

/**
 * While an execution's history is short, it lives in the meta row itself (`h` chunks, actions in `g`), so a
 * waiting instance is one row and loads with one read (recovery of 10,000 timers: 10,000 reads, not 20,000).
 * The commit that would make it longer than INLINE_CHARS moves it into history rows (same transaction), and
 * from then on the execution appends rows as before.
 */
export interface Inline {
  events: string;
  actions: string;
}
export const INLINE_CHARS = 8_000;
export const EMPTY_INLINE: Inline = { events: '[]', actions: '[]' };

/**
 * What the meta row says about the other rows of its partition, so that `load` can read them by key (point
 * reads) instead of querying the partition: Azurite answers any query by scanning the whole table, which made
 * recovery of 10,000 instances take minutes. `hn` = history rows of the current execution, `i` chunks = the ids
 * of unconsumed inbox rows; an enqueue sets `qx` (the list may be incomplete: query instead) and the next
 * commit, which knows the inbox, writes the list again without it.
 */
export interface Inventory {
  historyRows: number;
  inbox: string[];
}
/** Up to this many history rows, a load reads rows by key; beyond, one partition query is cheaper. */
export const MAX_POINT_READS = 16;

type Props = Record<string, string>;
export type Entity = TableEntity<Props>;
export type Row = TableEntityResult<Record<string, unknown>>;

/** True when `value` can be a PartitionKey/RowKey. An id that cannot was never stored: reads treat it as absent. */
export function isKey(value: string): boolean {
  return value.length > 0 && !BAD_KEY_CHAR.test(value);
}

export function checkKey(value: string, what: string): string {
  if (!isKey(value)) {
    throw new TableStoreError('InvalidKey', `The ${what} '${value}' cannot be a table key: it must be non-empty without '/', '\\', '#', '?' or control characters.`);
  }
  return value;
}

export function historyPrefix(executionId: string): string {
  return `H:${executionId}:`;
}

export function metaEntity(meta: InstanceMeta, tombstones: string[], inventory: Inventory, inline?: Inline, historyFrom = 0): Entity {
  const e: Entity = {
    ...(inline ? { ...chunks('h', inline.events), ...chunks('g', inline.actions) } : {}),
    partitionKey: meta.instanceId,
    rowKey: META_ROW,
    status: meta.status,
    createdTime: meta.createdTime,
    name: meta.name,
    ...chunks('d', JSON.stringify(meta)),
    hn: String(inventory.historyRows),
    ...chunks('i', JSON.stringify(inventory.inbox)),
    ...(historyFrom > 0 ? { historyFrom: String(historyFrom) } : {}),
  };
  return tombstones.length > 0 ? { ...e, ...chunks('t', JSON.stringify(tombstones)) } : e;
}

/** The current execution's history kept in the meta row, or undefined when it lives in history rows. */
export function inlineOf(m: Record<string, unknown>): Inline | undefined {
  return typeof m.h0 === 'string' ? { events: readChunks(m, 'h'), actions: readChunks(m, 'g', '[]') } : undefined;
}

/** Two JSON array texts as one, without parsing them. */
export function joinJsonArrays(a: string, b: string): string {
  if (a === '[]') return b;
  if (b === '[]') return a;
  return `${a.slice(0, -1)},${b.slice(1)}`;
}

/** The meta row's inventory, or undefined when it has none (written before it existed) or an enqueue marked it incomplete. */
export function inventoryOf(m: Record<string, unknown>): Inventory | undefined {
  if (typeof m.hn !== 'string' || m.qx !== undefined) return undefined;
  return { historyRows: Number(m.hn), inbox: JSON.parse(readChunks(m, 'i', '[]')) as string[] };
}

function historyEntity(id: string, executionId: string, seq: number, events: HistoryEvent[], actions: string[] = []): Entity {
  const row: Entity = { partitionKey: id, rowKey: historyPrefix(executionId) + String(seq).padStart(SEQ_DIGITS, '0'), ...chunks('d', JSON.stringify(events)) };
  return actions.length > 0 ? { ...row, ...chunks('a', JSON.stringify(actions)) } : row;
}

/**
 * The appended events as history rows: usually one, more when they would not fit one entity (a large
 * activity result and the output that repeats it). Rows are filled in order, so loading them in seq
 * order gives the events back in order.
 */
export function historyEntities(id: string, executionId: string, seq: number, events: HistoryEvent[], actions: string[]): Entity[] {
  const rows: Entity[] = [];
  let group: HistoryEvent[] = [];
  let chars = JSON.stringify(actions).length;
  for (const ev of events) {
    const n = JSON.stringify(ev).length;
    if (group.length > 0 && chars + n > ROW_CHARS) {
      rows.push(historyEntity(id, executionId, seq + rows.length, group, rows.length === 0 ? actions : []));
      group = [];
      chars = 0;
    }
    group.push(ev);
    chars += n + 1;
  }
  if (group.length > 0 || (rows.length === 0 && actions.length > 0)) rows.push(historyEntity(id, executionId, seq + rows.length, group, rows.length === 0 ? actions : []));
  return rows;
}

export function inboxEntity(id: string, message: InboxMessage): Entity {
  return { partitionKey: id, rowKey: INBOX + checkKey(message.id, 'message id'), ...chunks('d', JSON.stringify(message)) };
}

/**
 * Splits text over properties `<p>0`, `<p>1`, ... of at most CHUNK_CHARS each. A cut never falls inside a
 * surrogate pair: a lone surrogate does not survive UTF-8 on the wire (it would come back as U+FFFD).
 */
export function chunks(p: string, text: string): Props {
  const out: Props = {};
  let n = 0;
  let i = 0;
  do {
    let end = Math.min(i + CHUNK_CHARS, text.length);
    const c = text.charCodeAt(end - 1);
    if (end < text.length && c >= 0xd800 && c <= 0xdbff) end--;
    out[`${p}${n++}`] = text.slice(i, end);
    i = end;
  } while (i < text.length);
  return out;
}

/** What identifies a row's payload without reading a blob: the blob name, or the JSON itself. */
export function payloadKey(row: Record<string, unknown>): string {
  return typeof row.b === 'string' ? `blob:${row.b}` : readChunks(row, 'd');
}

export function readChunks(row: Record<string, unknown>, p: string, fallback?: string): string {
  let text = '';
  let n = 0;
  for (let v = row[`${p}0`]; typeof v === 'string'; v = row[`${p}${++n}`]) text += v;
  if (n > 0) return text;
  if (fallback !== undefined) return fallback;
  throw new Error(`Row '${String(row.rowKey)}' of instance '${String(row.partitionKey)}' has no '${p}0' property: it was not written by TableStore.`);
}

/** Entity size as the service counts it: UTF-16 strings plus a little per property. */
export function entityBytes(e: Entity): number {
  let n = 0;
  for (const [k, v] of Object.entries(e)) n += 2 * k.length + 8 + (typeof v === 'string' ? 2 * v.length : 8);
  return n;
}

export function checkSize(id: string, what: string, entities: Entity[], limit = MAX_WRITE_BYTES): void {
  const bytes = entities.reduce((n, e) => n + entityBytes(e), 0);
  if (bytes > limit) {
    throw new TableStoreError(
      'PayloadTooLarge',
      `Instance '${id}': this ${what} would write ${Math.ceil(bytes / 1024)} KB to table storage; the limit is ` +
        `${Math.floor(limit / 1024)} KB (${limit === MAX_WRITE_BYTES ? 'an Azure Table entity holds at most 1 MiB' : 'a table transaction holds at most 4 MiB'}, strings counted as UTF-16). ` +
        `Make the orchestration's input, output, custom status or event payloads smaller, e.g. keep large data in blob storage and pass its name.`,
    );
  }
}

export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** Status and operation index of a failed transaction ("<index>:<message>", as Azure and Azurite report it). */
export function txFailure(err: unknown): { status: number; index: number } | undefined {
  const status = statusOf(err);
  if (status === undefined) return undefined;
  const m = /^(\d+):/.exec(err instanceof Error ? err.message : '');
  return { status, index: m ? Number(m[1]) : -1 };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

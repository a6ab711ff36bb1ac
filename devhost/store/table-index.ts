// The index of a table-store task hub: one small row per instance in the table `<taskHub>Index`, holding only
// what listing filters on (status, createdTime, name), so listing and recovery read it and never history rows.
//
// Keys: PartitionKey = the first two characters (code points) of the instance id, RowKey = the id. Rows then
// sort by instance id, an id prefix is a key range, and no partition grows large (Azurite looks a row up by
// scanning its partition, so one partition for the whole hub made every write slower as the hub grew).
//
// The index is a second write beside the instance's own transaction (Azure Table transactions stay in one
// partition of one table), so it may lag; the order of the two writes keeps the one lie that would lose work
// from happening: it never says finished while the instance is unfinished.
//   * becoming unfinished (create, recreate, resume...): the index row first, then the instance;
//   * finishing: the instance first, then the index row;
//   * purge: the instance first, then the index row.
// A crash in between leaves an index row that says "unfinished" for an instance that finished (or no longer
// exists). Every read through the index checks the instance's own meta row, shows that, and puts the index
// row right (conditionally on its ETag, so a repair never overwrites a newer write); recovery loads every unfinished
// instance that is not idle (and an idle one when it wakes), which repairs the rows a crash left.
//
// Each row also holds `w`, the instance's idle hint (see idle-hints.ts: when recovery must load it), and `b`, a bucket
// of its id (a hash, 00..ff) by which the whole table is read in slices when a host that holds the lease keeps it in
// memory (see `readAll` and index-mirror.ts).
import { odata, TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { ACTIVE_STATUSES, InstanceMeta, InstanceQuery, RuntimeStatus } from './types';
import { IndexMirror, IndexRow, matchesRow } from './index-mirror';

export type { IndexRow } from './index-mirror';

/** Partition of the lease row (see lease.ts): six characters, so never the two-character partition of an instance. */
export const LEASE_PARTITION = '@lease';
/** Row of LEASE_PARTITION that says every index row of the hub has its bucket `b` (written on an empty index). */
const FORMAT_ROW = 'format';
/** Slices of the bucket range read one after the other when the whole index is read. */
const SLICES = 16;

/**
 * The partition an instance's index row lives in: its first two code points (never half a surrogate pair).
 * @example indexPartition('order-42') // 'or'
 */
export function indexPartition(instanceId: string): string {
  const first = instanceId.codePointAt(0)!;
  const width = first > 0xffff ? 2 : 1;
  const second = instanceId.codePointAt(width);
  return instanceId.slice(0, second === undefined ? width : width + (second > 0xffff ? 2 : 1));
}

type Row = TableEntityResult<Record<string, unknown>>;
const COLUMNS = ['RowKey', 'status', 'createdTime', 'name', 'w'];

/**
 * Reads and writes the index table of one task hub. With a mirror (the host holds the hub's lease), every row it
 * writes, merges or deletes goes into the mirror when the write succeeds, and every row it reads fills the mirror.
 */
export class InstanceIndex {
  mirror: IndexMirror | undefined;
  /** Whether every row has its bucket, as found when the mirror was opened. */
  private sliced = false;

  constructor(readonly client: TableClient) {}

  /**
   * Starts the copy in memory (the host holds the lease, so nothing else writes the table from now on). Called
   * before this host writes any row: whether the table's rows all have their bucket is decided on what others wrote.
   * `emulator`: the table is Azurite's, read by slices of the bucket; Azure Table Storage is read in key order (a
   * filter on `b` would make it scan the whole table for each slice).
   */
  async openMirror(emulator: boolean): Promise<IndexMirror> {
    this.sliced = emulator && (await this.bucketed());
    this.mirror = new IndexMirror();
    return this.mirror;
  }

  /** Records that every row of this (new, empty) table has its bucket. */
  async markBucketed(): Promise<void> {
    await this.client.upsertEntity({ partitionKey: LEASE_PARTITION, rowKey: FORMAT_ROW, buckets: '1' }, 'Replace');
  }

  /** The index row of `meta` as it should be now (not idle: a host must look at it at start-up). */
  static rowOf(meta: InstanceMeta): IndexRow {
    return { instanceId: meta.instanceId, status: meta.status, createdTime: meta.createdTime, name: meta.name };
  }

  /** Writes (creates or replaces) an instance's row. */
  async put(row: IndexRow): Promise<void> {
    const { etag } = await this.client.upsertEntity(entityOf(row), 'Replace');
    this.mirror?.set({ ...row, etag });
  }

  /** Creates the row; false when one exists already. */
  async create(row: IndexRow): Promise<boolean> {
    try {
      const { etag } = await this.client.createEntity(entityOf(row));
      this.mirror?.set({ ...row, etag });
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  /** Replaces the row only if it is still the version read (ETag); false when it changed meanwhile or is gone. */
  async repair(row: IndexRow, etag: string): Promise<boolean> {
    try {
      const res = await this.client.updateEntity(entityOf(row), 'Replace', { etag });
      this.mirror?.set({ ...row, etag: res.etag });
      return true;
    } catch (err) {
      const s = statusOf(err);
      if (s === 412 || s === 404) return false;
      throw err;
    }
  }

  /**
   * Sets only the row's idle hint (a merge): to `idleUntil` when `etag` is the row's version (a raise, see
   * idle-hints.ts), or back to "needs a host now" whatever the version (`idleUntil` undefined, `etag` '*').
   * False when the row changed meanwhile or does not exist (a merge never creates a row).
   */
  async mergeIdle(instanceId: string, idleUntil: number | undefined, etag: string): Promise<boolean> {
    try {
      const res = await this.client.updateEntity({ partitionKey: indexPartition(instanceId), rowKey: instanceId, w: encodeIdle(idleUntil) ?? '' }, 'Merge', { etag });
      // A raise's answer counts only if no other write reached the copy meanwhile (a lowering it did not see).
      if (etag === '*' || this.mirror?.get(instanceId)?.etag === etag) this.mirror?.update(instanceId, { idleUntil, etag: res.etag });
      return true;
    } catch (err) {
      const s = statusOf(err);
      if (s === 412 || s === 404) return false;
      throw err;
    }
  }

  async delete(instanceId: string): Promise<void> {
    try {
      await this.client.deleteEntity(indexPartition(instanceId), instanceId);
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    this.mirror?.delete(instanceId);
  }

  /** Writes many rows with as few transactions as their partitions allow (bulk import). */
  async putMany(rows: IndexRow[]): Promise<void> {
    const byPartition = new Map<string, IndexRow[]>();
    for (const r of rows) {
      const p = indexPartition(r.instanceId);
      const list = byPartition.get(p) ?? [];
      list.push(r);
      byPartition.set(p, list);
    }
    for (const list of byPartition.values()) {
      for (let i = 0; i < list.length; i += 100) {
        const batch = list.slice(i, i + 100);
        const res = await this.client.submitTransaction(batch.map((r): TransactionAction => ['upsert', entityOf(r), 'Replace']));
        for (const r of batch) this.mirror?.set({ ...r, etag: res.getResponseForEntity(r.instanceId)?.etag });
      }
    }
  }

  /**
   * Up to `top` rows matching the query with ids after `after`, in id order; `next` when more may follow.
   * The service narrows with every filter it can apply exactly (ASCII values, see `narrowing`); the rest is
   * checked here.
   */
  async page(query: InstanceQuery, top: number, after: string | undefined): Promise<{ rows: IndexRow[]; next?: string }> {
    const filter = narrowing(query, after);
    const rows: IndexRow[] = [];
    let last: string | undefined;
    let more = false;
    const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: COLUMNS } }).byPage({ maxPageSize: top });
    for await (const page of pages) {
      for (const e of page as Row[]) {
        if (e.partitionKey === LEASE_PARTITION) continue;
        if (rows.length >= top) {
          more = true;
          break;
        }
        const row = rowOfEntity(e);
        this.mirror?.fill(row);
        last = row.instanceId;
        if (matchesRow(row, query)) rows.push(row);
      }
      if (more || (rows.length >= top && page.continuationToken)) {
        more = true;
        break;
      }
      if (!page.continuationToken) break;
    }
    return { rows, next: more ? last : undefined };
  }

  /**
   * Reads every row of the table into the mirror (a host that holds the lease, at start-up). Azurite answers a
   * query by scanning the whole table and sorting every row that matches before it returns a page, so reading
   * 100,000 rows page after page sorts them a hundred times (20 s); read it instead by slices of the bucket `b`,
   * each a sixteenth of the rows, paged (3 s). Azure Table Storage (it reads key ranges), and a hub whose rows may
   * lack `b` (written before it existed: the format row was missing and the index not empty when the mirror
   * opened), are read page after page. Returns the number of rows read.
   */
  async readAll(stopped: () => boolean): Promise<number> {
    let n = 0;
    const read = async (filter: string): Promise<void> => {
      for await (const page of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: COLUMNS } }).byPage({ maxPageSize: 1000 })) {
        if (stopped()) return;
        for (const e of page as Row[]) {
          if (e.partitionKey === LEASE_PARTITION) continue;
          this.mirror?.fill(rowOfEntity(e));
          n++;
        }
      }
    };
    if (this.sliced) {
      for (let i = 0; i < SLICES && !stopped(); i++) {
        const from = bucketText((i * 256) / SLICES);
        await read(i === SLICES - 1 ? odata`b ge ${from}` : odata`b ge ${from} and b lt ${bucketText(((i + 1) * 256) / SLICES)}`);
      }
    } else {
      await read(odata`PartitionKey ne ${LEASE_PARTITION}`);
    }
    return n;
  }

  /**
   * One page of unfinished rows (ACTIVE_STATUSES) after `after`, in id order, with their idle hints: what recovery
   * resumes. Each row goes into the mirror.
   */
  async activePage(top: number, after: string | undefined): Promise<{ rows: IndexRow[]; next?: string }> {
    return this.page({ runtimeStatus: [...ACTIVE_STATUSES] }, top, after);
  }

  /** True when every row has its bucket: the format row says so, or the index is empty (then it is written now). */
  private async bucketed(): Promise<boolean> {
    try {
      await this.client.getEntity(LEASE_PARTITION, FORMAT_ROW);
      return true;
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
    }
    for await (const page of this.client.listEntities({ queryOptions: { filter: odata`PartitionKey ne ${LEASE_PARTITION}`, select: ['RowKey'] } }).byPage({ maxPageSize: 1 })) {
      if (page.length > 0) return false;
      break;
    }
    await this.markBucketed();
    return true;
  }
}

/** The OData filter for a query: only clauses whose answer cannot differ from matchesIndex (ASCII values). */
function narrowing(query: InstanceQuery, after: string | undefined): string {
  // The lease row sorts among the instances ('@' is between digits and letters): the service leaves it out.
  const clauses: string[] = [odata`PartitionKey ne ${LEASE_PARTITION}`];
  const p = query.instanceIdPrefix;
  if (p && isAscii(p) && p.charCodeAt(p.length - 1) < 0x7e) {
    const end = p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
    if (p.length >= 2) clauses.push(odata`PartitionKey eq ${indexPartition(p)}`);
    else clauses.push(odata`PartitionKey ge ${p} and PartitionKey lt ${end}`);
    clauses.push(odata`RowKey ge ${p} and RowKey lt ${end}`);
  }
  if (after !== undefined) clauses.push(odata`PartitionKey ge ${indexPartition(after)} and RowKey gt ${after}`);
  if (query.createdTimeFrom && isAscii(query.createdTimeFrom)) clauses.push(odata`createdTime ge ${query.createdTimeFrom}`);
  if (query.createdTimeTo && isAscii(query.createdTimeTo)) clauses.push(odata`createdTime le ${query.createdTimeTo}`);
  if (query.runtimeStatus && query.runtimeStatus.length > 0) clauses.push(`(${query.runtimeStatus.map((s) => odata`status eq ${s}`).join(' or ')})`);
  return clauses.join(' and ');
}

/** True for statuses recovery resumes. */
export function isActive(status: RuntimeStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

function entityOf(row: IndexRow): { partitionKey: string; rowKey: string; status: string; createdTime: string; name: string; b: string; w?: string } {
  const e = { partitionKey: indexPartition(row.instanceId), rowKey: row.instanceId, status: row.status, createdTime: row.createdTime, name: row.name, b: bucketOf(row.instanceId) };
  const w = encodeIdle(row.idleUntil);
  return w === undefined ? e : { ...e, w };
}

function rowOfEntity(e: Row): IndexRow {
  const row: IndexRow = { instanceId: e.rowKey!, status: e.status as RuntimeStatus, createdTime: String(e.createdTime), name: String(e.name), etag: e.etag };
  const idle = decodeIdle(e.w);
  return idle === undefined ? row : { ...row, idleUntil: idle };
}

/** The `w` column: an ISO time, 'never' (only a message wakes it), or absent (needs a host now). */
function encodeIdle(idleUntil: number | undefined): string | undefined {
  if (idleUntil === undefined || Number.isNaN(idleUntil)) return undefined;
  return idleUntil === Infinity ? 'never' : new Date(idleUntil).toISOString();
}

function decodeIdle(w: unknown): number | undefined {
  if (w === 'never') return Infinity;
  const t = typeof w === 'string' && w !== '' ? Date.parse(w) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/**
 * The bucket of an instance id: two hex digits of its FNV-1a hash, so the rows of any set of ids spread evenly.
 * @example bucketOf('order-42') // e.g. '3f'
 */
export function bucketOf(instanceId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < instanceId.length; i++) {
    h ^= instanceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return bucketText(h >>> 24);
}

function bucketText(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

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
// row right (conditionally on its ETag, so a repair never overwrites a newer write); recovery at start-up reads
// every unfinished row, so it repairs the rows a crash left.
import { odata, TableClient, TableEntityResult, TransactionAction } from '@azure/data-tables';
import { ACTIVE_STATUSES, InstanceMeta, InstanceQuery, RuntimeStatus } from './types';

/** What the index holds of an instance. */
export interface IndexRow {
  instanceId: string;
  status: RuntimeStatus;
  createdTime: string;
  name: string;
  /** The row's ETag when read (repairs are conditional on it). */
  etag?: string;
}

/** Partition of the lease row (see lease.ts): six characters, so never the two-character partition of an instance. */
export const LEASE_PARTITION = '@lease';

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

/** Reads and writes the index table of one task hub. */
export class InstanceIndex {
  constructor(readonly client: TableClient) {}

  /** The index row of `meta` as it should be now. */
  static rowOf(meta: InstanceMeta): IndexRow {
    return { instanceId: meta.instanceId, status: meta.status, createdTime: meta.createdTime, name: meta.name };
  }

  /** Writes (creates or replaces) an instance's row. */
  async put(row: IndexRow): Promise<void> {
    await this.client.upsertEntity(entityOf(row), 'Replace');
  }

  /** Creates the row; false when one exists already. */
  async create(row: IndexRow): Promise<boolean> {
    try {
      await this.client.createEntity(entityOf(row));
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false;
      throw err;
    }
  }

  /** Replaces the row only if it is still the version read (ETag); false when it changed meanwhile or is gone. */
  async repair(row: IndexRow, etag: string): Promise<boolean> {
    try {
      await this.client.updateEntity(entityOf(row), 'Replace', { etag });
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
        await this.client.submitTransaction(list.slice(i, i + 100).map((r): TransactionAction => ['upsert', entityOf(r), 'Replace']));
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
    const pages = this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: ['RowKey', 'status', 'createdTime', 'name'] } }).byPage({ maxPageSize: top });
    for await (const page of pages) {
      for (const e of page as Row[]) {
        if (e.partitionKey === LEASE_PARTITION) continue;
        if (rows.length >= top) {
          more = true;
          break;
        }
        const row: IndexRow = { instanceId: e.rowKey!, status: e.status as RuntimeStatus, createdTime: String(e.createdTime), name: String(e.name), etag: e.etag };
        last = row.instanceId;
        if (matchesIndex(row, query)) rows.push(row);
      }
      if (more || (rows.length >= top && page.continuationToken)) {
        more = true;
        break;
      }
      if (!page.continuationToken) break;
    }
    return { rows, next: more ? last : undefined };
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

function matchesIndex(row: IndexRow, q: InstanceQuery): boolean {
  if (q.createdTimeFrom && row.createdTime < q.createdTimeFrom) return false;
  if (q.createdTimeTo && row.createdTime > q.createdTimeTo) return false;
  if (q.runtimeStatus && q.runtimeStatus.length > 0 && !q.runtimeStatus.includes(row.status)) return false;
  if (q.instanceIdPrefix && !row.instanceId.startsWith(q.instanceIdPrefix)) return false;
  return true;
}

/** True for statuses recovery resumes. */
export function isActive(status: RuntimeStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

function entityOf(row: IndexRow): { partitionKey: string; rowKey: string; status: string; createdTime: string; name: string } {
  return { partitionKey: indexPartition(row.instanceId), rowKey: row.instanceId, status: row.status, createdTime: row.createdTime, name: row.name };
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

// The table store's copy in memory of its task hub's index table (table-index.ts), kept only while the host holds the
// hub's lease: it is then the one writer of the table, so every row it writes goes into the copy in the same call,
// and the copy stays what the table holds. Filled from the table in the background at start-up; once complete, the
// management API's listings read it instead of querying the table (Azurite answers every query by scanning and
// sorting the whole table: 0.4 s for 100,000 rows).
import { pageSize } from './pages';
import { InstanceQuery, Page, PageRequest, RuntimeStatus } from './types';

/** What the index holds of an instance. */
export interface IndexRow {
  instanceId: string;
  status: RuntimeStatus;
  createdTime: string;
  name: string;
  /**
   * Until when (ms, the engine's clock) the instance needs nothing from a host unless a message reaches it; Infinity:
   * only a message wakes it. Absent: it needs a host now, so recovery loads it at start-up (see idle-hints.ts).
   */
  idleUntil?: number;
  /** The row's ETag when read or last written (repairs and raised hints are conditional on it). */
  etag?: string;
}

/**
 * The index rows of one task hub, by instance id, with the listing queries of the management API.
 * @example const m = new IndexMirror(); m.set(row); m.finishLoad(); m.page({ runtimeStatus: ['Running'] }, { top: 50 });
 */
export class IndexMirror {
  private readonly rows = new Map<string, IndexRow>();
  /** Every id in instance-id order, built when the load from the table completes; until then the copy is partial. */
  private sorted: string[] | undefined;
  /** While loading: ids this host wrote or deleted since the load began (what it has is newer than any read). */
  private touched: Set<string> | undefined = new Set();

  /** True once every row of the table is here: listings may then read the copy. */
  get complete(): boolean {
    return this.sorted !== undefined;
  }

  get size(): number {
    return this.rows.size;
  }

  get(instanceId: string): IndexRow | undefined {
    return this.rows.get(instanceId);
  }

  /** A row as this host just wrote it. */
  set(row: IndexRow): void {
    const had = this.rows.has(row.instanceId);
    this.rows.set(row.instanceId, row);
    this.touched?.add(row.instanceId);
    if (!had && this.sorted) this.sorted.splice(upperBound(this.sorted, row.instanceId), 0, row.instanceId);
  }

  /** Changes fields of a row this host has (a merge it wrote); nothing when it has none. */
  update(instanceId: string, change: Partial<Pick<IndexRow, 'idleUntil' | 'etag'>>): void {
    const row = this.rows.get(instanceId);
    if (row) this.rows.set(instanceId, { ...row, ...change });
  }

  /** A row this host deleted. */
  delete(instanceId: string): void {
    this.touched?.add(instanceId);
    if (!this.rows.delete(instanceId) || !this.sorted) return;
    const i = upperBound(this.sorted, instanceId) - 1;
    if (this.sorted[i] === instanceId) this.sorted.splice(i, 1);
  }

  /** A row read from the table while the copy is partial: kept unless this host wrote or deleted that id since. */
  fill(row: IndexRow): void {
    if (this.touched && !this.touched.has(row.instanceId)) this.rows.set(row.instanceId, row);
  }

  /** The load read every row of the table: the copy is complete. */
  finishLoad(): void {
    if (this.sorted) return;
    this.sorted = [...this.rows.keys()].sort(compare);
    this.touched = undefined;
  }

  /**
   * Up to `top` rows matching the query with ids after `after`, in instance-id order; `next` when more match.
   * Only on a complete copy.
   */
  page(query: InstanceQuery, page: PageRequest): Page<IndexRow> {
    const ids = this.sorted;
    if (!ids) throw new Error('IndexMirror.page: the copy is not complete yet; read the table instead.');
    const top = pageSize(page);
    const prefix = query.instanceIdPrefix;
    let i = page.after === undefined ? 0 : upperBound(ids, page.after);
    if (prefix) i = Math.max(i, lowerBound(ids, prefix));
    const items: IndexRow[] = [];
    for (; i < ids.length; i++) {
      const id = ids[i];
      if (prefix && !id.startsWith(prefix)) break; // ids with the prefix are contiguous
      const row = this.rows.get(id)!;
      if (!matchesRow(row, query)) continue;
      if (items.length === top) return { items, next: items[items.length - 1].instanceId };
      items.push(row);
    }
    return { items };
  }
}

/** True when an index row passes every filter of the query (the fields the index holds). */
export function matchesRow(row: IndexRow, q: InstanceQuery): boolean {
  if (q.createdTimeFrom && row.createdTime < q.createdTimeFrom) return false;
  if (q.createdTimeTo && row.createdTime > q.createdTimeTo) return false;
  if (q.runtimeStatus && q.runtimeStatus.length > 0 && !q.runtimeStatus.includes(row.status)) return false;
  if (q.instanceIdPrefix && !row.instanceId.startsWith(q.instanceIdPrefix)) return false;
  return true;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First position whose id is >= key. */
function lowerBound(ids: string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position whose id is > key. */
function upperBound(ids: string[], key: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

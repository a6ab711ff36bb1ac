// In-memory Store: fast, process-local, forgets everything on exit. A commit keeps shallow copies of what it is
// given (no serialization on the hot path: the engine only ever replaces the top-level fields of what it
// committed, e.g. the SDK turns an event's Timestamp into a Date, and never changes nested values), and every read
// hands out a deep copy, so what comes back is what was committed and never an object the engine holds.
import { ActiveInstance, ACTIVE_STATUSES, Commit, HistoryEvent, InboxMessage, InstanceMeta, InstanceQuery, Page, PageRequest, Store, StoreConflictError, StoredInstance } from './types';
import { matchesQuery } from './query';
import { allPages, MAX_PAGE, pageSize } from './pages';

interface Entry {
  meta: InstanceMeta;
  /** Unparsed copies of the fields list() filters on, so a filter does not parse every meta. */
  status: InstanceMeta['status'];
  createdTime: string;
  history: HistoryEvent[];
  actions: string[];
  inbox: Map<string, InboxMessage>;
}

/**
 * A Store held in process memory.
 * @example const store = new MemoryStore(); await store.init();
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();

  async init(): Promise<void> {}

  async create(meta: InstanceMeta, first: InboxMessage): Promise<void> {
    if (this.entries.has(meta.instanceId)) throw new StoreConflictError(meta.instanceId);
    this.entries.set(meta.instanceId, fresh(meta, first));
  }

  async recreate(meta: InstanceMeta, first: InboxMessage): Promise<void> {
    this.entries.set(meta.instanceId, fresh(meta, first));
  }

  async load(instanceId: string): Promise<StoredInstance | undefined> {
    const e = this.entries.get(instanceId);
    if (!e) return undefined;
    const inbox = [...e.inbox.keys()].sort().map((k) => e.inbox.get(k)!);
    return structuredClone({ meta: e.meta, history: e.history, actions: e.actions, inbox });
  }

  async getMeta(instanceId: string): Promise<InstanceMeta | undefined> {
    const e = this.entries.get(instanceId);
    return e ? structuredClone(e.meta) : undefined;
  }

  async list(query: InstanceQuery = {}): Promise<InstanceMeta[]> {
    return allPages((after) => this.listPage(query, { top: MAX_PAGE, after }));
  }

  async listPage(query: InstanceQuery, page: PageRequest): Promise<Page<InstanceMeta>> {
    const ids = this.matchingIds(query, page);
    return { items: ids.items.map((id) => structuredClone(this.entries.get(id)!.meta)), next: ids.next };
  }

  /** Every unfinished instance is loaded at start-up: a memory store outlives a host only in tests. */
  async activePage(page: PageRequest): Promise<Page<ActiveInstance>> {
    const ids = this.matchingIds({ runtimeStatus: [...ACTIVE_STATUSES] }, page);
    return { items: ids.items.map((instanceId) => ({ instanceId })), next: ids.next };
  }

  /** Ids matching the query after `page.after`, in id order, at most one page of them. */
  private matchingIds(query: InstanceQuery, page: PageRequest): Page<string> {
    const top = pageSize(page);
    const ids: string[] = [];
    for (const [instanceId, e] of this.entries) {
      if (page.after !== undefined && instanceId <= page.after) continue;
      const head = { instanceId, status: e.status, createdTime: e.createdTime } as InstanceMeta;
      if (matchesQuery(head, query)) ids.push(instanceId);
    }
    ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const items = ids.slice(0, top);
    return { items, next: ids.length > top ? items[items.length - 1] : undefined };
  }

  async enqueue(instanceId: string, message: InboxMessage): Promise<void> {
    const e = this.entries.get(instanceId);
    if (!e) return; // messages to a missing instance are dropped, as the extension does
    e.inbox.set(message.id, message);
  }

  async commit(instanceId: string, commit: Commit): Promise<void> {
    const e = this.entries.get(instanceId);
    if (!e) return; // purged meanwhile
    if (commit.dropExecution !== undefined || commit.replaceHistory) {
      e.history = [];
      e.actions = [];
    }
    e.meta = kept(commit.meta);
    e.status = commit.meta.status;
    for (const ev of commit.append) e.history.push({ ...ev });
    for (const a of commit.actions ?? []) e.actions.push(a);
    for (const id of commit.consumed) e.inbox.delete(id);
    for (const m of commit.enqueue ?? []) e.inbox.set(m.id, m);
  }

  async purge(instanceId: string): Promise<boolean> {
    return this.entries.delete(instanceId);
  }

  async close(): Promise<void> {}
}

function fresh(meta: InstanceMeta, first: InboxMessage): Entry {
  return { meta: kept(meta), status: meta.status, createdTime: meta.createdTime, history: [], actions: [], inbox: new Map([[first.id, first]]) };
}

/** The meta as committed: its engine state is copied one level too (the engine later replaces its outbox). */
function kept(meta: InstanceMeta): InstanceMeta {
  return { ...meta, engine: meta.engine && typeof meta.engine === 'object' ? { ...(meta.engine as object) } : meta.engine };
}

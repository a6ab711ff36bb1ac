// In-memory Store: fast, process-local, forgets everything on exit. Values are kept as JSON text
// so that what comes back is a copy, exactly like a real store (no shared mutable objects).
import { ACTIVE_STATUSES, Commit, InboxMessage, InstanceMeta, InstanceQuery, Page, PageRequest, Store, StoreConflictError, StoredInstance } from './types';
import { matchesQuery } from './query';
import { allPages, MAX_PAGE, pageSize } from './pages';

interface Entry {
  meta: string;
  /** Unparsed copies of the fields list() filters on, so a filter does not parse every meta. */
  status: InstanceMeta['status'];
  createdTime: string;
  history: string[];
  actions: string[];
  inbox: Map<string, string>;
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
    const inbox = [...e.inbox.keys()].sort().map((k) => JSON.parse(e.inbox.get(k)!) as InboxMessage);
    return { meta: JSON.parse(e.meta), history: e.history.map((h) => JSON.parse(h)), actions: [...e.actions], inbox };
  }

  async getMeta(instanceId: string): Promise<InstanceMeta | undefined> {
    const e = this.entries.get(instanceId);
    return e ? JSON.parse(e.meta) : undefined;
  }

  async list(query: InstanceQuery = {}): Promise<InstanceMeta[]> {
    return allPages((after) => this.listPage(query, { top: MAX_PAGE, after }));
  }

  async listPage(query: InstanceQuery, page: PageRequest): Promise<Page<InstanceMeta>> {
    const ids = this.matchingIds(query, page);
    return { items: ids.items.map((id) => JSON.parse(this.entries.get(id)!.meta) as InstanceMeta), next: ids.next };
  }

  async loadActivePage(page: PageRequest): Promise<Page<StoredInstance>> {
    const ids = this.matchingIds({ runtimeStatus: [...ACTIVE_STATUSES] }, page);
    const items: StoredInstance[] = [];
    for (const id of ids.items) {
      const loaded = await this.load(id);
      if (loaded) items.push(loaded);
    }
    return { items, next: ids.next };
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
    e.inbox.set(message.id, JSON.stringify(message));
  }

  async commit(instanceId: string, commit: Commit): Promise<void> {
    const e = this.entries.get(instanceId);
    if (!e) return; // purged meanwhile
    if (commit.dropExecution !== undefined || commit.replaceHistory) {
      e.history = [];
      e.actions = [];
    }
    e.meta = JSON.stringify(commit.meta);
    e.status = commit.meta.status;
    for (const ev of commit.append) e.history.push(JSON.stringify(ev));
    e.actions.push(...(commit.actions ?? []));
    for (const id of commit.consumed) e.inbox.delete(id);
    for (const m of commit.enqueue ?? []) e.inbox.set(m.id, JSON.stringify(m));
  }

  async purge(instanceId: string): Promise<boolean> {
    return this.entries.delete(instanceId);
  }

  async close(): Promise<void> {}
}

function fresh(meta: InstanceMeta, first: InboxMessage): Entry {
  return { meta: JSON.stringify(meta), status: meta.status, createdTime: meta.createdTime, history: [], actions: [], inbox: new Map([[first.id, JSON.stringify(first)]]) };
}

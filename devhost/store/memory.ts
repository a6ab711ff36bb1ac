// In-memory Store: fast, process-local, forgets everything on exit. Values are kept as JSON text
// so that what comes back is a copy, exactly like a real store (no shared mutable objects).
import { Commit, InboxMessage, InstanceMeta, InstanceQuery, Store, StoreConflictError, StoredInstance } from './types';
import { matchesQuery } from './query';

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
    const out: InstanceMeta[] = [];
    for (const [instanceId, e] of this.entries) {
      const head = { instanceId, status: e.status, createdTime: e.createdTime } as InstanceMeta;
      if (matchesQuery(head, query)) out.push(JSON.parse(e.meta) as InstanceMeta);
    }
    return out;
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

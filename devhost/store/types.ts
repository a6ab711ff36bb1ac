// The storage contract of the devhost: what the durable engine persists and reads back.
// Two implementations: in-memory (fast tests) and Azure Table Storage (Azurite or a real account).

/** Runtime statuses, spelled exactly as the Durable extension's status JSON spells them. */
export type RuntimeStatus =
  | 'Pending'
  | 'Running'
  | 'Completed'
  | 'ContinuedAsNew'
  | 'Failed'
  | 'Canceled'
  | 'Terminated'
  | 'Suspended';

/** Statuses after which an instance never runs again. */
export const TERMINAL_STATUSES: readonly RuntimeStatus[] = ['Completed', 'Failed', 'Canceled', 'Terminated'];

/** One DTFx history event, PascalCase as the extension serializes it (EventType, EventId, Timestamp, ...). */
export type HistoryEvent = { EventType: number; EventId: number; Timestamp: string; IsPlayed?: boolean } & Record<string, unknown>;

/**
 * Everything about an instance except its history and inbox.
 * `engine` is the engine's own bookkeeping (id counter, pending timers and activities, retries...):
 * the store keeps it as an opaque JSON value.
 */
export interface InstanceMeta {
  instanceId: string;
  name: string;
  /** Current execution; a new one starts at every continue-as-new. */
  executionId: string;
  status: RuntimeStatus;
  /** JSON text (or null) of the current execution's input. */
  input: string | null;
  /** JSON text (or null). For Failed, the failure reason; for Terminated, the reason. */
  output: string | null;
  /** JSON text (or null). */
  customStatus: string | null;
  /** ISO-8601 with milliseconds. */
  createdTime: string;
  lastUpdatedTime: string;
  parent?: { instanceId: string; executionId: string; taskId: number } | null;
  /** The orchestration version (ExecutionStarted.Version; "" when none). Absent in instances stored before versioning. */
  version?: string;
  /** Structured failure reported to a parent instead of a reason text (a version mismatch under the Fail strategy). */
  failureDetails?: unknown;
  engine: unknown;
}

/** A message waiting to be applied to an instance (an episode takes every waiting message, see Engine.pickBatch). */
export interface InboxMessage {
  /** Sortable, unique within the instance: messages are applied in `id` order. */
  id: string;
  /** The history event to deliver (ExecutionStarted, TaskCompleted, TimerFired, EventRaised, ...), or a control message. */
  event: HistoryEvent;
  /** Execution the message is meant for; messages for an older execution are dropped (except EventRaised). */
  executionId?: string;
}

/** A loaded instance: meta + the current execution's history + its unprocessed inbox. */
export interface StoredInstance {
  meta: InstanceMeta;
  history: HistoryEvent[];
  /** Signatures of the actions the current execution recorded, in order (the engine's determinism check). */
  actions: string[];
  inbox: InboxMessage[];
}

/**
 * The result of one episode (or one control operation), written atomically:
 * either all of it is stored or none of it.
 */
export interface Commit {
  /** The new meta (replaces the stored one). */
  meta: InstanceMeta;
  /** Events to append to the history of `meta.executionId`. */
  append: HistoryEvent[];
  /** Action signatures to append beside them (stored with the history, so the meta does not grow per round). */
  actions?: string[];
  /** Inbox messages consumed by this episode. */
  consumed: string[];
  /** When set, the history of this older execution is dropped (continue-as-new). */
  dropExecution?: string;
  /** Messages added to the inbox in the same write (continue-as-new: the new execution's ExecutionStarted). */
  enqueue?: InboxMessage[];
  /** Rewind: `append` and `actions` replace the stored history and action list of `meta.executionId` instead of extending them. */
  replaceHistory?: boolean;
  /**
   * Until when (ms) the instance needs nothing from a host after this commit unless a message reaches it: its
   * earliest timer, Infinity when only a message can wake it; absent when it has work outstanding. A store may
   * keep it so recovery leaves the instance unloaded until then (see ActiveInstance).
   */
  idleUntil?: number;
}

export interface InstanceQuery {
  createdTimeFrom?: string;
  createdTimeTo?: string;
  runtimeStatus?: RuntimeStatus[];
  instanceIdPrefix?: string;
}

/** Statuses an instance can still run from: the ones recovery resumes. */
export const ACTIVE_STATUSES: readonly RuntimeStatus[] = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'];

/** Which page of a listing: at most `top` instances whose ids sort after `after` (instance-id order). */
export interface PageRequest {
  top: number;
  after?: string;
}

/** An unfinished instance as recovery sees it: its id and, when the store knows it, until when it is idle (Commit.idleUntil). */
export interface ActiveInstance {
  instanceId: string;
  /** Absent: load it at start-up. A time to come: it needs nothing until then unless a message reaches it. */
  idleUntil?: number;
}

/** One page of a listing; `next` (the last id looked at) goes into the next request's `after`, absent on the last page. */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** Persistence used by the engine. Every method may be called concurrently for different instances. */
export interface Store {
  readonly kind: 'memory' | 'table';
  /** Create tables etc. Idempotent. */
  init(): Promise<void>;
  /** Create a new instance with its first inbox message. Fails with StoreConflictError if it exists. */
  create(meta: InstanceMeta, first: InboxMessage): Promise<void>;
  /** Replace an existing finished instance (same id started again): drops its history and inbox. */
  recreate(meta: InstanceMeta, first: InboxMessage): Promise<void>;
  /** Load one instance (meta, current execution's history, inbox in id order), or undefined. */
  load(instanceId: string): Promise<StoredInstance | undefined>;
  /** Only the meta, or undefined. */
  getMeta(instanceId: string): Promise<InstanceMeta | undefined>;
  /** Metas matching the query (all when empty), in instance-id order: every page of listPage. */
  list(query?: InstanceQuery): Promise<InstanceMeta[]>;
  /**
   * One page of the metas matching the query, in instance-id order. Reads the store's index of instances,
   * never history; what it returns is the stored meta (an index entry that lags behind is checked and repaired).
   * A page may hold fewer than `top` items while `next` is set.
   */
  listPage(query: InstanceQuery, page: PageRequest): Promise<Page<InstanceMeta>>;
  /** One page of the unfinished instances (ACTIVE_STATUSES), not loaded: what recovery at start-up resumes, now or when idle ends. */
  activePage(page: PageRequest): Promise<Page<ActiveInstance>>;
  /**
   * The engine loaded an unfinished instance that has nothing to do until `idleUntil` (as Commit.idleUntil): a
   * store that keeps idle hints may record it. Optional.
   */
  idle?(instanceId: string, idleUntil: number | undefined): void;
  /** Add a message to an instance's inbox. */
  enqueue(instanceId: string, message: InboxMessage): Promise<void>;
  /** Apply an episode's result atomically. */
  commit(instanceId: string, commit: Commit): Promise<void>;
  /** Delete the instance and everything it holds. Returns false when it did not exist. */
  purge(instanceId: string): Promise<boolean>;
  /** Release connections. */
  close(): Promise<void>;
}

/** Thrown by `create` when the instance id is taken. */
export class StoreConflictError extends Error {
  readonly code = 'StoreConflict';
  constructor(instanceId: string) {
    super(`An instance with ID '${instanceId}' already exists.`);
    this.name = 'StoreConflictError';
  }
}

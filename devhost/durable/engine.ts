// The durable engine: drives orchestrations through the SDK's replay protocol (history in, actions out) and
// executes what they ask for. This file owns the instances in memory, their inboxes, the loop that forms batches,
// the commit and the effects; the rooms beside it do each part: orchestrations.ts (an episode), episode.ts (replay,
// determinism, actions), timers.ts, retry.ts, activities.ts, children.ts, entities.ts, rewind.ts. Every episode is committed to the Store before its effects run, so a restarted host resumes exactly.
import { randomUUID } from 'node:crypto';
import { Clock, Scheduler, TimerHandle } from '../clock';
import { HostError, messageOf } from '../errors';
import { Invoker, LogSink } from '../invoke';
import { Registry } from '../registry';
import { HistoryEvent, InboxMessage, InstanceMeta, InstanceQuery, Page, PageRequest, Store, StoreConflictError } from '../store/types';
import { mapLimit } from '../store/pages';
import { toJsonText } from './actions';
import { ActivityRunner } from './activities';
import { notifyParent, startChild } from './children';
import { clientSignal, EntityListQuery, EntityRunner, entityStatuses, EntityStatus, newEntityMeta, schedulerState } from './entities';

export type { EntityStatus } from './entities';
import { badEntityKey, entityInstanceId, isEntityId } from './entity-ids';
import { withoutDelivered } from './sends';
import { event, EventType, iso, OrchestrationStatusCode } from './history';
import { validateInstanceId } from './ids';
import { cloneState, DAY, Effect, EngineState, emptyState, idleUntil, isTerminal, Live, liveFromStore } from './state';
import { PlanOptions } from './timers';
import { Versioning } from './versioning';
import { rewind } from './rewind';
import { WorkTracker } from './tracker';
import { CONTROL_EVENTS, EpisodeCommit, finish, OrchestrationRunner } from './orchestrations';
import { faultPoint } from '../faults';

export { validateInstanceId } from './ids';

export interface EngineOptions {
  store: Store;
  clock: Clock;
  scheduler: Scheduler;
  registry: Registry;
  invoker: Invoker;
  log: LogSink;
  /** Longest timer the SDK treats as one timer (Azure Storage: 6 days). */
  maximumShortTimerMs?: number;
  /** Chunk length of longer timers (Azure Storage: 3 days). */
  longTimerIntervalMs?: number;
  maxConcurrentActivities?: number;
  /** Durable client binding JSON handed to activities that declare a durableClient input. */
  clientBinding?: () => unknown;
  /** Called with a one-line summary of every invocation. */
  onInvocation?: (info: { functionName: string; reason: string; invocationId: string; ms: number; result: string }) => void;
  /** host.json versioning (defaultVersion, versionMatchStrategy, versionFailureStrategy); default off. */
  versioning?: Versioning;
  /** Replay schema advertised to orchestrators: 'V4' (default; critical sections) or 'V3' (extensions before 3.13). */
  replaySchema?: 'V3' | 'V4';
  /** callHttp: host.json httpSettings.defaultAsyncRequestSleepTimeMilliseconds (default 30000). */
  httpAsyncSleepMs?: number;
}

/** Unfinished instances recovery reads per page of the store's index. */
const RECOVERY_PAGE = 1000;
/** Instances recovery loads at once. */
const LOAD_CONCURRENCY = 16;
/** Most messages one episode takes (the extension stops dequeuing at 256 buffered messages of a control queue). */
const MAX_BATCH = 256;

/**
 * Runs orchestrations of one app against one store.
 * @example const engine = new Engine({ store, clock, scheduler, registry, invoker, log }); await engine.recover();
 */
export class Engine {
  private readonly live = new Map<string, Live>();
  /**
   * Unfinished instances recovery left in the store because they are idle (see Store.activePage): the timer that
   * loads each when its idle time ends (none: only a message wakes it). Whatever touches one loads it (liveOf).
   */
  private readonly dormant = new Map<string, TimerHandle | undefined>();
  /** Messages never written to the store (see deliver). */
  private readonly volatile = new WeakSet<InboxMessage>();
  private readonly work = new WorkTracker();
  private readonly activities: ActivityRunner;
  private readonly entities: EntityRunner;
  private readonly orchestrations: OrchestrationRunner;
  private msgSeq = 0;
  closed = false;
  readonly limits: PlanOptions;
  readonly versioning: Versioning;

  constructor(private readonly o: EngineOptions) {
    this.versioning = o.versioning ?? { match: 'CurrentOrOlder', failure: 'Reject' };
    this.limits = {
      maximumShortTimerMs: o.maximumShortTimerMs ?? 6 * DAY,
      longTimerIntervalMs: o.longTimerIntervalMs ?? 3 * DAY,
      defaultVersion: this.versioning.defaultVersion,
      entityExists: (name) => !!o.registry.get(name, 'entity'),
      upperSchemaVersionNew: o.replaySchema === 'V3' ? 2 : 3,
      httpAsyncSleepMs: o.httpAsyncSleepMs,
    };
    this.entities = new EntityRunner(this, o.registry, o.invoker);
    this.orchestrations = new OrchestrationRunner(this, { registry: o.registry, invoker: o.invoker, scheduler: o.scheduler, log: o.log, limits: this.limits, versioning: this.versioning });
    this.activities = new ActivityRunner(this, { registry: o.registry, invoker: o.invoker, clock: o.clock, maxConcurrent: o.maxConcurrentActivities ?? 100, clientBinding: o.clientBinding });
  }

  get maximumShortTimerMs(): number {
    return this.limits.maximumShortTimerMs;
  }

  get longTimerIntervalMs(): number {
    return this.limits.longTimerIntervalMs;
  }

  // ---------------------------------------------------------------- public operations

  /**
   * Start an orchestration. Returns the instance id. `version` is the one asked for at start (the client's
   * `?version=`, a sub-orchestration's version); without one the instance gets host.json defaultVersion, or "".
   */
  async start(name: string, instanceId: string | undefined, inputJson: string | null, parent?: InstanceMeta['parent'], version?: string): Promise<string> {
    const fn = this.o.registry.get(name, 'orchestration');
    if (!fn) throw new HostError('UnknownFunction', `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`);
    const id = instanceId ?? randomUUID().replace(/-/g, '');
    validateInstanceId(id);
    // A generated id is new by construction: no need to look it up.
    const existing = instanceId === undefined ? undefined : (this.live.get(id)?.meta ?? (await this.o.store.getMeta(id)));
    if (existing && !isTerminal(existing.status)) {
      throw new HostError('Conflict', `An instance with ID '${id}' already exists and is ${existing.status}. Wait for it to finish, terminate it, or start with another id.`);
    }
    const now = iso(this.o.clock.now());
    const executionId = randomUUID().replace(/-/g, '');
    const meta: InstanceMeta = {
      instanceId: id,
      name: fn.name,
      executionId,
      status: 'Pending',
      input: inputJson,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
      parent: parent ?? null,
      version: version || (this.versioning.defaultVersion ?? ''),
      engine: emptyState(),
    };
    const first = this.message(this.executionStarted(meta, now), executionId);
    await this.track(async () => {
      try {
        if (existing) await this.o.store.recreate(meta, first);
        else await this.o.store.create(meta, first);
      } catch (err) {
        if (err instanceof StoreConflictError) throw new HostError('Conflict', `An instance with ID '${id}' already exists. Start with another id.`);
        throw err;
      }
      this.cancelAllTimers(this.live.get(id));
      const live: Live = { meta, history: [], inbox: [first], state: emptyState(), actions: [], running: false, timers: new Map() };
      this.live.set(id, live);
      this.kick(live);
    });
    return id;
  }

  /** Current meta of an instance (from memory when loaded, else the store). */
  async getMeta(instanceId: string): Promise<InstanceMeta | undefined> {
    return this.live.get(instanceId)?.meta ?? this.o.store.getMeta(instanceId);
  }

  /** One page of the metas matching a management-API query, in instance-id order. */
  listMetas(query: InstanceQuery, page: PageRequest): Promise<Page<InstanceMeta>> {
    return this.o.store.listPage(query, page);
  }

  /** Current execution's history. */
  async getHistory(instanceId: string): Promise<HistoryEvent[] | undefined> {
    const l = this.live.get(instanceId);
    if (l) return l.history;
    return (await this.o.store.load(instanceId))?.history;
  }

  /** Raise an external event. 404 unknown, 410 finished. */
  async raiseEvent(instanceId: string, name: string, inputJson: string | null): Promise<void> {
    await this.requireActive(instanceId);
    await this.deliver(instanceId, event(EventType.EventRaised, iso(this.o.clock.now()), { Name: name, Input: inputJson }));
  }

  async terminate(instanceId: string, reason: string | null): Promise<void> {
    await this.requireActive(instanceId);
    await this.deliver(instanceId, event(EventType.ExecutionTerminated, iso(this.o.clock.now()), { Input: reason }));
  }

  async suspend(instanceId: string, reason: string | null): Promise<void> {
    await this.requireActive(instanceId);
    await this.deliver(instanceId, event(EventType.ExecutionSuspended, iso(this.o.clock.now()), { Reason: reason }));
  }

  async resume(instanceId: string, reason: string | null): Promise<void> {
    await this.requireActive(instanceId);
    await this.deliver(instanceId, event(EventType.ExecutionResumed, iso(this.o.clock.now()), { Reason: reason }));
  }

  /** Delete an instance and its history. False when it did not exist. */
  async purge(instanceId: string): Promise<boolean> {
    const l = this.live.get(instanceId);
    // Not loaded: finished, or unfinished and left in the store (idle since a restart); the stored meta tells.
    const status = l ? l.meta.status : (await this.o.store.getMeta(instanceId))?.status;
    if (status && !isTerminal(status) && !isEntityId(instanceId)) {
      throw new HostError('Conflict', `Instance '${instanceId}' is ${status}; terminate it before purging its history.`);
    }
    this.cancelAllTimers(l);
    this.live.delete(instanceId);
    this.forgetDormant(instanceId);
    return this.o.store.purge(instanceId);
  }

  /**
   * Rewind a Failed instance: its failed activities run again, its failed sub-orchestrations are rewound with it
   * (rewind.ts). 404 unknown, 410 Completed/Terminated/Canceled, 409 not failed yet.
   * @example await engine.rewind('order-42', 'the payment service is back');
   */
  rewind(instanceId: string, reason: string): Promise<void> {
    return this.track(() =>
      rewind(
        {
          now: () => this.o.clock.now(),
          getMeta: (id) => this.getMeta(id),
          hold: (id) => this.hold(id),
          release: (live) => {
            live.running = false;
            this.kick(live);
          },
          commit: (live, p) =>
            this.commit(live, { meta: p.meta, append: p.history, actions: live.actions, replaceHistory: true, consumed: [], st: p.st, effects: [], enqueue: p.trigger ? [this.message(p.trigger, p.meta.executionId)] : [] }),
          runEffects: (live, effects) => this.runEffects(live, effects),
        },
        instanceId,
        reason,
      ),
    );
  }

  /**
   * After a restart: every unfinished instance the store lists is loaded and its pending work resumed, a page of the
   * store's index at a time (LOAD_CONCURRENCY loads at once), so memory and store load stay bounded however many
   * instances the hub holds; except an idle one (its index row says it needs nothing until a time to come), which
   * stays in the store until that time or until something reaches it (no read at start-up). Returns how many
   * unfinished instances it found.
   */
  async recover(): Promise<number> {
    let n = 0;
    let after: string | undefined;
    do {
      const page = await this.o.store.activePage({ top: RECOVERY_PAGE, after });
      const now = this.o.clock.now();
      const due: string[] = [];
      for (const { instanceId: id, idleUntil: until } of page.items) {
        if (this.live.has(id) || this.dormant.has(id)) continue;
        n++;
        if (until === undefined || until <= now) due.push(id);
        else this.dormant.set(id, until === Infinity ? undefined : this.o.scheduler.at(until, () => void this.track(() => this.resumeStored(id))));
      }
      await mapLimit(due, LOAD_CONCURRENCY, (id) => this.track(() => this.resumeStored(id)));
      after = page.next;
    } while (after !== undefined);
    return n;
  }

  /** Loads an unfinished instance left in the store (recovery, or its idle time ended) and runs what waits for it. */
  private async resumeStored(instanceId: string): Promise<void> {
    if (this.closed) return;
    const live = await this.liveOf(instanceId);
    if (live) this.kick(live);
  }

  /** Forgets that an instance waits in the store (it is loaded now, or gone). */
  private forgetDormant(instanceId: string): void {
    this.dormant.get(instanceId)?.cancel();
    this.dormant.delete(instanceId);
  }

  // ---------------------------------------------------------------- idle / time

  /** Number of timers waiting. */
  get pendingTimers(): number {
    return this.o.scheduler.size;
  }

  /** Resolves when no episode, activity or store write is in flight. */
  idle(): Promise<void> {
    return this.work.idle();
  }

  /**
   * Resolves on the next instance state change (any instance), or after `timeoutMs` when given.
   * @example await engine.nextChange(250);
   */
  nextChange(timeoutMs?: number): Promise<void> {
    return this.work.nextChange(timeoutMs);
  }

  /** Waiters of nextChange() (a polling loop must not pile them up). */
  get changeWaiterCount(): number {
    return this.work.changeWaiterCount;
  }

  close(): void {
    this.closed = true;
    for (const l of this.live.values()) this.cancelAllTimers(l);
    for (const id of [...this.dormant.keys()]) this.forgetDormant(id);
  }

  // ---------------------------------------------------------------- what the rooms beside the engine call

  track<T>(work: () => Promise<T>): Promise<T> {
    return this.work.track(work);
  }

  now(): number {
    return this.o.clock.now();
  }

  /** A result the host produced itself (activity, child, timer): straight to the instance, stored with the episode that consumes it. */
  deliverResult(instanceId: string, ev: HistoryEvent, executionId: string): Promise<void> {
    return this.deliver(instanceId, ev, executionId, true);
  }

  report(functionName: string, reason: string, invocationId: string, started: number, result: string): void {
    this.o.onInvocation?.({ functionName, reason, invocationId, ms: Date.now() - started, result });
  }

  /** Stores an entity batch: its new scheduler state, the messages used, and the messages it sends (delivered after). */
  commitEntity(live: Live, meta: InstanceMeta, consumed: InboxMessage[], st: EngineState): Promise<void> {
    const before = new Set(live.state.outbox.map((o) => o.msgId));
    const effects: Effect[] = st.outbox.filter((o) => !before.has(o.msgId)).map((o) => ({ kind: 'send', msgId: o.msgId }));
    return this.commit(live, { meta, append: [], consumed, st, effects });
  }

  // ---------------------------------------------------------------- entities (the client side)

  /**
   * Signals an entity from outside (client signalEntity, HTTP POST/DELETE entities/{name}/{key}). The entity
   * function must exist; the key may not hold '/', '\\', '?', '#' or control characters (DurableClient checks).
   */
  async signalEntity(name: string, key: string, op: string, inputJson: string | undefined): Promise<void> {
    if (!this.o.registry.get(name, 'entity')) throw new HostError('InvalidArgument', `The function '${name}' doesn't exist, is disabled, or is not an entity function.`);
    const bad = badEntityKey(key);
    if (bad) throw new HostError('InvalidArgument', bad);
    await this.deliver(entityInstanceId(name, key), event(EventType.EventRaised, iso(this.o.clock.now()), { Name: 'op', Input: JSON.stringify(clientSignal(op, inputJson)) }));
  }

  /** The state of an entity (JSON text) when it has one; undefined when it does not exist or has no state. */
  async readEntity(name: string, key: string): Promise<string | undefined> {
    const meta = await this.getMeta(entityInstanceId(name, key));
    return meta ? (schedulerState(meta).state ?? undefined) : undefined;
  }

  /** Entities with state, optionally of one name, oldest operation first (the HTTP API's entity list). */
  async listEntities(name: string | undefined, q: EntityListQuery): Promise<EntityStatus[]> {
    return entityStatuses(await this.o.store.list({ instanceIdPrefix: name === undefined ? '@' : `@${name.toLowerCase()}@` }), q);
  }

  /**
   * Delivers outbox messages of `live` one after the other, after any it is still delivering, so each sender's
   * messages reach every receiver in the order sent (the extension's MessageSorter keeps that order), and forgets
   * each once it is stored.
   */
  private sendOut(live: Live, msgIds: string[]): Promise<void> {
    const previous = live.sending ?? Promise.resolve();
    const next = this.track(async () => {
      await previous;
      for (const msgId of msgIds) {
        const o = live.state.outbox.find((x) => x.msgId === msgId);
        if (!o) continue;
        await this.deliver(o.to, o.event, o.executionId, false, o.msgId);
        live.state.outbox = live.state.outbox.filter((x) => x.msgId !== msgId);
        (live.delivered ??= new Set()).add(msgId);
      }
    });
    live.sending = next.catch(() => undefined);
    return next;
  }

  // ---------------------------------------------------------------- internals: bookkeeping

  message(ev: HistoryEvent, executionId?: string, id?: string): InboxMessage {
    return { id: id ?? `${String(Date.now()).padStart(15, '0')}-${String(this.msgSeq++ % 1e9).padStart(9, '0')}`, event: ev, executionId };
  }

  /** Stores a new entity instance with its first message (or, when another writer was first, enqueues the message). */
  private async createEntity(instanceId: string, first: InboxMessage): Promise<void> {
    const meta = newEntityMeta(instanceId, this.o.clock.now());
    try {
      await this.o.store.create(meta, first);
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err;
      const live = await this.liveOf(instanceId);
      if (!live) return;
      await this.o.store.enqueue(instanceId, first);
      live.inbox.push(first);
      this.kick(live);
      return;
    }
    // A concurrent delivery may have loaded the new instance from the store meanwhile (its inbox holds `first`).
    const loaded = this.live.get(instanceId);
    if (loaded) {
      if (!loaded.inbox.some((m) => m.id === first.id)) loaded.inbox.push(first);
      this.kick(loaded);
      return;
    }
    const live: Live = { meta, history: [], inbox: [first], state: emptyState(), actions: [], running: false, timers: new Map() };
    this.live.set(instanceId, live);
    this.kick(live);
  }

  executionStarted(meta: InstanceMeta, ts: string): HistoryEvent {
    return event(EventType.ExecutionStarted, ts, {
      OrchestrationInstance: { InstanceId: meta.instanceId, ExecutionId: meta.executionId },
      ParentInstance: meta.parent
        ? { OrchestrationInstance: { InstanceId: meta.parent.instanceId, ExecutionId: meta.parent.executionId }, TaskScheduleId: meta.parent.taskId }
        : null,
      Name: meta.name,
      Version: meta.version ?? '',
      Input: meta.input,
      Tags: null,
      Correlation: null,
      ScheduledStartTime: null,
      Generation: 0,
    });
  }

  private async requireActive(instanceId: string): Promise<InstanceMeta> {
    const meta = await this.getMeta(instanceId);
    if (!meta) throw new HostError('NotFound', `No instance with ID '${instanceId}' found.`);
    if (isTerminal(meta.status)) throw new HostError('Gone', `Instance '${instanceId}' is ${meta.status}; it no longer accepts events or commands.`);
    return meta;
  }

  /**
   * The instance in memory, loaded from the store when it is not. An unfinished instance that is not in memory has
   * nothing of it running in this process (after a restart, recovery loads or leaves each; an idle one stays in the
   * store), so loading one resumes its work as recovery does.
   */
  private async liveOf(instanceId: string): Promise<Live | undefined> {
    const l = this.live.get(instanceId);
    if (l) return l;
    const stored = await this.o.store.load(instanceId);
    const again = this.live.get(instanceId);
    if (again) return again;
    if (!stored) {
      this.forgetDormant(instanceId);
      return undefined;
    }
    const live = liveFromStore(stored);
    this.live.set(instanceId, live);
    this.forgetDormant(instanceId);
    if (!isTerminal(live.meta.status)) {
      void this.resumeWork(live);
      if (live.inbox.length === 0) this.o.store.idle?.(instanceId, idleUntil(live.state));
    }
    return live;
  }

  /**
   * Hand a message to an instance and wake it. Messages to unknown or finished instances are dropped.
   * Messages from outside (events, terminate, ...) are stored before this resolves. Results the host
   * produces itself (activity results, timer fires, child completions) are `volatile`: they go straight
   * to the instance and reach the store with the episode that consumes them, which halves the writes per
   * step. A crash before that episode loses nothing: recovery re-arms the timer, re-runs the activity
   * (at least once, as on Azure) or re-reads the child's status, because the state still lists them.
   */
  private deliver(instanceId: string, ev: HistoryEvent, executionId?: string, volatile = false, msgId?: string): Promise<void> {
    // A volatile result for an instance in memory (every activity result and timer of a running orchestration)
    // needs no store and no await: handed over here, without the tracked async round the other cases take.
    const loaded = volatile && !this.closed ? this.live.get(instanceId) : undefined;
    if (loaded) {
      this.accept(loaded, ev, executionId, true, msgId);
      return Promise.resolve();
    }
    return this.track(async () => {
      if (this.closed) return;
      const live = await this.liveOf(instanceId);
      if (!live) {
        // The first message to an entity creates it (DTFx starts an "@name@key" instance on its first event).
        if (isEntityId(instanceId)) await this.createEntity(instanceId, this.message(ev, executionId, msgId));
        return;
      }
      const msg = this.accept(live, ev, executionId, volatile, msgId);
      if (!msg || volatile) return;
      await this.o.store.enqueue(instanceId, msg);
      live.inbox.push(msg);
      this.kick(live);
    });
  }

  /**
   * The message for `ev` to a loaded instance, or undefined when the instance is finished and drops it. A volatile
   * message goes into the inbox at once; a stored one is the caller's to enqueue first.
   */
  private accept(live: Live, ev: HistoryEvent, executionId: string | undefined, volatile: boolean, msgId: string | undefined): InboxMessage | undefined {
    if (isTerminal(live.meta.status) && !CONTROL_EVENTS.has(ev.EventType)) {
      if (!live.running && live.inbox.length === 0) this.live.delete(live.meta.instanceId); // loaded only to drop this
      return undefined;
    }
    const msg = this.message(ev, executionId, msgId);
    if (volatile) {
      this.volatile.add(msg);
      live.inbox.push(msg);
      this.kick(live);
    }
    return msg;
  }

  /** The loaded instance with its episode loop held off (until kick), or undefined when it does not exist. */
  private async hold(instanceId: string): Promise<Live | undefined> {
    for (;;) {
      const live = await this.liveOf(instanceId);
      if (!live || !live.running) {
        if (live) live.running = true;
        return live;
      }
      await this.work.nextChange(50);
    }
  }

  kick(live: Live): void {
    if (live.running || this.closed) return;
    live.running = true;
    void this.track(async () => {
      try {
        const entity = isEntityId(live.meta.instanceId);
        for (let batch = this.pickBatch(live); batch; batch = this.pickBatch(live)) {
          await (entity ? this.entities.process(live, batch) : this.orchestrations.process(live, batch));
        }
        live.failures = 0;
      } catch (err) {
        // A store outage, most likely: the messages stay in the inbox and are tried again with back-off.
        live.failures = (live.failures ?? 0) + 1;
        const wait = Math.min(30_000, 500 * 2 ** Math.min(live.failures, 6));
        this.o.log({ level: 'error', message: `devhost: instance '${live.meta.instanceId}' could not be processed (attempt ${live.failures}; next in ${wait} ms): ${messageOf(err)}` });
        setTimeout(() => this.kick(live), wait).unref();
      } finally {
        live.running = false;
        if (isTerminal(live.meta.status) && live.inbox.length === 0) this.live.delete(live.meta.instanceId);
      }
    });
  }

  /**
   * The messages of the next episode, as the Azure Storage provider forms a work item: every message waiting for
   * the instance (up to MAX_BATCH), in arrival order, with the execution's ExecutionStarted first. Control
   * messages (terminate, suspend, resume) act at once, one at a time; a suspended instance takes nothing else.
   */
  private pickBatch(live: Live): InboxMessage[] | undefined {
    if (this.closed || live.inbox.length === 0) return undefined;
    if (isEntityId(live.meta.instanceId)) return this.entities.pick(live);
    let start = -1;
    for (let i = 0; i < live.inbox.length; i++) {
      const type = live.inbox[i].event.EventType;
      if (CONTROL_EVENTS.has(type)) return [live.inbox[i]];
      if (start < 0 && type === EventType.ExecutionStarted) start = i;
    }
    if (live.meta.status === 'Suspended') return undefined;
    if (live.rejectedUntil !== undefined && this.o.clock.now() < live.rejectedUntil) return undefined;
    if (start <= 0) return live.inbox.slice(0, MAX_BATCH);
    const batch = [live.inbox[start], ...live.inbox.filter((_, i) => i !== start)];
    return batch.slice(0, MAX_BATCH);
  }

  /**
   * Stores an episode's result (one atomic write), then applies it in memory and runs its effects. Messages
   * that were never stored (volatile) need no delete; an episode that changes nothing stored is not written.
   */
  async commit(live: Live, c: EpisodeCommit): Promise<void> {
    faultPoint('episode.commit', live.meta.name);
    let { meta: next, append, st, effects, dropExecution, replaceHistory } = c;
    let actions = c.actions ?? [];
    st = withoutDelivered(st, live.delivered);
    const enqueue = c.enqueue ?? [];
    const consumed: string[] = [];
    for (const m of c.consumed) if (!this.volatile.has(m)) consumed.push(m.id);
    const changesNothing = append.length === 0 && enqueue.length === 0 && consumed.length === 0 && next.status === live.meta.status && dropExecution === undefined && st === live.state;
    if (!changesNothing) {
      next.engine = st;
      try {
        await this.o.store.commit(next.instanceId, { meta: next, append, actions, consumed, dropExecution, enqueue, replaceHistory, idleUntil: idleUntil(st) });
      } catch (err) {
        if ((err as { code?: string }).code !== 'PayloadTooLarge' || isTerminal(live.meta.status)) throw err;
        // The store cannot hold this episode: fail the instance (small) instead of leaving it stuck.
        const ts = next.lastUpdatedTime;
        const failed: InstanceMeta = { ...live.meta, status: 'Failed', lastUpdatedTime: ts, output: toJsonText(`Orchestrator function '${live.meta.name}' failed: ${messageOf(err)}`) };
        const fst = cloneState(live.state);
        const fx: Effect[] = [];
        finish(live, fst, fx);
        failed.engine = fst;
        await this.o.store.commit(next.instanceId, { meta: failed, append: [event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: failed.output })], consumed });
        next = failed;
        append = [];
        actions = [];
        st = fst;
        effects = fx;
        dropExecution = undefined;
        replaceHistory = undefined;
        enqueue.length = 0;
      }
    }
    live.meta = next;
    live.state = withoutDelivered(st, live.delivered);
    if (live.delivered) for (const id of [...live.delivered]) if (!live.state.outbox.some((o) => o.msgId === id)) live.delivered.delete(id);
    if (dropExecution !== undefined) live.history = [];
    else if (replaceHistory || append.length > 0) {
      for (const e of append) e.IsPlayed = true; // stored already: from the next episode on they replay
      live.history = replaceHistory ? append : live.history.concat(append);
    }
    live.actions = dropExecution !== undefined ? [] : replaceHistory ? actions : actions.length > 0 ? live.actions.concat(actions) : live.actions;
    live.inbox = remaining(live.inbox, c.consumed, enqueue);
    this.runEffects(live, effects);
    this.work.changed();
  }

  private runEffects(live: Live, effects: Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'timer':
          this.armTimer(live, e.id, e.fireAt);
          break;
        case 'cancelTimer':
          live.timers.get(String(e.id))?.cancel();
          live.timers.delete(String(e.id));
          break;
        case 'activity':
          void this.activities.run(live.meta.instanceId, live.meta.executionId, e.id, live.state.activities[e.id]);
          break;
        case 'child':
          void startChild(this, live, e.id);
          break;
        case 'notifyParent':
          void notifyParent(this, live.meta);
          break;
        case 'send':
          break; // below, all together and in order
      }
    }
    const sends = effects.flatMap((e) => (e.kind === 'send' ? [e.msgId] : []));
    if (sends.length > 0) void this.sendOut(live, sends);
  }

  // ---------------------------------------------------------------- internals: timers and recovery

  private armTimer(live: Live, id: number, fireAt: number): void {
    const key = String(id);
    live.timers.get(key)?.cancel();
    const instanceId = live.meta.instanceId;
    const executionId = live.meta.executionId;
    const handle = this.o.scheduler.at(fireAt, () => {
      live.timers.delete(key);
      void this.deliver(instanceId, event(EventType.TimerFired, iso(this.o.clock.now()), { TimerId: id, FireAt: iso(fireAt) }), executionId, true);
    });
    live.timers.set(key, handle);
  }

  private cancelAllTimers(live: Live | undefined): void {
    if (!live) return;
    for (const h of live.timers.values()) h.cancel();
    live.timers.clear();
  }

  /** After a restart: re-arm timers, re-run activities whose result is not in, re-check children. */
  private async resumeWork(live: Live): Promise<void> {
    void this.sendOut(live, live.state.outbox.map((o) => o.msgId)); // at least once: receivers skip repeats
    const inboxHas = (type: number, key: string, value: number) => live.inbox.some((m) => m.event.EventType === type && m.event[key] === value);
    const st = live.state;
    for (const [id, t] of Object.entries(st.timers)) {
      if (!inboxHas(EventType.TimerFired, 'TimerId', Number(id))) this.armTimer(live, Number(id), Date.parse(t.fireAt));
    }
    for (const [id, a] of Object.entries(st.activities)) {
      const n = Number(id);
      if (!inboxHas(EventType.TaskCompleted, 'TaskScheduledId', n) && !inboxHas(EventType.TaskFailed, 'TaskScheduledId', n)) {
        void this.activities.run(live.meta.instanceId, live.meta.executionId, n, a);
      }
    }
    for (const id of Object.keys(st.children)) {
      const n = Number(id);
      if (!inboxHas(EventType.SubOrchestrationInstanceCompleted, 'TaskScheduledId', n) && !inboxHas(EventType.SubOrchestrationInstanceFailed, 'TaskScheduledId', n)) {
        void startChild(this, live, n);
      }
    }
  }
}

/** The inbox without the messages an episode used up, then the ones it enqueued (most episodes use one message). */
function remaining(inbox: InboxMessage[], used: InboxMessage[], enqueue: InboxMessage[]): InboxMessage[] {
  let rest: InboxMessage[];
  if (used.length === 0) rest = inbox.slice();
  else if (used.length === 1) rest = inbox.filter((m) => m !== used[0]);
  else {
    const done = new Set(used);
    rest = inbox.filter((m) => !done.has(m));
  }
  for (const m of enqueue) rest.push(m);
  return rest;
}

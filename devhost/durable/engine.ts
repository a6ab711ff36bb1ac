// The durable engine: drives orchestrations through the SDK's replay protocol (history in, actions out) and
// executes what they ask for. This file owns the instances in memory, their inboxes and the episode loop; the
// rooms beside it plan each part: episode.ts (replay, determinism, actions), timers.ts, retry.ts, activities.ts,
// children.ts. Every episode is committed to the Store before its effects run, so a restarted host resumes exactly.
import { randomUUID } from 'node:crypto';
import { Clock, Scheduler } from '../clock';
import { HostError, messageOf } from '../errors';
import { Invoker, LogSink } from '../invoke';
import { Registry, RegisteredFunction } from '../registry';
import { HistoryEvent, InboxMessage, InstanceMeta, InstanceQuery, Page, PageRequest, Store, StoreConflictError } from '../store/types';
import { ActionType, actionTypeOf, toJsonText } from './actions';
import { ActivityRunner } from './activities';
import { notifyParent, startChild } from './children';
import { EntityRunner, newEntityMeta, SchedulerState, schedulerState } from './entities';
import { badEntityKey, entityInstanceId, isEntityId, parseEntityId } from './entity-ids';
import { allocatesIds, applyActions, EpisodeOutcome, followUp, releaseLocks, runOrchestrator } from './episode';
import { withoutDelivered } from './sends';
import { event, EventType, iso, OrchestrationStatusCode } from './history';
import { validateInstanceId } from './ids';
import { cloneState, DAY, Effect, EngineState, emptyState, isTerminal, Live, liveFromStore, Plan } from './state';
import { PlanOptions } from './timers';
import { MAX_REJECT_WAIT_MS, mayRun, VERSION_MISMATCH, Versioning } from './versioning';
import { parkForRewind, rewind } from './rewind';
import { WorkTracker } from './tracker';
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

/** An entity as the HTTP API lists it (DurableEntityStatus). */
export interface EntityStatus {
  entityId: { name: string; key: string };
  lastOperationTime: string;
  state: unknown;
}

const CONTROL_EVENTS = new Set<number>([EventType.ExecutionTerminated, EventType.ExecutionSuspended, EventType.ExecutionResumed]);
/** Instances recovery loads per page of the store's index. */
const RECOVERY_PAGE = 500;
/** Most messages one episode takes (the extension stops dequeuing at 256 buffered messages of a control queue). */
const MAX_BATCH = 256;

/** What one episode (or control message) writes, atomically. */
interface EpisodeCommit {
  meta: InstanceMeta;
  append: HistoryEvent[];
  /** Action signatures this episode recorded. */
  actions?: string[];
  /** Batch messages this episode used up (all but the events carried into a new execution). */
  consumed: InboxMessage[];
  st: EngineState;
  effects: Effect[];
  /** Continue-as-new: the old execution whose history goes. */
  dropExecution?: string;
  /** Continue-as-new: the new execution's ExecutionStarted. */
  enqueue?: InboxMessage[];
  /** Rewind: `append` and `actions` are the execution's whole new history and action list. */
  replaceHistory?: boolean;
}

/** True when the orchestrator's answer ends this execution with continue-as-new. */
function continuesAsNew(o: EpisodeOutcome): boolean {
  const actions = o.state?.actions?.[0] ?? [];
  return o.error === undefined && !!o.state?.isDone && actions.some((a) => actionTypeOf(a) === ActionType.ContinueAsNew);
}

/**
 * Runs orchestrations of one app against one store.
 * @example const engine = new Engine({ store, clock, scheduler, registry, invoker, log }); await engine.recover();
 */
export class Engine {
  private readonly live = new Map<string, Live>();
  /** Messages never written to the store (see deliver). */
  private readonly volatile = new WeakSet<InboxMessage>();
  private readonly work = new WorkTracker();
  private readonly activities: ActivityRunner;
  private readonly entities: EntityRunner;
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
    if (l && !isTerminal(l.meta.status) && !isEntityId(instanceId)) {
      throw new HostError('Conflict', `Instance '${instanceId}' is ${l.meta.status}; terminate it before purging its history.`);
    }
    this.cancelAllTimers(l);
    this.live.delete(instanceId);
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
   * Load every unfinished instance from the store and resume its pending work (after a restart): a page of the
   * store's index at a time (the store loads a page with bounded concurrency), so memory and store load stay
   * bounded however many instances the hub holds.
   */
  async recover(): Promise<number> {
    let n = 0;
    let after: string | undefined;
    do {
      const page = await this.o.store.loadActivePage({ top: RECOVERY_PAGE, after });
      for (const stored of page.items) {
        const id = stored.meta.instanceId;
        if (this.live.has(id)) continue;
        const live = liveFromStore(stored);
        this.live.set(id, live);
        await this.track(() => this.resumeWork(live));
        this.kick(live);
        n++;
      }
      after = page.next;
    } while (after !== undefined);
    return n;
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
    const request = { op, signal: true, ...(inputJson !== undefined ? { input: inputJson } : {}), id: randomUUID(), parent: null };
    await this.deliver(entityInstanceId(name, key), event(EventType.EventRaised, iso(this.o.clock.now()), { Name: 'op', Input: JSON.stringify(request) }));
  }

  /** The state of an entity (JSON text) when it has one; undefined when it does not exist or has no state. */
  async readEntity(name: string, key: string): Promise<string | undefined> {
    const meta = await this.getMeta(entityInstanceId(name, key));
    return meta ? (schedulerState(meta).state ?? undefined) : undefined;
  }

  /** Entities with state, optionally of one name, oldest operation first (the HTTP API's entity list). */
  async listEntities(name: string | undefined, q: { from?: string; to?: string; fetchState: boolean }): Promise<EntityStatus[]> {
    const metas = await this.o.store.list({ instanceIdPrefix: name === undefined ? '@' : `@${name.toLowerCase()}@` });
    const out: EntityStatus[] = [];
    for (const m of metas) {
      const ref = parseEntityId(m.instanceId);
      const sched: SchedulerState = schedulerState(m);
      if (!ref || sched.state === null) continue;
      if ((q.from && m.lastUpdatedTime < q.from) || (q.to && m.lastUpdatedTime > q.to)) continue;
      out.push({ entityId: ref, lastOperationTime: m.lastUpdatedTime, state: q.fetchState ? JSON.parse(sched.state) : null });
    }
    return out.sort((a, b) => a.lastOperationTime.localeCompare(b.lastOperationTime) || a.entityId.key.localeCompare(b.entityId.key));
  }

  /** Delivers an outbox message of `live` (entity requests, replies, releases) and forgets it once it is stored. */
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

  private message(ev: HistoryEvent, executionId?: string, id?: string): InboxMessage {
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

  private executionStarted(meta: InstanceMeta, ts: string): HistoryEvent {
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

  private async liveOf(instanceId: string): Promise<Live | undefined> {
    const l = this.live.get(instanceId);
    if (l) return l;
    const stored = await this.o.store.load(instanceId);
    if (!stored) return undefined;
    const again = this.live.get(instanceId);
    if (again) return again;
    const live = liveFromStore(stored);
    this.live.set(instanceId, live);
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
    return this.track(async () => {
      if (this.closed) return;
      const live = await this.liveOf(instanceId);
      if (!live) {
        // The first message to an entity creates it (DTFx starts an "@name@key" instance on its first event).
        if (isEntityId(instanceId)) await this.createEntity(instanceId, this.message(ev, executionId, msgId));
        return;
      }
      if (isTerminal(live.meta.status) && !CONTROL_EVENTS.has(ev.EventType)) {
        if (!live.running && live.inbox.length === 0) this.live.delete(instanceId); // loaded only to drop this
        return;
      }
      const msg = this.message(ev, executionId, msgId);
      if (volatile) this.volatile.add(msg);
      else await this.o.store.enqueue(instanceId, msg);
      live.inbox.push(msg);
      this.kick(live);
    });
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

  private kick(live: Live): void {
    if (live.running || this.closed) return;
    live.running = true;
    void this.track(async () => {
      try {
        const entity = isEntityId(live.meta.instanceId);
        for (let batch = this.pickBatch(live); batch; batch = this.pickBatch(live)) {
          await (entity ? this.entities.process(live, batch) : this.process(live, batch));
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
    const control = live.inbox.find((m) => CONTROL_EVENTS.has(m.event.EventType));
    if (control) return [control];
    if (live.meta.status === 'Suspended') return undefined;
    if (live.rejectedUntil !== undefined && this.o.clock.now() < live.rejectedUntil) return undefined;
    const start = live.inbox.find((m) => m.event.EventType === EventType.ExecutionStarted);
    const batch = start ? [start, ...live.inbox.filter((m) => m !== start)] : [...live.inbox];
    return batch.slice(0, MAX_BATCH);
  }

  // ---------------------------------------------------------------- internals: episodes

  /**
   * One episode over a batch (DTFx TaskOrchestrationDispatcher): OrchestratorStarted, then each message's event
   * in batch order; messages for an older execution, a second ExecutionStarted and completions nobody waits for
   * any more are dropped, as DTFx drops them.
   */
  private async process(live: Live, batch: InboxMessage[]): Promise<void> {
    const now = this.o.clock.now();
    const ts = iso(now);
    const meta = live.meta;
    if (CONTROL_EVENTS.has(batch[0].event.EventType)) return this.control(live, batch[0], ts);
    const plan: Plan = { live, st: cloneState(live.state), now, decisions: [], effects: [], actions: [] };
    const taken: InboxMessage[] = [];
    if (!isTerminal(meta.status)) {
      for (const [i, msg] of batch.entries()) {
        const ev = msg.event;
        if (taken.length > 0 && allocatesIds(plan.st, ev, now)) {
          batch = batch.slice(0, i); // it opens the next episode (allocatesIds says why)
          break;
        }
        // Messages addressed to an older execution are dropped (DTFx "eat up any events for previous executions");
        // events raised from outside carry no execution and reach the current one.
        const stale = msg.executionId !== undefined && msg.executionId !== meta.executionId;
        const secondStart = ev.EventType === EventType.ExecutionStarted && (live.history.length > 0 || taken.length > 0);
        if (!stale && !secondStart && followUp(plan, ev, this.limits)) taken.push(msg);
      }
    }
    // Nothing to run: every message was stale, or (DTFx: "invalid orchestration") the execution has not started.
    if (taken.length === 0 || (live.history.length === 0 && taken[0].event.EventType !== EventType.ExecutionStarted)) {
      return this.commit(live, { meta: { ...meta }, append: [], consumed: batch, st: live.state, effects: [] });
    }

    if (!mayRun(this.versioning, meta.version ?? '')) return this.versionMismatch(live, plan, batch, taken);
    live.rejections = 0;
    live.rejectedUntil = undefined;

    const fn = this.o.registry.get(meta.name, 'orchestration');
    let newEvents = [event(EventType.OrchestratorStarted, ts), ...taken.map((m) => m.event)];
    let outcome: EpisodeOutcome = fn
      ? await this.runEpisode(fn, live, newEvents)
      : { error: `The function '${meta.name}' doesn't exist, is disabled, or is not an orchestrator function.` };
    let carried: InboxMessage[] = [];
    if (fn && taken.length > 1 && continuesAsNew(outcome)) {
      // DTFx hands the events after the one that made the orchestrator continue as new to the new execution
      // (EventRaised only; the rest belonged to the old one). The SDK stops reading history at that point, so
      // the shortest prefix of the batch that already continues as new finds it.
      for (let k = 1; k < taken.length; k++) {
        const prefix = [event(EventType.OrchestratorStarted, ts), ...taken.slice(0, k).map((m) => m.event)];
        const probe = await this.runEpisode(fn, live, prefix, false);
        if (!continuesAsNew(probe)) continue;
        outcome = probe;
        newEvents = prefix;
        carried = taken.slice(k).filter((m) => m.event.EventType === EventType.EventRaised);
        break;
      }
    }

    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts };
    if (next.status === 'Pending') next.status = 'Running';
    const state = outcome.state;
    if (state && state.customStatus !== undefined && state.customStatus !== null) next.customStatus = toJsonText(state.customStatus);

    let failure = outcome.error;
    let continueInput: string | undefined;
    if (state && failure === undefined) {
      try {
        continueInput = applyActions(plan, state, this.limits);
      } catch (err) {
        failure = messageOf(err);
      }
    }

    const consumed = batch.filter((m) => !carried.includes(m));
    // DTFx writes the execution's end as the episode's last decision, then OrchestratorCompleted.
    const tail: HistoryEvent[] = [];
    if (failure !== undefined) {
      next.status = 'Failed';
      next.output = toJsonText(`Orchestrator function '${meta.name}' failed: ${failure}`);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: next.output, FailureDetails: outcome.failureDetails ?? null }));
      this.finish(live, plan.st, plan.effects);
    } else if (state?.isDone && continueInput !== undefined) {
      // The new execution starts with ExecutionStarted, then the carried events (still in the inbox), in one commit.
      next.input = continueInput;
      next.executionId = randomUUID().replace(/-/g, '');
      next.status = 'Running';
      releaseLocks(plan, false); // the extension releases a critical section when the execution continues as new or completes
      this.finish(live, plan.st, plan.effects, false);
      const start = this.message(this.executionStarted(next, ts), next.executionId);
      const st = { ...emptyState(), outbox: plan.st.outbox };
      return this.commit(live, { meta: next, append: [], consumed, st, effects: plan.effects, dropExecution: meta.executionId, enqueue: [start] });
    } else if (state?.isDone) {
      next.status = 'Completed';
      next.output = toJsonText(state.output);
      releaseLocks(plan, false);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Completed, Result: next.output }));
      this.finish(live, plan.st, plan.effects);
    }
    tail.push(event(EventType.OrchestratorCompleted, ts));
    await this.commit(live, { meta: next, append: [...newEvents, ...plan.decisions, ...tail], actions: plan.actions, consumed, st: plan.st, effects: plan.effects });
  }

  /**
   * This worker may not run the instance's version. Reject (the default): leave the messages where they are and
   * try again after 2, 4, 8 ... s (at most 10 min), as the Azure Storage provider abandons a work item; a worker
   * with a newer defaultVersion (the next deployment) runs them. Fail: the instance fails without running user
   * code, with DTFx's VersionMismatch failure, which a parent sees as the sub-orchestration's error.
   */
  private async versionMismatch(live: Live, plan: Plan, batch: InboxMessage[], taken: InboxMessage[]): Promise<void> {
    const { meta } = live;
    const ts = iso(plan.now);
    const worker = `worker version '${this.versioning.defaultVersion}', ${this.versioning.match}`;
    if (this.versioning.failure === 'Reject') {
      live.rejections = (live.rejections ?? 0) + 1;
      const wait = Math.min(MAX_REJECT_WAIT_MS, 1000 * 2 ** live.rejections);
      live.rejectedUntil = plan.now + wait;
      this.o.log({ level: 'warning', message: `Instance '${meta.instanceId}' has version '${meta.version ?? ''}', which this worker does not run (${worker}); its messages wait, next try in ${wait / 1000} s.` });
      this.o.scheduler.at(live.rejectedUntil, () => this.kick(live), { background: true });
      return;
    }
    this.o.log({ level: 'warning', message: `Instance '${meta.instanceId}' has version '${meta.version ?? ''}', which this worker does not run (${worker}): failing it (versionFailureStrategy Fail).` });
    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts, status: 'Failed', output: toJsonText(`${VERSION_MISMATCH.ErrorType}: ${VERSION_MISMATCH.ErrorMessage}`), failureDetails: VERSION_MISMATCH };
    this.finish(live, plan.st, plan.effects);
    const append = [
      event(EventType.OrchestratorStarted, ts),
      ...taken.map((m) => m.event),
      event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: null, FailureDetails: VERSION_MISMATCH }),
      event(EventType.OrchestratorCompleted, ts),
    ];
    await this.commit(live, { meta: next, append, consumed: batch, st: plan.st, effects: plan.effects });
  }

  /** Runs the orchestrator over the history plus `newEvents`; `reported` false for a probe that is not the episode of record. */
  private runEpisode(fn: RegisteredFunction, live: Live, newEvents: HistoryEvent[], reported = true): Promise<EpisodeOutcome> {
    const report = reported ? (reason: string, invocationId: string, started: number, result: string) => this.report(fn.name, reason, invocationId, started, result) : () => undefined;
    return runOrchestrator(this.o.invoker, fn, live, newEvents, this.limits, report);
  }

  /** Clear pending work of a finished execution; the parent hears about it. */
  private finish(live: Live, st: EngineState, effects: Effect[], notify = true): void {
    for (const id of Object.keys(st.timers)) effects.push({ kind: 'cancelTimer', id: Number(id) });
    parkForRewind(st);
    st.timers = {};
    st.activities = {};
    st.children = {};
    st.retries = {};
    if (notify && live.meta.parent) effects.push({ kind: 'notifyParent' });
  }

  private async control(live: Live, msg: InboxMessage, ts: string): Promise<void> {
    const meta = live.meta;
    const ev = msg.event;
    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts };
    const st = cloneState(live.state);
    const effects: Effect[] = [];
    const append: HistoryEvent[] = [];
    if (isTerminal(meta.status)) {
      // Finished meanwhile: nothing to do.
    } else if (ev.EventType === EventType.ExecutionTerminated) {
      next.status = 'Terminated';
      next.output = toJsonText(ev.Input ?? '');
      append.push({ ...ev, Timestamp: ts });
      this.finish(live, st, effects);
    } else if (ev.EventType === EventType.ExecutionSuspended && meta.status !== 'Suspended') {
      next.status = 'Suspended';
      append.push({ ...ev, Timestamp: ts });
    } else if (ev.EventType === EventType.ExecutionResumed && meta.status === 'Suspended') {
      next.status = live.history.length === 0 ? 'Pending' : 'Running';
      append.push({ ...ev, Timestamp: ts });
    }
    await this.commit(live, { meta: next, append, consumed: [msg], st, effects });
  }

  /**
   * Stores an episode's result (one atomic write), then applies it in memory and runs its effects. Messages
   * that were never stored (volatile) need no delete; an episode that changes nothing stored is not written.
   */
  private async commit(live: Live, c: EpisodeCommit): Promise<void> {
    faultPoint('episode.commit', live.meta.name);
    let { meta: next, append, st, effects, dropExecution, replaceHistory } = c;
    let actions = c.actions ?? [];
    st = withoutDelivered(st, live.delivered);
    const enqueue = c.enqueue ?? [];
    const consumed = c.consumed.filter((m) => !this.volatile.has(m)).map((m) => m.id);
    const changesNothing = append.length === 0 && enqueue.length === 0 && consumed.length === 0 && next.status === live.meta.status && dropExecution === undefined && st === live.state;
    if (!changesNothing) {
      next.engine = st;
      try {
        await this.o.store.commit(next.instanceId, { meta: next, append, actions, consumed, dropExecution, enqueue, replaceHistory });
      } catch (err) {
        if ((err as { code?: string }).code !== 'PayloadTooLarge' || isTerminal(live.meta.status)) throw err;
        // The store cannot hold this episode: fail the instance (small) instead of leaving it stuck.
        const ts = next.lastUpdatedTime;
        const failed: InstanceMeta = { ...live.meta, status: 'Failed', lastUpdatedTime: ts, output: toJsonText(`Orchestrator function '${live.meta.name}' failed: ${messageOf(err)}`) };
        const fst = cloneState(live.state);
        const fx: Effect[] = [];
        this.finish(live, fst, fx);
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
    const done = new Set(c.consumed);
    live.inbox = [...live.inbox.filter((m) => !done.has(m)), ...enqueue];
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

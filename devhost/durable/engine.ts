// The durable engine: drives orchestrations through the SDK's replay protocol (history in, actions out),
// one new event per episode, and executes what they ask for: activities (with DTFx retry semantics),
// timers (long ones split host-side), sub-orchestrations, external events, continue-as-new, custom status.
// Every episode is committed to the Store before its effects run, so a restarted host resumes exactly.
import { randomUUID } from 'node:crypto';
import { Clock, Scheduler, TimerHandle } from '../clock';
import { HostError, messageOf } from '../errors';
import { Invoker, LogSink } from '../invoke';
import { Registry } from '../registry';
import { HistoryEvent, InboxMessage, InstanceMeta, InstanceQuery, RuntimeStatus, Store, StoreConflictError, TERMINAL_STATUSES } from '../store/types';
import { Action, ActionType, actionInputValue, actionSignature, actionTypeOf, describeAction, RetryOptionsJson, toJsonText } from './actions';
import { event, EventType, iso, OrchestrationStatusCode } from './history';

/** Host bookkeeping per execution, persisted with the instance meta. */
interface EngineState {
  nextId: number;
  /** Signatures of the top-level actions recorded so far (determinism check). */
  actions: string[];
  /** Action path ("3" or "3.1") of each CreateTimer -> current timer id (to apply isCanceled). */
  timerPaths: Record<string, number>;
  timers: Record<string, { fireAt: string; final?: string; path?: string; retry?: string; dummy?: boolean }>;
  activities: Record<string, { name: string; input: string; retry?: string; skipped?: { reason: string; details: string } }>;
  children: Record<string, { instanceId: string; name: string; input: string; retry?: string }>;
  retries: Record<string, RetryState>;
}

interface RetryState {
  kind: 'activity' | 'sub';
  name: string;
  input: string;
  options: RetryOptionsJson;
  attempt: number;
  firstAt: number;
  instanceId?: string;
  timedOut?: boolean;
  /** The last attempt's failure, repeated for attempts skipped after the retry timeout. */
  lastFailure?: { reason: string; details: string };
}

interface Live {
  meta: InstanceMeta;
  history: HistoryEvent[];
  inbox: InboxMessage[];
  state: EngineState;
  running: boolean;
  timers: Map<string, TimerHandle>;
  /** Consecutive failed attempts to process the first message (store outage): drives the retry back-off. */
  failures?: number;
}

type Effect =
  | { kind: 'timer'; id: number; fireAt: number }
  | { kind: 'cancelTimer'; id: number }
  | { kind: 'activity'; id: number }
  | { kind: 'child'; id: number }
  | { kind: 'notifyParent' }
  | { kind: 'restart' };

interface OrchestratorStateJson {
  isDone?: boolean;
  actions?: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  failureDetails?: unknown;
}

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
}

const DAY = 86_400_000;
const CONTROL_EVENTS = new Set<number>([EventType.ExecutionTerminated, EventType.ExecutionSuspended, EventType.ExecutionResumed]);
const MAX_INSTANCE_ID = 256;

/** Throws HostError('InvalidInstanceId') unless `id` is a legal Durable instance id. */
export function validateInstanceId(id: string): void {
  if (id.length === 0) throw new HostError('InvalidInstanceId', 'Instance id must not be empty.');
  if (id.length > MAX_INSTANCE_ID) throw new HostError('InvalidInstanceId', `Instance id is ${id.length} characters long; the limit is ${MAX_INSTANCE_ID}.`);
  if (id.startsWith('@')) throw new HostError('InvalidInstanceId', `Instance id '${id}' starts with '@', which is reserved for entities.`);
  const bad = /[/\\?#\u0000-\u001f\u007f-\u009f]/.exec(id);
  if (bad) {
    const shown = bad[0].charCodeAt(0) < 0x20 || bad[0].charCodeAt(0) >= 0x7f ? `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}` : `'${bad[0]}'`;
    const escaped = id.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    throw new HostError('InvalidInstanceId', `Instance id '${escaped}' contains ${shown}; instance ids may not contain '/', '\\', '?', '#' or control characters.`);
  }
}

function emptyState(): EngineState {
  return { nextId: 0, actions: [], timerPaths: {}, timers: {}, activities: {}, children: {}, retries: {} };
}

function isTerminal(s: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

/** TimeSpan text "d.hh:mm:ss" as the extension sends it. */
function timeSpan(ms: number): string {
  const d = Math.floor(ms / DAY);
  let rest = ms - d * DAY;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d}.${p(h)}:${p(m)}:${p(s)}`;
}

/**
 * Runs orchestrations of one app against one store.
 * @example const engine = new Engine({ store, clock, scheduler, registry, invoker, log }); await engine.recover();
 */
export class Engine {
  private readonly live = new Map<string, Live>();
  /** Messages never written to the store (see deliver). */
  private readonly volatile = new WeakSet<InboxMessage>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private changeWaiters: (() => void)[] = [];
  private msgSeq = 0;
  private activitySlots: number;
  private activityQueue: (() => void)[] = [];
  private closed = false;
  readonly maximumShortTimerMs: number;
  readonly longTimerIntervalMs: number;

  constructor(private readonly o: EngineOptions) {
    this.maximumShortTimerMs = o.maximumShortTimerMs ?? 6 * DAY;
    this.longTimerIntervalMs = o.longTimerIntervalMs ?? 3 * DAY;
    this.activitySlots = o.maxConcurrentActivities ?? 100;
  }

  // ---------------------------------------------------------------- public operations

  /** Start an orchestration. Returns the instance id. */
  async start(name: string, instanceId: string | undefined, inputJson: string | null, parent?: InstanceMeta['parent']): Promise<string> {
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
      const live: Live = { meta, history: [], inbox: [first], state: emptyState(), running: false, timers: new Map() };
      this.live.set(id, live);
      this.kick(live);
    });
    return id;
  }

  /** Current meta of an instance (from memory when loaded, else the store). */
  async getMeta(instanceId: string): Promise<InstanceMeta | undefined> {
    return this.live.get(instanceId)?.meta ?? this.o.store.getMeta(instanceId);
  }

  /** Metas matching a management-API query. */
  listMetas(query: InstanceQuery): Promise<InstanceMeta[]> {
    return this.o.store.list(query);
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
    if (l && !isTerminal(l.meta.status)) {
      throw new HostError('Conflict', `Instance '${instanceId}' is ${l.meta.status}; terminate it before purging its history.`);
    }
    this.cancelAllTimers(l);
    this.live.delete(instanceId);
    return this.o.store.purge(instanceId);
  }

  /** Load every unfinished instance from the store and resume its pending work (after a restart). */
  async recover(): Promise<number> {
    const metas = await this.o.store.list({ runtimeStatus: ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'] });
    await Promise.all(
      metas.map((m) =>
        this.track(async () => {
          const stored = await this.o.store.load(m.instanceId);
          if (!stored || this.live.has(m.instanceId)) return;
          const state = { ...emptyState(), ...(stored.meta.engine as Partial<EngineState>) };
          const live: Live = { meta: stored.meta, history: stored.history, inbox: stored.inbox, state, running: false, timers: new Map() };
          this.live.set(m.instanceId, live);
          await this.resumeWork(live);
          this.kick(live);
        }),
      ),
    );
    return metas.length;
  }

  // ---------------------------------------------------------------- idle / time

  /** Number of timers waiting. */
  get pendingTimers(): number {
    return this.o.scheduler.size;
  }

  /** Resolves when no episode, activity or store write is in flight. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /**
   * Resolves on the next instance state change (any instance), or after `timeoutMs` when given. A timed-out
   * wait removes its waiter and a change clears the timer, so a polling loop holds one waiter and no stray timer.
   * @example await engine.nextChange(250);
   */
  nextChange(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const onChange = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.changeWaiters.push(onChange);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.changeWaiters.indexOf(onChange);
              if (i >= 0) this.changeWaiters.splice(i, 1);
              resolve();
            }, timeoutMs);
    });
  }

  close(): void {
    this.closed = true;
    for (const l of this.live.values()) this.cancelAllTimers(l);
  }

  // ---------------------------------------------------------------- internals: bookkeeping

  private async track<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    try {
      return await work();
    } finally {
      this.pending--;
      if (this.pending === 0) this.checkIdle();
    }
  }

  private checkIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    // Let the microtasks that follow the last piece of work start new work before declaring idle.
    setImmediate(() => {
      if (this.pending !== 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    });
  }

  private changed(): void {
    const w = this.changeWaiters;
    this.changeWaiters = [];
    w.forEach((f) => f());
  }

  private message(ev: HistoryEvent, executionId?: string): InboxMessage {
    const id = `${String(Date.now()).padStart(15, '0')}-${String(this.msgSeq++ % 1e9).padStart(9, '0')}`;
    return { id, event: ev, executionId };
  }

  private executionStarted(meta: InstanceMeta, ts: string): HistoryEvent {
    return event(EventType.ExecutionStarted, ts, {
      OrchestrationInstance: { InstanceId: meta.instanceId, ExecutionId: meta.executionId },
      ParentInstance: meta.parent
        ? { OrchestrationInstance: { InstanceId: meta.parent.instanceId, ExecutionId: meta.parent.executionId }, TaskScheduleId: meta.parent.taskId }
        : null,
      Name: meta.name,
      Version: '',
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
    const state = { ...emptyState(), ...(stored.meta.engine as Partial<EngineState>) };
    const live: Live = { meta: stored.meta, history: stored.history, inbox: stored.inbox, state, running: false, timers: new Map() };
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
  private deliver(instanceId: string, ev: HistoryEvent, executionId?: string, volatile = false): Promise<void> {
    return this.track(async () => {
      const live = await this.liveOf(instanceId);
      if (!live || this.closed) return;
      if (isTerminal(live.meta.status) && !CONTROL_EVENTS.has(ev.EventType)) {
        if (!live.running && live.inbox.length === 0) this.live.delete(instanceId); // loaded only to drop this
        return;
      }
      const msg = this.message(ev, executionId);
      if (volatile) this.volatile.add(msg);
      else await this.o.store.enqueue(instanceId, msg);
      live.inbox.push(msg);
      this.kick(live);
    });
  }

  private kick(live: Live): void {
    if (live.running || this.closed) return;
    live.running = true;
    void this.track(async () => {
      try {
        for (let msg = this.pickNext(live); msg; msg = this.pickNext(live)) {
          await this.process(live, msg);
        }
        live.failures = 0;
      } catch (err) {
        // A store outage, most likely: the message stays first in the inbox and is tried again with back-off.
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

  private pickNext(live: Live): InboxMessage | undefined {
    if (this.closed || live.inbox.length === 0) return undefined;
    const control = live.inbox.find((m) => CONTROL_EVENTS.has(m.event.EventType));
    if (control) return control;
    if (live.meta.status === 'Suspended') return undefined;
    return live.inbox[0];
  }

  // ---------------------------------------------------------------- internals: episodes

  private async process(live: Live, msg: InboxMessage): Promise<void> {
    const now = this.o.clock.now();
    const ts = iso(now);
    const ev = msg.event;
    const meta = live.meta;
    const stale =
      isTerminal(meta.status) ||
      (msg.executionId !== undefined && msg.executionId !== meta.executionId && ev.EventType !== EventType.EventRaised);
    if (stale) return this.drop(live, msg);

    if (CONTROL_EVENTS.has(ev.EventType)) return this.control(live, msg, ts);

    const st: EngineState = structuredClone(live.state);
    const decisions: HistoryEvent[] = [];
    const effects: Effect[] = [];
    if (!this.followUps(live, st, ev, now, decisions, effects)) {
      return this.drop(live, msg); // a completion nobody waits for any more
    }

    const fn = this.o.registry.get(meta.name, 'orchestration');
    const newEvents = [event(EventType.OrchestratorStarted, ts), ev];
    let outcome: { state?: OrchestratorStateJson; error?: string; failureDetails?: unknown };
    if (!fn) {
      outcome = { error: `The function '${meta.name}' doesn't exist, is disabled, or is not an orchestrator function.` };
    } else {
      outcome = await this.runOrchestrator(live, fn.name, newEvents);
    }

    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts };
    if (next.status === 'Pending') next.status = 'Running';
    const state = outcome.state;
    if (state && state.customStatus !== undefined && state.customStatus !== null) next.customStatus = toJsonText(state.customStatus);

    let failure = outcome.error;
    let continueInput: string | undefined;
    if (state && failure === undefined) {
      try {
        continueInput = this.applyActions(live, st, state, now, decisions, effects);
      } catch (err) {
        failure = messageOf(err);
      }
    }

    const tail: HistoryEvent[] = [event(EventType.OrchestratorCompleted, ts)];
    if (failure !== undefined) {
      next.status = 'Failed';
      next.output = toJsonText(`Orchestrator function '${meta.name}' failed: ${failure}`);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: next.output, FailureDetails: outcome.failureDetails ?? null }));
      this.finish(live, st, effects);
    } else if (state?.isDone && continueInput !== undefined) {
      tail.push(event(EventType.ContinueAsNew, ts, { Result: continueInput }));
      next.input = continueInput;
      next.executionId = randomUUID().replace(/-/g, '');
      next.status = 'Running';
      this.finish(live, st, effects, false);
      effects.push({ kind: 'restart' });
    } else if (state?.isDone) {
      next.status = 'Completed';
      next.output = toJsonText(state.output);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Completed, Result: next.output }));
      this.finish(live, st, effects);
    }
    const restart = effects.some((e) => e.kind === 'restart');
    await this.commit(live, next, restart ? [] : [...newEvents, ...decisions, ...tail], msg, restart ? emptyState() : st, effects, restart ? meta.executionId : undefined);
  }

  /** Clear pending work of a finished execution; the parent hears about it. */
  private finish(live: Live, st: EngineState, effects: Effect[], notify = true): void {
    for (const id of Object.keys(st.timers)) effects.push({ kind: 'cancelTimer', id: Number(id) });
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
    const st = structuredClone(live.state);
    const effects: Effect[] = [];
    const append: HistoryEvent[] = [];
    if (ev.EventType === EventType.ExecutionTerminated) {
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
    await this.commit(live, next, append, msg, st, effects);
  }

  /** Consume a message that changes nothing (stale, or for a finished instance). */
  private async drop(live: Live, msg: InboxMessage): Promise<void> {
    if (this.volatile.has(msg)) {
      live.inbox = live.inbox.filter((m) => m !== msg);
      return;
    }
    await this.commit(live, { ...live.meta }, [], msg, live.state, []);
  }

  private async commit(live: Live, next: InstanceMeta, append: HistoryEvent[], msg: InboxMessage, st: EngineState, effects: Effect[], dropExecution?: string): Promise<void> {
    next.engine = st;
    const consumed = this.volatile.has(msg) ? [] : [msg.id];
    try {
      await this.o.store.commit(next.instanceId, { meta: next, append, consumed, dropExecution });
    } catch (err) {
      if ((err as { code?: string }).code !== 'PayloadTooLarge' || isTerminal(live.meta.status)) throw err;
      // The store cannot hold this episode: fail the instance (small) instead of leaving it stuck.
      const ts = next.lastUpdatedTime;
      const failed: InstanceMeta = { ...live.meta, status: 'Failed', lastUpdatedTime: ts, output: toJsonText(`Orchestrator function '${live.meta.name}' failed: ${messageOf(err)}`) };
      const fst = structuredClone(live.state);
      const fx: Effect[] = [];
      this.finish(live, fst, fx);
      failed.engine = fst;
      await this.o.store.commit(next.instanceId, { meta: failed, append: [event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: failed.output })], consumed });
      next = failed;
      append = [];
      st = fst;
      effects = fx;
      dropExecution = undefined;
    }
    live.meta = next;
    live.state = st;
    live.history = dropExecution !== undefined ? [] : live.history.concat(append);
    live.inbox = live.inbox.filter((m) => m !== msg);
    this.runEffects(live, effects);
    this.changed();
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
          void this.runActivity(live.meta.instanceId, live.meta.executionId, e.id, live.state.activities[e.id]);
          break;
        case 'child':
          void this.startChild(live, e.id);
          break;
        case 'notifyParent':
          void this.notifyParent(live.meta);
          break;
        case 'restart': {
          const msg = this.message(this.executionStarted(live.meta, iso(this.o.clock.now())), live.meta.executionId);
          void this.track(async () => {
            await this.o.store.enqueue(live.meta.instanceId, msg);
            live.inbox.push(msg);
            this.kick(live);
          });
          break;
        }
      }
    }
  }

  private async runOrchestrator(live: Live, name: string, newEvents: HistoryEvent[]): Promise<{ state?: OrchestratorStateJson; error?: string; failureDetails?: unknown }> {
    const fn = this.o.registry.get(name, 'orchestration')!;
    // Fresh objects each episode: the SDK rewrites Timestamp fields into Dates in place.
    const history: HistoryEvent[] = new Array(live.history.length + newEvents.length);
    for (let i = 0; i < live.history.length; i++) history[i] = { ...live.history[i], IsPlayed: true };
    for (let i = 0; i < newEvents.length; i++) history[live.history.length + i] = { ...newEvents[i], IsPlayed: false };
    const payload = {
      history,
      input: live.meta.input === null ? null : JSON.parse(live.meta.input),
      instanceId: live.meta.instanceId,
      isReplaying: false,
      parentInstanceId: live.meta.parent?.instanceId ?? null,
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: timeSpan(this.longTimerIntervalMs),
      maximumShortTimerDuration: timeSpan(this.maximumShortTimerMs),
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    const started = Date.now();
    const reason = `${EVENT_REASON[history[history.length - 1].EventType] ?? 'NewEvent'}`;
    let invocationId = '';
    try {
      const r = await this.o.invoker.invoke(fn, payload, { triggerMetadata: { instanceId: live.meta.instanceId } });
      invocationId = r.invocationId;
      const state = r.result as OrchestratorStateJson;
      this.report(name, reason, invocationId, started, state?.isDone ? 'Completed' : 'Awaiting');
      return { state };
    } catch (err) {
      const text = messageOf(err);
      const at = text.indexOf('$OutOfProcData$:');
      this.report(name, reason, invocationId, started, 'Failed');
      if (at >= 0) {
        try {
          const state = JSON.parse(text.slice(at + '$OutOfProcData$:'.length)) as OrchestratorStateJson;
          return { state, error: state.error ?? text, failureDetails: state.failureDetails };
        } catch {
          /* fall through */
        }
      }
      return { error: text };
    }
  }

  private report(functionName: string, reason: string, invocationId: string, started: number, result: string): void {
    this.o.onInvocation?.({ functionName, reason, invocationId, ms: Date.now() - started, result });
  }

  /**
   * Host-side work triggered by the delivered event before the orchestrator runs: retry timers and
   * attempts, long-timer chunks. Returns false when the event completes nothing that is still pending.
   */
  private followUps(live: Live, st: EngineState, ev: HistoryEvent, now: number, decisions: HistoryEvent[], effects: Effect[]): boolean {
    const ts = iso(now);
    switch (ev.EventType) {
      case EventType.TimerFired: {
        const key = String(ev.TimerId);
        const t = st.timers[key];
        if (!t) return false;
        delete st.timers[key];
        if (t.final !== undefined && Date.parse(t.final) > now) {
          const id = st.nextId++;
          const fireAt = this.chunkEnd(now, Date.parse(t.final));
          st.timers[id] = { fireAt: iso(fireAt), final: t.final, path: t.path };
          if (t.path !== undefined) st.timerPaths[t.path] = id;
          decisions.push(event(EventType.TimerCreated, ts, { FireAt: iso(fireAt) }, id));
          effects.push({ kind: 'timer', id, fireAt });
        } else if (t.retry !== undefined) {
          const r = st.retries[t.retry];
          if (t.dummy || !r) delete st.retries[t.retry];
          else this.nextAttempt(live, st, t.retry, r, now, decisions, effects);
        }
        return true;
      }
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const isActivity = ev.EventType === EventType.TaskCompleted || ev.EventType === EventType.TaskFailed;
        const pending: Record<string, { retry?: string }> = isActivity ? st.activities : st.children;
        const key = String(ev.TaskScheduledId);
        const done = pending[key];
        if (!done) return false;
        delete pending[key];
        if (done.retry !== undefined) this.afterAttempt(st, done.retry, ev, now, decisions, effects);
        return true;
      }
      default:
        return true;
    }
  }

  private chunkEnd(now: number, final: number): number {
    return final - now > this.maximumShortTimerMs ? now + this.longTimerIntervalMs : final;
  }

  /** DTFx RetryInterceptor: after a failed attempt, a delay timer, or a zero-delay timer after the last one. */
  private afterAttempt(st: EngineState, key: string, ev: HistoryEvent, now: number, decisions: HistoryEvent[], effects: Effect[]): void {
    const r = st.retries[key];
    if (!r) return;
    if (ev.EventType !== EventType.TaskFailed && ev.EventType !== EventType.SubOrchestrationInstanceFailed) {
      delete st.retries[key];
      return;
    }
    if (!r.timedOut) r.lastFailure = { reason: String(ev.Reason ?? ''), details: String(ev.Details ?? '') };
    const o = r.options;
    const last = r.attempt >= o.maxNumberOfAttempts;
    if (!last && o.retryTimeoutInMilliseconds !== undefined && now >= r.firstAt + o.retryTimeoutInMilliseconds) r.timedOut = true;
    let delay = 0;
    if (!last && !r.timedOut) {
      delay = o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, r.attempt - 1);
      delay = Math.min(delay, o.maxRetryIntervalInMilliseconds ?? 6 * DAY);
    }
    const id = st.nextId++;
    const fireAt = now + Math.max(0, Math.round(delay));
    st.timers[id] = { fireAt: iso(fireAt), retry: key, dummy: last || undefined };
    decisions.push(event(EventType.TimerCreated, iso(now), { FireAt: iso(fireAt) }, id));
    effects.push({ kind: 'timer', id, fireAt });
  }

  private nextAttempt(live: Live, st: EngineState, key: string, r: RetryState, now: number, decisions: HistoryEvent[], effects: Effect[]): void {
    const id = st.nextId++;
    const ts = iso(now);
    r.attempt++;
    if (r.kind === 'activity') {
      decisions.push(event(EventType.TaskScheduled, ts, { Name: r.name, Version: '', Input: r.input }, id));
      st.activities[id] = { name: r.name, input: r.input, retry: key, skipped: r.timedOut ? r.lastFailure ?? { reason: 'retry timeout expired', details: '' } : undefined };
      effects.push({ kind: 'activity', id });
    } else {
      const childId = r.instanceId ?? `${live.meta.executionId}:${id}`;
      decisions.push(event(EventType.SubOrchestrationInstanceCreated, ts, { Name: r.name, Version: '', InstanceId: childId, Input: r.input }, id));
      st.children[id] = { instanceId: childId, name: r.name, input: r.input, retry: key };
      effects.push({ kind: 'child', id });
    }
  }

  /**
   * Diff the cumulative action list against what was recorded: check determinism, apply timer
   * cancellations, schedule new actions. Returns the continue-as-new input when asked for.
   */
  private applyActions(live: Live, st: EngineState, state: OrchestratorStateJson, now: number, decisions: HistoryEvent[], effects: Effect[]): string | undefined {
    const actions: Action[] = state.actions?.[0] ?? [];
    const recorded = st.actions;
    for (let i = 0; i < Math.min(actions.length, recorded.length); i++) {
      const sig = actionSignature(actions[i]);
      if (sig !== recorded[i]) {
        throw new HostError(
          'FunctionError',
          `Non-Deterministic workflow detected: a previous execution of this orchestration scheduled ${recorded[i]} as action #${i}, but the current replay scheduled ${sig} instead. Was a change made to the orchestrator code after this instance had already started running?`,
        );
      }
    }
    if (actions.length < recorded.length && !state.isDone) {
      throw new HostError(
        'FunctionError',
        `Non-Deterministic workflow detected: a previous execution of this orchestration scheduled ${recorded[actions.length]} as action #${actions.length}, but the current replay has not scheduled it. Was a change made to the orchestrator code after this instance had already started running?`,
      );
    }
    for (let i = 0; i < recorded.length && i < actions.length; i++) this.applyCancellations(st, actions[i], String(i), effects);
    let continueInput: string | undefined;
    for (let i = recorded.length; i < actions.length; i++) {
      const r = this.schedule(live, st, actions[i], String(i), now, decisions, effects);
      if (r !== undefined) continueInput = r;
      recorded.push(actionSignature(actions[i]));
    }
    return continueInput;
  }

  private applyCancellations(st: EngineState, a: Action, path: string, effects: Effect[]): void {
    const t = actionTypeOf(a);
    if (t === ActionType.WhenAll || t === ActionType.WhenAny) {
      (a.compoundActions ?? []).forEach((c, j) => this.applyCancellations(st, c, `${path}.${j}`, effects));
    } else if (t === ActionType.CreateTimer && a.isCanceled) {
      const id = st.timerPaths[path];
      if (id !== undefined && st.timers[id]) {
        delete st.timers[id];
        effects.push({ kind: 'cancelTimer', id });
      }
    }
  }

  private schedule(live: Live, st: EngineState, a: Action, path: string, now: number, decisions: HistoryEvent[], effects: Effect[]): string | undefined {
    const ts = iso(now);
    const t = actionTypeOf(a);
    switch (t) {
      case ActionType.CallActivity:
      case ActionType.CallActivityWithRetry: {
        const id = st.nextId++;
        const name = a.functionName ?? '';
        const input = toJsonText(actionInputValue(a.input));
        decisions.push(event(EventType.TaskScheduled, ts, { Name: name, Version: '', Input: input }, id));
        const retry = t === ActionType.CallActivityWithRetry ? this.newRetry(st, id, 'activity', name, input, a, now) : undefined;
        st.activities[id] = { name, input, retry };
        effects.push({ kind: 'activity', id });
        return undefined;
      }
      case ActionType.CallSubOrchestrator:
      case ActionType.CallSubOrchestratorWithRetry: {
        const id = st.nextId++;
        const name = a.functionName ?? '';
        const input = toJsonText(a.input);
        if (a.instanceId !== undefined && a.instanceId !== null) validateInstanceId(a.instanceId);
        const childId = a.instanceId ?? `${live.meta.executionId}:${id}`;
        decisions.push(event(EventType.SubOrchestrationInstanceCreated, ts, { Name: name, Version: '', InstanceId: childId, Input: input }, id));
        const retry = t === ActionType.CallSubOrchestratorWithRetry ? this.newRetry(st, id, 'sub', name, input, a, now) : undefined;
        st.children[id] = { instanceId: childId, name, input, retry };
        effects.push({ kind: 'child', id });
        return undefined;
      }
      case ActionType.ContinueAsNew:
        return toJsonText(actionInputValue(a.input));
      case ActionType.CreateTimer: {
        const id = st.nextId++;
        const final = a.fireAt instanceof Date ? a.fireAt.getTime() : Date.parse(String(a.fireAt));
        if (!Number.isFinite(final)) throw new HostError('FunctionError', `CreateTimer has an invalid fireAt '${String(a.fireAt)}'.`);
        const long = final - now > this.maximumShortTimerMs;
        const fireAt = long ? now + this.longTimerIntervalMs : final;
        decisions.push(event(EventType.TimerCreated, ts, { FireAt: iso(fireAt) }, id));
        st.timerPaths[path] = id;
        if (!a.isCanceled) {
          st.timers[id] = { fireAt: iso(fireAt), final: long ? iso(final) : undefined, path };
          effects.push({ kind: 'timer', id, fireAt });
        }
        return undefined;
      }
      case ActionType.WaitForExternalEvent:
        return undefined;
      case ActionType.WhenAll:
      case ActionType.WhenAny: {
        let r: string | undefined;
        (a.compoundActions ?? []).forEach((c, j) => {
          r = this.schedule(live, st, c, `${path}.${j}`, now, decisions, effects) ?? r;
        });
        return r;
      }
      default:
        throw new HostError('NotImplemented', `The devhost does not implement ${describeAction(a)} (entities and callHttp are not supported yet); run this app with Azure Functions Core Tools.`);
    }
  }

  private newRetry(st: EngineState, id: number, kind: 'activity' | 'sub', name: string, input: string, a: Action, now: number): string {
    const o = a.retryOptions;
    if (!o || !(o.maxNumberOfAttempts >= 1) || !(o.firstRetryIntervalInMilliseconds > 0)) {
      throw new HostError('FunctionError', `${describeAction(a)} has invalid retry options ${JSON.stringify(o)}: firstRetryIntervalInMilliseconds must be > 0 and maxNumberOfAttempts >= 1.`);
    }
    const key = String(id);
    st.retries[key] = { kind, name, input, options: o, attempt: 1, firstAt: now, instanceId: a.instanceId };
    return key;
  }

  // ---------------------------------------------------------------- internals: effects

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

  private async runActivity(instanceId: string, executionId: string, id: number, a: EngineState['activities'][string] | undefined): Promise<void> {
    if (!a) return;
    await this.track(async () => {
      let ev: HistoryEvent;
      const fn = this.o.registry.get(a.name, 'activity');
      if (a.skipped) {
        // Past the retry timeout DTFx stops retrying and rethrows the last failure; the JS SDK still
        // counts attempts, so the remaining ones "fail" at once with that same failure.
        ev = event(EventType.TaskFailed, iso(this.o.clock.now()), { TaskScheduledId: id, Reason: a.skipped.reason, Details: a.skipped.details, FailureDetails: null });
      } else if (!fn) {
        ev = this.taskFailed(id, a.name, `The function '${a.name}' doesn't exist, is disabled, or is not an activity function.`, undefined);
      } else {
        await this.slot();
        if (this.closed) {
          // Stopping: an activity not yet started stays scheduled in the stored state and runs after a restart.
          this.release();
          return;
        }
        const started = Date.now();
        try {
          const r = await this.o.invoker.invoke(fn, JSON.parse(a.input), { triggerMetadata: { instanceId }, clientBinding: this.o.clientBinding?.() });
          ev = event(EventType.TaskCompleted, iso(this.o.clock.now()), { TaskScheduledId: id, Result: toJsonText(r.result) });
          this.report(fn.name, 'ActivityTrigger', r.invocationId, started, 'Succeeded');
        } catch (err) {
          ev = this.taskFailed(id, fn.name, messageOf(err), err);
          this.report(fn.name, 'ActivityTrigger', '', started, `Failed: ${messageOf(err)}`);
        } finally {
          this.release();
        }
      }
      await this.deliver(instanceId, ev, executionId, true);
    });
  }

  private taskFailed(id: number, name: string, message: string, err: unknown): HistoryEvent {
    let failureDetails: unknown = null;
    try {
      const p = JSON.parse(message) as { errorType?: string; errorMessage?: string; stackTrace?: string; isNonRetriable?: boolean; properties?: unknown };
      if (p && typeof p === 'object' && typeof p.errorType === 'string' && typeof p.errorMessage === 'string') {
        failureDetails = { ErrorType: p.errorType, ErrorMessage: p.errorMessage, StackTrace: p.stackTrace ?? null, IsNonRetriable: !!p.isNonRetriable, Properties: p.properties ?? null, InnerFailure: null };
      }
    } catch {
      /* a plain message */
    }
    const e = err instanceof Error ? err : undefined;
    return event(EventType.TaskFailed, iso(this.o.clock.now()), {
      TaskScheduledId: id,
      Reason: `Activity function '${name}' failed: ${message}`,
      Details: JSON.stringify({ name: e?.name ?? 'Error', message, stack: e?.stack ?? null }),
      FailureDetails: failureDetails,
    });
  }

  private slot(): Promise<void> {
    if (this.activitySlots > 0) {
      this.activitySlots--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.activityQueue.push(resolve));
  }

  private release(): void {
    const next = this.activityQueue.shift();
    if (next) next();
    else this.activitySlots++;
  }

  private startChild(live: Live, id: number): Promise<void> {
    const c = live.state.children[id];
    if (!c) return Promise.resolve();
    const parent = { instanceId: live.meta.instanceId, executionId: live.meta.executionId, taskId: id };
    return this.track(async () => {
      if (this.closed) return; // stopping: recovery starts (or re-checks) the child after a restart
      const existing = await this.getMeta(c.instanceId);
      if (existing?.parent && existing.parent.instanceId === parent.instanceId && existing.parent.taskId === id && existing.parent.executionId === parent.executionId) {
        if (isTerminal(existing.status)) await this.notifyParent(existing); // recovery: it finished while we were down
        return;
      }
      try {
        await this.start(c.name, c.instanceId, c.input, parent);
      } catch (err) {
        await this.deliver(parent.instanceId, event(EventType.SubOrchestrationInstanceFailed, iso(this.o.clock.now()), {
          TaskScheduledId: id,
          Reason: messageOf(err),
          Details: JSON.stringify({ message: messageOf(err) }),
          FailureDetails: null,
        }), parent.executionId, true);
      }
    });
  }

  private notifyParent(meta: InstanceMeta): Promise<void> {
    const p = meta.parent;
    if (!p) return Promise.resolve();
    const ts = iso(this.o.clock.now());
    const ev =
      meta.status === 'Completed'
        ? event(EventType.SubOrchestrationInstanceCompleted, ts, { TaskScheduledId: p.taskId, Result: meta.output ?? 'null' })
        : event(EventType.SubOrchestrationInstanceFailed, ts, {
            TaskScheduledId: p.taskId,
            Reason: meta.status === 'Failed' ? String(JSON.parse(meta.output ?? '""')) : `Orchestrator function '${meta.name}' was ${meta.status.toLowerCase()}: ${meta.output ?? ''}`,
            Details: JSON.stringify({ instanceId: meta.instanceId, status: meta.status }),
            FailureDetails: null,
          });
    return this.deliver(p.instanceId, ev, p.executionId, true);
  }

  /** After a restart: re-arm timers, re-run activities whose result is not in, re-check children. */
  private async resumeWork(live: Live): Promise<void> {
    const inboxHas = (type: number, key: string, value: number) => live.inbox.some((m) => m.event.EventType === type && m.event[key] === value);
    const st = live.state;
    for (const [id, t] of Object.entries(st.timers)) {
      if (!inboxHas(EventType.TimerFired, 'TimerId', Number(id))) this.armTimer(live, Number(id), Date.parse(t.fireAt));
    }
    for (const [id, a] of Object.entries(st.activities)) {
      const n = Number(id);
      if (!inboxHas(EventType.TaskCompleted, 'TaskScheduledId', n) && !inboxHas(EventType.TaskFailed, 'TaskScheduledId', n)) {
        void this.runActivity(live.meta.instanceId, live.meta.executionId, n, a);
      }
    }
    for (const id of Object.keys(st.children)) {
      const n = Number(id);
      if (!inboxHas(EventType.SubOrchestrationInstanceCompleted, 'TaskScheduledId', n) && !inboxHas(EventType.SubOrchestrationInstanceFailed, 'TaskScheduledId', n)) {
        void this.startChild(live, n);
      }
    }
    if (!isTerminal(live.meta.status) && live.history.length === 0 && !live.inbox.some((m) => m.event.EventType === EventType.ExecutionStarted)) {
      this.runEffects(live, [{ kind: 'restart' }]); // crashed between continue-as-new and its first message
    }
  }
}

const EVENT_REASON: Record<number, string> = {
  [EventType.ExecutionStarted]: 'ExecutionStarted',
  [EventType.TaskCompleted]: 'TaskCompleted',
  [EventType.TaskFailed]: 'TaskFailed',
  [EventType.TimerFired]: 'TimerFired',
  [EventType.EventRaised]: 'EventRaised',
  [EventType.SubOrchestrationInstanceCompleted]: 'SubOrchestrationCompleted',
  [EventType.SubOrchestrationInstanceFailed]: 'SubOrchestrationFailed',
};

// Rewind of a failed instance as the extension's Azure Storage provider does it (DTFx AzureTableTrackingStore
// .RewindHistoryAsync): in the current execution every TaskFailed and its TaskScheduled, every
// SubOrchestrationInstanceFailed and the failed ExecutionCompleted become GenericEvent, failed sub-orchestrations are
// rewound with their parent, and the instance is Pending until it runs again. The SDK ignores GenericEvent, so on
// replay it waits for the failed calls again, under their old ids: only what failed runs again.
import { HostError } from '../errors';
import { HistoryEvent, InstanceMeta } from '../store/types';
import { event, EVENT_TYPE_NAMES, EventType, iso, OrchestrationStatusCode } from './history';
import { ChildState, Effect, EngineState, Live } from './state';

/** What a rewind needs of the engine. */
export interface RewindHost {
  now(): number;
  getMeta(instanceId: string): Promise<InstanceMeta | undefined>;
  /** The loaded instance with its episodes held off until release(), or undefined when it does not exist. */
  hold(instanceId: string): Promise<Live | undefined>;
  release(live: Live): void;
  /** Stores the rewound instance (history replaced, one atomic write) without running its effects. */
  commit(live: Live, plan: RewindPlan): Promise<void>;
  runEffects(live: Live, effects: Effect[]): void;
}

/** What the rewind of one instance writes. */
export interface RewindPlan {
  live: Live;
  meta: InstanceMeta;
  /** The whole new history of the current execution. */
  history: HistoryEvent[];
  st: EngineState;
  effects: Effect[];
  /** A message that runs the orchestrator again, when nothing else is pending (its own code failed). */
  trigger?: HistoryEvent;
  /** Failed sub-orchestrations rewound with it. */
  children: RewindPlan[];
}

/**
 * Rewinds a Failed instance and, through it, its failed sub-orchestrations. Everything is planned (and refused)
 * before anything is written; children are stored before their parent, and nothing runs until all are stored, so
 * a child that finishes at once always finds its parent waiting for it.
 * @example await rewind(host, 'order-42', 'fixed the payment service');
 */
export async function rewind(host: RewindHost, instanceId: string, reason: string): Promise<void> {
  const held: Live[] = [];
  const done: RewindPlan[] = [];
  try {
    const live = await host.hold(instanceId);
    if (!live) throw new HostError('NotFound', `No instance with ID '${instanceId}' found.`);
    held.push(live);
    const s = live.meta.status;
    if (s === 'Completed' || s === 'Terminated' || s === 'Canceled') {
      throw new HostError('Gone', `Instance '${instanceId}' is ${s}; only a Failed instance can be rewound.`);
    }
    if (s !== 'Failed') {
      throw new HostError('Conflict', `Instance '${instanceId}' is ${s}; only a Failed instance can be rewound. Wait for it to fail, or terminate it and start it again.`);
    }
    const plan = await planRewind(host, live, reason, held);
    for (const p of bottomUp(plan)) {
      await host.commit(p.live, p);
      done.push(p);
    }
  } finally {
    for (const p of done) host.runEffects(p.live, p.effects);
    for (const l of held) host.release(l);
  }
}

/**
 * Keeps the work still pending when an execution ends, for a rewind (called where the engine clears it).
 * @example parkForRewind(st); st.timers = {}; st.activities = {};
 */
export function parkForRewind(st: EngineState): void {
  const { timers, activities, children, retries } = st;
  const pending = Object.keys(timers).length + Object.keys(activities).length + Object.keys(children).length + Object.keys(retries).length;
  if (pending > 0) st.parked = { timers, activities, children, retries };
  else delete st.parked;
}

function bottomUp(p: RewindPlan): RewindPlan[] {
  return [...p.children.flatMap(bottomUp), p];
}

/** A rewritten event: GenericEvent with the old event's id and time (DTFx keeps the row and changes its type). */
function generic(ev: HistoryEvent): HistoryEvent {
  return { EventType: EventType.GenericEvent, EventId: ev.EventId, IsPlayed: false, Timestamp: ev.Timestamp, Data: null, Reason: `Rewound: ${EVENT_TYPE_NAMES[ev.EventType]}` };
}

async function planRewind(host: RewindHost, live: Live, reason: string, held: Live[]): Promise<RewindPlan> {
  const now = host.now();
  const ts = iso(now);
  const { meta } = live;
  const parked = live.state.parked;
  const st: EngineState = structuredClone({ ...live.state, timers: parked?.timers ?? {}, activities: parked?.activities ?? {}, children: parked?.children ?? {}, retries: parked?.retries ?? {} });
  delete st.parked;

  // Attempts of a retried call failed without the orchestrator seeing it; they stay. A retry that failed as a whole
  // runs its last attempt once more: that attempt and the zero-delay timer after it are rewound, and the timer's id,
  // which the SDK allocates only when the attempt fails, is free again, so it must be the last id allocated.
  const attempts = new Set<number>();
  const lastAttempts = new Map<number, string>();
  const erased = new Set<number>();
  const ended = Object.entries(st.retries).filter(([, r]) => r.ended !== undefined).sort(([, a], [, b]) => b.ended! - a.ended!);
  for (const [key, r] of Object.entries(st.retries)) for (const id of r.attempts ?? [Number(key)]) attempts.add(id);
  for (const [key, r] of ended) {
    if (r.ended !== st.nextId - 1) {
      throw new HostError(
        'Conflict',
        `Instance '${meta.instanceId}' cannot be rewound: its retried call '${r.name}' failed before other work was scheduled, and rewinding it would give that work other ids than the SDK replays with. Start a new instance instead.`,
      );
    }
    st.nextId = r.ended;
    erased.add(r.ended);
    lastAttempts.set((r.attempts ?? [Number(key)]).at(-1)!, key);
    delete r.ended;
    r.attempt = Math.max(r.attempt, r.options.maxNumberOfAttempts);
  }

  const rerunTasks = new Set<number>();
  const rerunChildren = new Set<number>();
  const rewound = (id: number) => !attempts.has(id) || lastAttempts.has(id);
  for (const ev of live.history) {
    const id = Number(ev.TaskScheduledId);
    if (ev.EventType === EventType.TaskFailed && rewound(id)) rerunTasks.add(id);
    if (ev.EventType === EventType.SubOrchestrationInstanceFailed && rewound(id)) rerunChildren.add(id);
  }
  const history: HistoryEvent[] = [];
  const scheduled = new Map<number, HistoryEvent>();
  for (const ev of live.history) {
    const t = ev.EventType;
    const id = Number(ev.TaskScheduledId);
    if (t === EventType.TaskScheduled || t === EventType.SubOrchestrationInstanceCreated) scheduled.set(ev.EventId, ev);
    const rewrite =
      (t === EventType.TaskFailed && rerunTasks.has(id)) ||
      (t === EventType.TaskScheduled && rerunTasks.has(ev.EventId)) ||
      (t === EventType.SubOrchestrationInstanceFailed && rerunChildren.has(id)) ||
      (t === EventType.ExecutionCompleted && ev.OrchestrationStatus === OrchestrationStatusCode.Failed) ||
      (t === EventType.TimerCreated && erased.has(ev.EventId)) ||
      (t === EventType.TimerFired && erased.has(Number(ev.TimerId)));
    history.push(rewrite ? generic(ev) : ev);
  }

  // The failed activities are scheduled again at once (DTFx does it in the episode its rewind message starts).
  const effects: Effect[] = [];
  const decisions: HistoryEvent[] = [];
  for (const id of rerunTasks) {
    const from = scheduled.get(id);
    if (!from) continue;
    const name = String(from.Name);
    const input = String(from.Input ?? 'null');
    decisions.push(event(EventType.TaskScheduled, ts, { Name: name, Version: '', Input: input }, id));
    st.activities[id] = { name, input, retry: lastAttempts.get(id) };
  }
  for (const id of Object.keys(st.activities)) effects.push({ kind: 'activity', id: Number(id) });
  for (const [id, t] of Object.entries(st.timers)) effects.push({ kind: 'timer', id: Number(id), fireAt: Date.parse(t.fireAt) });
  for (const id of Object.keys(st.children)) effects.push({ kind: 'child', id: Number(id) });

  // A failed child is rewound with its parent when it failed on its own; one that could not start, was terminated
  // or is gone is started (or asked for its outcome) again, as after a restart.
  const children: RewindPlan[] = [];
  for (const id of rerunChildren) {
    const from = scheduled.get(id);
    if (!from) continue;
    const child: ChildState = { instanceId: String(from.InstanceId), name: String(from.Name), input: String(from.Input ?? 'null'), version: String(from.Version ?? ''), retry: lastAttempts.get(id) };
    st.children[id] = child;
    const cm = await host.getMeta(child.instanceId);
    const mine = cm?.parent?.instanceId === meta.instanceId && cm.parent.executionId === meta.executionId && cm.parent.taskId === id && !held.some((l) => l.meta.instanceId === child.instanceId);
    const cl = mine && cm.status === 'Failed' ? await host.hold(child.instanceId) : undefined;
    if (cl) held.push(cl);
    if (cl && cl.meta.status === 'Failed') children.push(await planRewind(host, cl, reason, held));
    else effects.push({ kind: 'child', id });
  }

  if (decisions.length > 0) {
    history.push(event(EventType.OrchestratorStarted, ts), event(EventType.GenericEvent, ts, { Data: reason }), ...decisions, event(EventType.OrchestratorCompleted, ts));
  }
  const pending = Object.keys(st.activities).length + Object.keys(st.children).length + Object.keys(st.timers).length;
  const next: InstanceMeta = { ...meta, status: 'Pending', lastUpdatedTime: ts };
  delete next.failureDetails;
  return { live, meta: next, history, st, effects, children, trigger: pending === 0 ? event(EventType.GenericEvent, ts, { Data: reason }) : undefined };
}

// What the engine keeps per instance while it runs: its loaded meta, history and inbox, the bookkeeping persisted
// with the meta (pending timers, activities, children, retries), and the effects an episode leaves to run.
import { TimerHandle } from '../clock';
import { HistoryEvent, InboxMessage, InstanceMeta, RuntimeStatus, StoredInstance, TERMINAL_STATUSES } from '../store/types';
import { RetryOptionsJson } from './actions';

export const DAY = 86_400_000;

/** Host bookkeeping per execution, persisted with the instance meta. */
export interface EngineState {
  nextId: number;
  /** Action path ("3" or "3.1") of each pending CreateTimer -> current timer id (to apply isCanceled). */
  timerPaths: Record<string, number>;
  timers: Record<string, TimerState>;
  activities: Record<string, ActivityState>;
  children: Record<string, ChildState>;
  retries: Record<string, RetryState>;
  /** Messages to other instances not yet known to be delivered (see sends.ts). */
  outbox: Outgoing[];
  /** The critical section this orchestration holds: its lock request id and the entities locked. */
  locks?: { id: string; entities: string[] };
  /** Entities: keys ("op:<request id>") of the latest messages processed, to skip one delivered twice. */
  done?: string[];
  /** The work still pending when the execution ended, which a rewind resumes (rewind.ts). */
  parked?: Pick<EngineState, 'timers' | 'activities' | 'children' | 'retries'>;
}

/** An EventRaised message to another instance, delivered with a fixed message id. */
export interface Outgoing {
  to: string;
  /** Replies to an orchestration name the execution that asked (a newer one drops them). */
  executionId?: string;
  msgId: string;
  event: HistoryEvent;
}

export interface TimerState {
  fireAt: string;
  /** Long timers: when the whole timer ends (this one is a chunk of it). */
  final?: string;
  path?: string;
  /** The retry this timer waits for (key into `retries`). */
  retry?: string;
  /** The zero-delay timer after a retry's last attempt. */
  dummy?: boolean;
  /** callHttp: the wait after a 202; the poll it is followed by (http-call.ts). */
  httpPoll?: HttpPoll;
}

/** The GET to a 202's Location, with the id the SDK reserved for it; `failure` fails it without a request. */
export interface HttpPoll {
  id: number;
  input: string;
  failure?: { reason: string; details: string };
}

export interface ActivityState {
  name: string;
  input: string;
  retry?: string;
  /** Attempts past the retry timeout fail at once with this failure. */
  skipped?: { reason: string; details: string };
}

export interface ChildState {
  instanceId: string;
  name: string;
  input: string;
  version: string;
  retry?: string;
}

export interface RetryState {
  kind: 'activity' | 'sub';
  name: string;
  input: string;
  options: RetryOptionsJson;
  /** Sub-orchestrations: the version every attempt starts with. */
  version?: string;
  attempt: number;
  firstAt: number;
  instanceId?: string;
  timedOut?: boolean;
  /** The last attempt's failure, repeated for attempts skipped after the retry timeout. */
  lastFailure?: { reason: string; details: string };
  /** Ids of the attempts, first to last (a rewind tells the attempts apart from failures the orchestrator saw). */
  attempts?: number[];
  /** The id of the zero-delay timer after the last attempt, once it fired: the retry failed (kept for a rewind). */
  ended?: number;
}

/** An instance loaded in memory. */
export interface Live {
  meta: InstanceMeta;
  history: HistoryEvent[];
  inbox: InboxMessage[];
  state: EngineState;
  /** Signatures of the top-level actions this execution recorded (determinism check); stored beside the history. */
  actions: string[];
  running: boolean;
  timers: Map<string, TimerHandle>;
  /** Consecutive failed attempts to process the first message (store outage): drives the retry back-off. */
  failures?: number;
  /** Versioning Reject: episodes this worker refused in a row, and until when it waits before the next try. */
  rejections?: number;
  rejectedUntil?: number;
  /** Ids of outbox messages delivered since the last commit (the next commit stops storing them). */
  delivered?: Set<string>;
  /** The delivery of outbox messages under way (the next ones wait for it, to keep the sender's order). */
  sending?: Promise<void>;
}

/** Work an episode leaves to be done once its commit is stored. */
export type Effect =
  | { kind: 'timer'; id: number; fireAt: number }
  | { kind: 'cancelTimer'; id: number }
  | { kind: 'activity'; id: number }
  | { kind: 'child'; id: number }
  | { kind: 'notifyParent' }
  | { kind: 'send'; msgId: string };

/**
 * What one episode is deciding: the state it will commit, the history events it adds and the effects to run
 * after the commit. The helpers that plan timers, retries and actions all write into one Plan.
 */
export interface Plan {
  live: Live;
  st: EngineState;
  now: number;
  decisions: HistoryEvent[];
  effects: Effect[];
  /** Signatures of the actions this episode records (after live.actions). */
  actions: string[];
}

/** The state of a new execution. */
export function emptyState(): EngineState {
  return { nextId: 0, timerPaths: {}, timers: {}, activities: {}, children: {}, retries: {}, outbox: [] };
}

/**
 * A copy an episode may change without touching the committed state: the records are copied one level deep (their
 * entries are replaced, never changed), except retries, whose entries the retry planner updates in place.
 * Much cheaper than structuredClone on the per-episode path.
 */
export function cloneState(st: EngineState): EngineState {
  const retries: Record<string, RetryState> = {};
  for (const k in st.retries) {
    const r = st.retries[k];
    retries[k] = { ...r, lastFailure: r.lastFailure && { ...r.lastFailure } };
  }
  return {
    ...st,
    timerPaths: { ...st.timerPaths },
    timers: { ...st.timers },
    activities: { ...st.activities },
    children: { ...st.children },
    retries,
    outbox: [...st.outbox],
    locks: st.locks && { id: st.locks.id, entities: [...st.locks.entities] },
    done: st.done && [...st.done],
  };
}

/** A Live for an instance read from the store. */
export function liveFromStore(stored: StoredInstance): Live {
  const { actions: _old, ...state } = { ...emptyState(), ...(stored.meta.engine as Partial<EngineState> & { actions?: string[] }) };
  for (const e of stored.history) e.IsPlayed = true;
  return { meta: stored.meta, history: stored.history, inbox: stored.inbox, state, actions: stored.actions, running: false, timers: new Map() };
}

/**
 * Until when an instance in this state needs nothing from the host unless a message reaches it: its earliest timer,
 * Infinity when it waits only for events; undefined when it has work under way (an activity or sub-orchestration
 * to run or to hear from, messages to send). What the store keeps as Commit.idleUntil. Messages waiting in its inbox
 * are the store's to see.
 * @example idleUntil({ ...emptyState(), timers: { 3: { fireAt: '2030-01-01T00:00:00.000Z' } } }) // Date.parse('2030-01-01T00:00:00.000Z')
 */
export function idleUntil(st: EngineState): number | undefined {
  for (const _ in st.activities) return undefined;
  for (const _ in st.children) return undefined;
  if (st.outbox.length > 0) return undefined;
  let until = Infinity;
  for (const t of Object.values(st.timers)) {
    const at = Date.parse(t.fireAt);
    if (Number.isNaN(at)) return undefined;
    until = Math.min(until, at);
  }
  return until;
}

export function isTerminal(s: RuntimeStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

// One orchestration episode, the SDK's side of the replay protocol: the trigger payload (history in), the
// orchestrator's answer (cumulative actions out), the determinism check against what earlier episodes recorded,
// and the plan of what the new actions ask for. The engine commits the plan; nothing here does I/O but the call.
import { randomUUID } from 'node:crypto';
import { Invoker } from '../invoke';
import { HostError, messageOf } from '../errors';
import { RegisteredFunction } from '../registry';
import { HistoryEvent } from '../store/types';
import { Action, ActionType, actionInputValue, actionSignature, actionTypeOf, describeAction, toJsonText } from './actions';
import { event, EventType, iso } from './history';
import { afterAttempt, newRetry, nextAttempt } from './retry';
import { ActivityState, EngineState, Live, Plan } from './state';
import { cancelTimerAt, planNextChunk, planTimer, PlanOptions, timeSpan } from './timers';
import { validateInstanceId } from './ids';
import { entityInstanceId, parseEntityId } from './entity-ids';
import { queueSend } from './sends';
import { afterHttpResponse, pollAgain, scheduleHttp } from './http-call';
import { HTTP_ACTIVITY } from './http-activity';

/** The orchestrator's answer (durable-functions' OrchestratorState). */
export interface OrchestratorStateJson {
  isDone?: boolean;
  actions?: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  failureDetails?: unknown;
}

export interface EpisodeOutcome {
  state?: OrchestratorStateJson;
  /** Set when the orchestrator threw (or could not run). */
  error?: string;
  failureDetails?: unknown;
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

/**
 * Runs the orchestrator once over the stored history plus `newEvents` and returns its answer. A thrown
 * orchestrator reports its state after `$OutOfProcData$:` (actions scheduled before the throw, failure details).
 */
export async function runOrchestrator(
  invoker: Invoker,
  fn: RegisteredFunction,
  live: Live,
  newEvents: HistoryEvent[],
  limits: PlanOptions,
  report: (reason: string, invocationId: string, started: number, result: string) => void,
): Promise<EpisodeOutcome> {
  // The stored events are handed over as they are (marked IsPlayed when they were committed): the SDK turns their
  // Timestamp strings into Dates in place, once, and later episodes find Dates. New events are copies, so what
  // the commit stores keeps its strings.
  const history: HistoryEvent[] = live.history.slice();
  for (const e of newEvents) history.push({ ...e, IsPlayed: false });
  const payload = {
    history,
    input: live.meta.input === null ? null : JSON.parse(live.meta.input),
    instanceId: live.meta.instanceId,
    isReplaying: false,
    parentInstanceId: live.meta.parent?.instanceId ?? null,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: limits.upperSchemaVersionNew ?? 3,
    longRunningTimerIntervalDuration: timeSpan(limits.longTimerIntervalMs),
    maximumShortTimerDuration: timeSpan(limits.maximumShortTimerMs),
    defaultHttpAsyncRequestSleepTimeMillseconds: limits.httpAsyncSleepMs ?? 30000,
  };
  const reason = EVENT_REASON[history[history.length - 1].EventType] ?? 'NewEvent';
  const started = Date.now();
  let invocationId = '';
  try {
    const r = await invoker.invoke(fn, payload, { triggerMetadata: { instanceId: live.meta.instanceId } });
    invocationId = r.invocationId;
    const state = r.result as OrchestratorStateJson;
    report(reason, invocationId, started, state?.isDone ? 'Completed' : 'Awaiting');
    return { state };
  } catch (err) {
    const text = messageOf(err);
    const at = text.indexOf('$OutOfProcData$:');
    report(reason, invocationId, started, 'Failed');
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

/**
 * Host-side work a delivered event triggers before the orchestrator runs: retry timers and attempts, long-timer
 * chunks. Returns false when the event completes nothing that is still pending (it is then dropped).
 */
export function followUp(plan: Plan, ev: HistoryEvent, limits: PlanOptions): boolean {
  const { st } = plan;
  switch (ev.EventType) {
    case EventType.TimerFired: {
      const key = String(ev.TimerId);
      const t = st.timers[key];
      if (!t) return false;
      delete st.timers[key];
      if (t.path !== undefined && st.timerPaths[t.path] === Number(key)) delete st.timerPaths[t.path];
      if (t.final !== undefined && Date.parse(t.final) > plan.now) {
        planNextChunk(plan, t.final, t.path, limits);
      } else if (t.retry !== undefined) {
        const r = st.retries[t.retry];
        if (r && t.dummy) r.ended = Number(key); // the retry failed; kept so that a rewind can run its last attempt again
        else if (r) nextAttempt(plan, t.retry, r);
      } else if (t.httpPoll !== undefined) {
        pollAgain(plan, t.httpPoll);
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
      if (done.retry !== undefined) afterAttempt(plan, done.retry, ev);
      if (isActivity) afterHttpResponse(plan, done as ActivityState, ev, limits);
      return true;
    }
    default:
      return true;
  }
}

/**
 * True when followUp(ev) would take task ids (a retry's next attempt or its delay timer, the next chunk of a long
 * timer, the timer and request of a callHttp poll). The SDK takes those ids while it replays that event, after
 * whatever ids the events before it in the same episode made the orchestrator code take; so such an event may only
 * open an episode, never follow another event in it (see Engine.process).
 */
export function allocatesIds(st: EngineState, ev: HistoryEvent, now: number): boolean {
  switch (ev.EventType) {
    case EventType.TimerFired: {
      const t = st.timers[String(ev.TimerId)];
      if (!t) return false;
      if (t.final !== undefined && Date.parse(t.final) > now) return true;
      return t.retry !== undefined && !t.dummy && st.retries[t.retry] !== undefined;
    }
    case EventType.TaskFailed:
      return st.activities[String(ev.TaskScheduledId)]?.retry !== undefined;
    case EventType.SubOrchestrationInstanceFailed:
      return st.children[String(ev.TaskScheduledId)]?.retry !== undefined;
    case EventType.TaskCompleted:
      return st.activities[String(ev.TaskScheduledId)]?.name === HTTP_ACTIVITY;
    default:
      return false;
  }
}

/**
 * Diff the cumulative action list against what was recorded: check determinism, apply timer cancellations,
 * plan new actions. Returns the continue-as-new input when asked for.
 */
export function applyActions(plan: Plan, state: OrchestratorStateJson, limits: PlanOptions): string | undefined {
  const actions: Action[] = state.actions?.[0] ?? [];
  const recorded = plan.live.actions;
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
  for (let i = 0; i < recorded.length && i < actions.length; i++) applyCancellations(plan, actions[i], String(i));
  let continueInput: string | undefined;
  for (let i = recorded.length; i < actions.length; i++) {
    const r = schedule(plan, actions[i], String(i), limits);
    if (r !== undefined) continueInput = r;
    plan.actions.push(actionSignature(actions[i]));
  }
  return continueInput;
}

/**
 * Sends 'release' to every entity of the plan's critical section: one id and one EventSent each when the
 * orchestrator released it (the SDK counts them), none when the execution ends holding it (implicit release).
 */
export function releaseLocks(plan: Plan, recorded: boolean): void {
  const { st, live } = plan;
  if (!st.locks) return;
  for (const target of st.locks.entities) {
    const message = { parent: live.meta.instanceId, id: st.locks.id };
    if (recorded) plan.decisions.push(event(EventType.EventSent, iso(plan.now), { InstanceId: target, Name: 'release', Input: JSON.stringify(message) }, st.nextId++));
    queueSend(plan, target, 'release', message);
  }
  st.locks = undefined;
}

/** The entity a CallEntity/SignalEntity action targets; an unknown entity function fails the orchestration. */
function entityTarget(a: Action, limits: PlanOptions): string {
  const ref = typeof a.instanceId === 'string' ? parseEntityId(a.instanceId) : undefined;
  if (!ref) throw new HostError('FunctionError', `${describeAction(a)} has no entity id of the form '@name@key'.`);
  if (limits.entityExists && !limits.entityExists(ref.name)) {
    throw new HostError('FunctionError', `The function '${ref.name}' doesn't exist, is disabled, or is not an entity function.`);
  }
  return entityInstanceId(ref.name, ref.key);
}

function applyCancellations(plan: Plan, a: Action, path: string): void {
  const t = actionTypeOf(a);
  if (t === ActionType.WhenAll || t === ActionType.WhenAny) {
    (a.compoundActions ?? []).forEach((c, j) => applyCancellations(plan, c, `${path}.${j}`));
  } else if (t === ActionType.CreateTimer && a.isCanceled) {
    cancelTimerAt(plan, path);
  }
}

/** Plans one new action (recursing into WhenAll/WhenAny); returns the continue-as-new input for ContinueAsNew. */
function schedule(plan: Plan, a: Action, path: string, limits: PlanOptions): string | undefined {
  const { st, live } = plan;
  const ts = iso(plan.now);
  const t = actionTypeOf(a);
  switch (t) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry: {
      const id = st.nextId++;
      const name = a.functionName ?? '';
      const input = toJsonText(actionInputValue(a.input));
      plan.decisions.push(event(EventType.TaskScheduled, ts, { Name: name, Version: '', Input: input }, id));
      const retry = t === ActionType.CallActivityWithRetry ? newRetry(plan, id, 'activity', name, input, a) : undefined;
      st.activities[id] = { name, input, retry };
      plan.effects.push({ kind: 'activity', id });
      return undefined;
    }
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      const id = st.nextId++;
      const name = a.functionName ?? '';
      const input = toJsonText(a.input);
      if (a.instanceId !== undefined && a.instanceId !== null) validateInstanceId(a.instanceId);
      const childId = a.instanceId ?? `${live.meta.executionId}:${id}`;
      // The action's version (callSubOrchestrator's 4th argument), else host.json defaultVersion (extension PR #3213).
      const version = typeof a.version === 'string' && a.version !== '' ? a.version : (limits.defaultVersion ?? '');
      plan.decisions.push(event(EventType.SubOrchestrationInstanceCreated, ts, { Name: name, Version: version, InstanceId: childId, Input: input }, id));
      const retry = t === ActionType.CallSubOrchestratorWithRetry ? newRetry(plan, id, 'sub', name, input, a, version) : undefined;
      st.children[id] = { instanceId: childId, name, input, version, retry };
      plan.effects.push({ kind: 'child', id });
      return undefined;
    }
    case ActionType.ContinueAsNew:
      return toJsonText(actionInputValue(a.input));
    case ActionType.CreateTimer:
      planTimer(plan, a, path, limits);
      return undefined;
    case ActionType.WaitForExternalEvent:
      return undefined;
    case ActionType.CallEntity:
    case ActionType.SignalEntity: {
      const id = st.nextId++;
      const target = entityTarget(a, limits);
      const input = a.input === undefined || a.input === null ? undefined : JSON.stringify(a.input);
      const request = { op: a.operation ?? '', ...(t === ActionType.SignalEntity ? { signal: true } : {}), ...(input !== undefined ? { input } : {}), id: randomUUID(), parent: live.meta.instanceId, parentExecution: live.meta.executionId };
      plan.decisions.push(event(EventType.EventSent, ts, { InstanceId: target, Name: 'op', Input: JSON.stringify(request) }, id));
      queueSend(plan, target, 'op', request);
      return undefined;
    }
    case ActionType.LockEntities: {
      // One request travels the sorted lock set entity by entity; the last one answers (EXT DurableOrchestrationContext.LockAsync).
      const id = st.nextId++;
      const set = (a.lockSet ?? []).map((e) => ({ name: String(e.name).toLowerCase(), key: String(e.key) }));
      if (set.length === 0 || typeof a.lockRequestId !== 'string') throw new HostError('FunctionError', `${describeAction(a)} names no entity or has no lockRequestId.`);
      const targets = set.map((e) => entityInstanceId(e.name, e.key));
      const request = { id: a.lockRequestId, parent: live.meta.instanceId, parentExecution: live.meta.executionId, lockset: set };
      plan.decisions.push(event(EventType.EventSent, ts, { InstanceId: targets[0], Name: 'op', Input: JSON.stringify(request) }, id));
      queueSend(plan, targets[0], 'op', request);
      st.locks = { id: a.lockRequestId, entities: targets };
      return undefined;
    }
    case ActionType.ReleaseEntities:
      releaseLocks(plan, true);
      return undefined;
    case ActionType.CallHttp:
      scheduleHttp(plan, a);
      return undefined;
    case ActionType.WhenAll:
    case ActionType.WhenAny: {
      let r: string | undefined;
      (a.compoundActions ?? []).forEach((c, j) => {
        r = schedule(plan, c, `${path}.${j}`, limits) ?? r;
      });
      return r;
    }
    default:
      throw new HostError('NotImplemented', `The devhost does not implement ${describeAction(a)} (entities are not supported yet); run this app with Azure Functions Core Tools.`);
  }
}

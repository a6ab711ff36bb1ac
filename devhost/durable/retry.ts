// callActivityWithRetry / callSubOrchestratorWithRetry as DTFx's RetryInterceptor runs them: one action, several
// attempts (each with its own id), a delay timer between attempts and a zero-delay timer after the last one.
import { Action, describeAction } from './actions';
import { event, EventType, iso } from './history';
import { HostError } from '../errors';
import { HistoryEvent } from '../store/types';
import { DAY, Plan, RetryState } from './state';

/** Checks the action's retry options and records the retry; returns its key (the first attempt's id). */
export function newRetry(plan: Plan, id: number, kind: RetryState['kind'], name: string, input: string, a: Action, version?: string): string {
  const o = a.retryOptions;
  if (!o || !(o.maxNumberOfAttempts >= 1) || !(o.firstRetryIntervalInMilliseconds > 0)) {
    throw new HostError('FunctionError', `${describeAction(a)} has invalid retry options ${JSON.stringify(o)}: firstRetryIntervalInMilliseconds must be > 0 and maxNumberOfAttempts >= 1.`);
  }
  const key = String(id);
  plan.st.retries[key] = { kind, name, input, options: o, version, attempt: 1, firstAt: plan.now, instanceId: a.instanceId, attempts: [id] };
  return key;
}

/** After an attempt: success ends the retry; a failure plans the delay timer (or the zero-delay one after the last attempt). */
export function afterAttempt(plan: Plan, key: string, ev: HistoryEvent): void {
  const { st, now } = plan;
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
  plan.decisions.push(event(EventType.TimerCreated, iso(now), { FireAt: iso(fireAt) }, id));
  plan.effects.push({ kind: 'timer', id, fireAt });
}

/** The retry's delay timer fired: schedule the next attempt (past the retry timeout it fails at once with the last failure). */
export function nextAttempt(plan: Plan, key: string, r: RetryState): void {
  const { st, live } = plan;
  const id = st.nextId++;
  const ts = iso(plan.now);
  r.attempt++;
  r.attempts = [...(r.attempts ?? [Number(key)]), id];
  if (r.kind === 'activity') {
    plan.decisions.push(event(EventType.TaskScheduled, ts, { Name: r.name, Version: '', Input: r.input }, id));
    st.activities[id] = { name: r.name, input: r.input, retry: key, skipped: r.timedOut ? (r.lastFailure ?? { reason: 'retry timeout expired', details: '' }) : undefined };
    plan.effects.push({ kind: 'activity', id });
  } else {
    const childId = r.instanceId ?? `${live.meta.executionId}:${id}`;
    const version = r.version ?? '';
    plan.decisions.push(event(EventType.SubOrchestrationInstanceCreated, ts, { Name: r.name, Version: version, InstanceId: childId, Input: r.input }, id));
    st.children[id] = { instanceId: childId, name: r.name, input: r.input, version, retry: key };
    plan.effects.push({ kind: 'child', id });
  }
}

// context.df.callHttp as the extension runs it (DurableOrchestrationContext.CallHttpAsync): the CallHttp action is
// the built-in activity BuiltIn::HttpActivity, and while a response is 202 with a Location header (and polling is on)
// a timer waits Retry-After seconds (or httpSettings.defaultAsyncRequestSleepTimeMilliseconds), then a GET to
// Location follows. The SDK (replay schema V3, CallHttpWithPollingTask) allocates the timer's id and the poll's id
// together when the 202 arrives, so the host reserves both at that moment too.
import { HostError } from '../errors';
import { HistoryEvent } from '../store/types';
import { Action } from './actions';
import { event, EventType, iso } from './history';
import { DurableHttpRequestJson, DurableHttpResponseJson, HTTP_ACTIVITY, requestOf } from './http-activity';
import { ActivityState, HttpPoll, Plan } from './state';
import { TimerLimits } from './timers';

/** HttpOptions.DefaultAsyncRequestSleepTimeMilliseconds. */
export const DEFAULT_ASYNC_SLEEP_MS = 30_000;
const SETTING = 'host.json extensions.durableTask.httpSettings.defaultAsyncRequestSleepTimeMilliseconds';

/**
 * The wait between polls when a 202 has no Retry-After, from host.json `extensions.durableTask.httpSettings`
 * (keys matched case-insensitively, as the host binds them; app-setting overrides arrive as text).
 * @example asyncSleepMsOf({ httpSettings: { defaultAsyncRequestSleepTimeMilliseconds: 5000 } }) // 5000
 */
export function asyncSleepMsOf(durableTask: Record<string, unknown> | undefined): number {
  const settings = valueOf(durableTask, 'httpSettings');
  if (settings === undefined || settings === null) return DEFAULT_ASYNC_SLEEP_MS;
  if (typeof settings !== 'object' || Array.isArray(settings)) throw new HostError('Registration', `host.json extensions.durableTask.httpSettings is ${JSON.stringify(settings)}; use an object.`);
  const raw = valueOf(settings as Record<string, unknown>, 'defaultAsyncRequestSleepTimeMilliseconds');
  if (raw === undefined || raw === null) return DEFAULT_ASYNC_SLEEP_MS;
  const ms = typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : raw;
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > 2 ** 31 - 1) {
    throw new HostError('Registration', `${SETTING} is ${JSON.stringify(raw)}; use a whole number of milliseconds from 1 to 2147483647 (the JavaScript SDK refuses 0).`);
  }
  return ms;
}

function valueOf(o: Record<string, unknown> | undefined, key: string): unknown {
  const k = Object.keys(o ?? {}).find((x) => x.toLowerCase() === key.toLowerCase());
  return k === undefined ? undefined : o![k];
}

/**
 * Plans a CallHttp action: the built-in activity with the request as its only argument.
 * @example scheduleHttp(plan, { actionType: 8, httpRequest: { method: 'GET', uri: 'http://localhost:8080/' } });
 */
export function scheduleHttp(plan: Plan, a: Action): void {
  const id = plan.st.nextId++;
  const input = JSON.stringify([(a as Action & { httpRequest?: unknown }).httpRequest ?? null]);
  plan.decisions.push(event(EventType.TaskScheduled, iso(plan.now), { Name: HTTP_ACTIVITY, Version: '', Input: input }, id));
  plan.st.activities[id] = { name: HTTP_ACTIVITY, input };
  plan.effects.push({ kind: 'activity', id });
}

/**
 * After an HTTP call completed: a 202 with Location, polling on, waits and then polls. A Retry-After that is not
 * a whole number of seconds (the extension's int.Parse), a wait longer than one timer, or a Location that is not
 * one absolute URL fail the poll at once, with a message saying why.
 * @example afterHttpResponse(plan, st.activities[id], taskCompletedEvent, engine.limits);
 */
export function afterHttpResponse(plan: Plan, a: ActivityState, ev: HistoryEvent, limits: TimerLimits): void {
  if (a.name !== HTTP_ACTIVITY || ev.EventType !== EventType.TaskCompleted) return;
  let request: DurableHttpRequestJson;
  let response: DurableHttpResponseJson;
  try {
    request = requestOf(a.input);
    response = JSON.parse(String(ev.Result)) as DurableHttpResponseJson;
  } catch {
    return;
  }
  const location = header(response.headers, 'Location');
  if (response.statusCode !== 202 || request.asynchronousPatternEnabled === false || !location) return;
  const { st, now } = plan;
  const timerId = st.nextId++;
  const pollId = st.nextId++;
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'x-functions-key'));
  const poll: HttpPoll = { id: pollId, input: JSON.stringify([{ method: 'GET', uri: location, headers, tokenSource: request.tokenSource ?? null, asynchronousPatternEnabled: true }]) };
  const retryAfter = header(response.headers, 'Retry-After');
  let wait = limits.httpAsyncSleepMs ?? DEFAULT_ASYNC_SLEEP_MS;
  let problem: string | undefined;
  if (typeof location !== 'string' || !/^https?:\/\//i.test(location)) problem = `its Location header ${JSON.stringify(location)} is not one absolute http or https URL`;
  else if (retryAfter !== undefined && (typeof retryAfter !== 'string' || !/^\s*[+-]?\d+\s*$/.test(retryAfter))) problem = `its Retry-After header ${JSON.stringify(retryAfter)} is not a whole number of seconds (the extension reads it with int.Parse; an HTTP date is not supported)`;
  else if (retryAfter !== undefined) wait = Number(retryAfter) * 1000;
  if (problem === undefined && wait > limits.maximumShortTimerMs) problem = `its Retry-After of ${wait / 1000} s is longer than the longest single timer (${limits.maximumShortTimerMs / 1000} s)`;
  if (problem !== undefined) {
    poll.failure = { reason: `callHttp ${request.method} ${request.uri}: the 202 response cannot be polled: ${problem}.`, details: JSON.stringify({ statusCode: 202, location, retryAfter: retryAfter ?? null }) };
    pollAgain(plan, poll);
    return;
  }
  const fireAt = now + Math.max(0, wait);
  st.timers[timerId] = { fireAt: iso(fireAt), httpPoll: poll };
  plan.decisions.push(event(EventType.TimerCreated, iso(now), { FireAt: iso(fireAt) }, timerId));
  plan.effects.push({ kind: 'timer', id: timerId, fireAt });
}

/**
 * The poll timer fired (or the poll fails at once): GET Location, under the id reserved for it.
 * @example if (timer.httpPoll) pollAgain(plan, timer.httpPoll);
 */
export function pollAgain(plan: Plan, p: HttpPoll): void {
  plan.decisions.push(event(EventType.TaskScheduled, iso(plan.now), { Name: HTTP_ACTIVITY, Version: '', Input: p.input }, p.id));
  plan.st.activities[p.id] = { name: HTTP_ACTIVITY, input: p.input, skipped: p.failure };
  plan.effects.push({ kind: 'activity', id: p.id });
}

/** A response header, looked up without regard to case as the SDK's DurableHttpResponse.getHeader does. */
function header(headers: DurableHttpResponseJson['headers'] | undefined, name: string): string | string[] | undefined {
  const k = Object.keys(headers ?? {}).find((x) => x.toLowerCase() === name.toLowerCase());
  return k === undefined ? undefined : headers![k];
}

// Durable timers as the Azure Storage provider runs them: timers longer than maximumShortTimerDuration are split
// host-side into chunks of longRunningTimerIntervalDuration, and a timer never fires before its final time.
import { Action } from './actions';
import { event, EventType, iso } from './history';
import { HostError } from '../errors';
import { DAY, Plan } from './state';

/** The two limits the extension hands the SDK (Azure Storage: 6 days and 3 days). */
export interface TimerLimits {
  maximumShortTimerMs: number;
  longTimerIntervalMs: number;
  /** callHttp: the wait after a 202 without Retry-After (host.json httpSettings; default 30 s). */
  httpAsyncSleepMs?: number;
}

/** What planning an episode's actions needs besides the plan: timer limits and the version new children get. */
export interface PlanOptions extends TimerLimits {
  /** host.json defaultVersion: the version of a sub-orchestration started without one. */
  defaultVersion?: string;
  /** Whether an entity function of that name is registered (and enabled). */
  entityExists?: (name: string) => boolean;
  /** Replay schema advertised to the SDK: 2 = V3 (extensions before 3.13), 3 = V4 (critical sections). */
  upperSchemaVersionNew?: number;
}

/** Texts already made: every episode's payload carries the same two limits. */
const spans = new Map<number, string>();

/**
 * TimeSpan text "d.hh:mm:ss" as the extension sends it.
 * @example timeSpan(6 * 86_400_000) // "6.00:00:00"
 */
export function timeSpan(ms: number): string {
  let text = spans.get(ms);
  if (text === undefined) {
    text = spanText(ms);
    if (spans.size < 64) spans.set(ms, text);
  }
  return text;
}

function spanText(ms: number): string {
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

/** When the chunk starting now ends: the final time if it is close enough, else one interval from now. */
function chunkEnd(now: number, final: number, limits: TimerLimits): number {
  return final - now > limits.maximumShortTimerMs ? now + limits.longTimerIntervalMs : final;
}

/**
 * Plans a CreateTimer action: one TimerCreated (the first chunk of a long timer), armed unless already canceled.
 * The strict `>` matches the SDK's own long/short test (see durable-host-protocol.md section 7).
 */
export function planTimer(plan: Plan, a: Action, path: string, limits: TimerLimits): void {
  const { st, now } = plan;
  const id = st.nextId++;
  const final = a.fireAt instanceof Date ? a.fireAt.getTime() : Date.parse(String(a.fireAt));
  if (!Number.isFinite(final)) throw new HostError('FunctionError', `CreateTimer has an invalid fireAt '${String(a.fireAt)}'.`);
  const long = final - now > limits.maximumShortTimerMs;
  const fireAt = long ? now + limits.longTimerIntervalMs : final;
  plan.decisions.push(event(EventType.TimerCreated, iso(now), { FireAt: iso(fireAt) }, id));
  if (!a.isCanceled) {
    st.timerPaths[path] = id;
    st.timers[id] = { fireAt: iso(fireAt), final: long ? iso(final) : undefined, path };
    plan.effects.push({ kind: 'timer', id, fireAt });
  }
}

/** A chunk of a long timer fired before the final time: plan the next chunk (same action path). */
export function planNextChunk(plan: Plan, final: string, path: string | undefined, limits: TimerLimits): void {
  const { st, now } = plan;
  const id = st.nextId++;
  const fireAt = chunkEnd(now, Date.parse(final), limits);
  st.timers[id] = { fireAt: iso(fireAt), final, path };
  if (path !== undefined) st.timerPaths[path] = id;
  plan.decisions.push(event(EventType.TimerCreated, iso(now), { FireAt: iso(fireAt) }, id));
  plan.effects.push({ kind: 'timer', id, fireAt });
}

/** A timer the orchestrator canceled (isCanceled flipped on its action at `path`): stop it. */
export function cancelTimerAt(plan: Plan, path: string): void {
  const id = plan.st.timerPaths[path];
  if (id === undefined) return;
  delete plan.st.timerPaths[path];
  if (plan.st.timers[id]) {
    delete plan.st.timers[id];
    plan.effects.push({ kind: 'cancelTimer', id });
  }
}

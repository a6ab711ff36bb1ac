// What devhost's engine knows about an instance beyond the management API's status JSON: its pending timers (from
// the engine state stored with the meta), the external events it waits for (from the action signatures stored for
// the determinism check, matched against the EventRaised events of its history) and the messages not yet taken.
import { ActionType } from '../durable/actions';
import { EVENT_TYPE_NAMES, EventType } from '../durable/history';
import type { EngineState } from '../durable/state';
import { HistoryEvent, InboxMessage, InstanceMeta, TERMINAL_STATUSES } from '../store/types';

/** A durable timer the engine has armed. */
export interface PendingTimer {
  instanceId: string;
  /** The engine's task id of the timer. */
  id: number;
  /** When it fires (ISO-8601). */
  fireAt: string;
  /** A long timer runs in chunks: when the whole timer ends. */
  final?: string;
  /** timer: the orchestrator's own; retry: the wait before a retried activity or sub-orchestration; http-poll: callHttp's wait after a 202. */
  kind: 'timer' | 'retry' | 'http-poll';
}

/** A message in the instance's inbox that no episode has taken yet (an event raised while suspended, say). */
export interface QueuedMessage {
  eventType: string;
  /** The event's name (EventRaised), when it has one. */
  name?: string;
  time: string;
}

/**
 * The timers an instance waits on, earliest first; none once it has finished.
 * @example pendingTimers(meta) // [{ instanceId: 'a', id: 3, fireAt: '2026-01-01T00:05:00.000Z', kind: 'timer' }]
 */
export function pendingTimers(meta: InstanceMeta): PendingTimer[] {
  if (TERMINAL_STATUSES.includes(meta.status)) return [];
  const timers = (meta.engine as Partial<EngineState> | null | undefined)?.timers ?? {};
  return Object.entries(timers)
    .map(([id, t]): PendingTimer => {
      const timer: PendingTimer = { instanceId: meta.instanceId, id: Number(id), fireAt: t.fireAt, kind: t.retry !== undefined ? 'retry' : t.httpPoll !== undefined ? 'http-poll' : 'timer' };
      if (t.final !== undefined) timer.final = t.final;
      return timer;
    })
    .sort((a, b) => a.fireAt.localeCompare(b.fireAt) || a.id - b.id);
}

const ACTION_NAMES = Object.keys(ActionType).join('|');
/**
 * A wait inside a compound signature, `WhenAny(CreateTimer, WaitForExternalEvent 'x')` (describeAction): the name
 * ends at the first quote followed by the end, or by closing brackets and the next action. A name that itself
 * holds `', CreateTimer` is misread there; a signature that is one wait is read exactly (waitsIn).
 */
const NESTED_WAIT = new RegExp(`WaitForExternalEvent '([\\s\\S]*?)'(?=\\)*$|\\)*, (?:${ACTION_NAMES}|action type)\\b)`, 'g');
const SINGLE_WAIT = "WaitForExternalEvent '";

/** The event names a recorded action signature waits for, in order (a compound may wait for several). */
function waitsIn(signature: string): string[] {
  if (signature.startsWith(SINGLE_WAIT) && signature.endsWith("'")) return [signature.slice(SINGLE_WAIT.length, -1)];
  if (!signature.startsWith('WhenAny(') && !signature.startsWith('WhenAll(')) return [];
  return [...signature.matchAll(NESTED_WAIT)].map((m) => m[1]);
}

/**
 * The external events an orchestration waits for now: the waits of the last action it recorded (the task it
 * yielded last, so the one it is blocked on), less those an EventRaised already answered. Each raised event answers
 * one wait of its name, earlier waits first (the SDK buffers an event nobody waits for until a wait takes it).
 * @example waitingFor(["CallActivity 'a'", "WhenAny(CreateTimer, WaitForExternalEvent 'Approval')"], history) // ['Approval']
 */
export function waitingFor(actions: string[], history: HistoryEvent[]): string[] {
  if (actions.length === 0) return [];
  const raised = new Map<string, number>();
  for (const e of history) {
    if (e.EventType === EventType.EventRaised && typeof e.Name === 'string') raised.set(e.Name, (raised.get(e.Name) ?? 0) + 1);
  }
  const open: string[] = [];
  actions.forEach((signature, i) => {
    for (const name of waitsIn(signature)) {
      const left = raised.get(name) ?? 0;
      if (left > 0) raised.set(name, left - 1);
      else if (i === actions.length - 1 && !open.includes(name)) open.push(name);
    }
  });
  return open;
}

/**
 * The messages waiting in an inbox, oldest first.
 * @example queuedMessages(stored.inbox) // [{ eventType: 'EventRaised', name: 'Approval', time: '…' }]
 */
export function queuedMessages(inbox: InboxMessage[]): QueuedMessage[] {
  return inbox.map((m) => {
    const q: QueuedMessage = { eventType: EVENT_TYPE_NAMES[m.event.EventType] ?? String(m.event.EventType), time: m.event.Timestamp };
    if (typeof m.event.Name === 'string') q.name = m.event.Name;
    return q;
  });
}

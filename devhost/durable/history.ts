// DTFx history events as the Durable extension serializes them (PascalCase, EventType as a number),
// and the small constructors the engine uses to write them.
import { HistoryEvent } from '../store/types';

/** DTFx EventType numbers (durable-functions' HistoryEventType). */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;

export const EVENT_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

/** DTFx OrchestrationStatus numbers, used in ExecutionCompleted. */
export const OrchestrationStatusCode = { Running: 0, Completed: 1, ContinuedAsNew: 2, Failed: 3, Canceled: 4, Terminated: 5, Pending: 6, Suspended: 7 } as const;

/**
 * A history event with the common fields filled in.
 * @example event(EventType.TimerFired, iso, { TimerId: 3, FireAt: iso })
 */
export function event(type: number, timestamp: string, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: timestamp, ...fields };
}

let lastMs = NaN;
let lastIso = '';

/** ISO-8601 UTC with milliseconds (the last answer is remembered: the engine asks for the same instant often). */
export function iso(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

// The status JSON of the Durable HTTP API (StatusResponsePayload) and the shaping of historyEvents.
import { HistoryEvent, InstanceMeta } from '../store/types';
import { fromJsonText } from './actions';
import { EVENT_TYPE_NAMES, EventType } from './history';

export interface StatusJson {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  /** The orchestration version, when it has one (the extension's own status has no such field; the JS client ignores it). */
  version?: string;
  historyEvents?: Record<string, unknown>[];
}

/** `yyyy-MM-ddTHH:mm:ssZ`, the extension's time format (no fraction). */
export function statusTime(isoText: string): string {
  return isoText.slice(0, 19) + 'Z';
}

export interface StatusOptions {
  showInput?: boolean;
  history?: HistoryEvent[];
  showHistoryOutput?: boolean;
}

/**
 * The status object of an instance.
 * @example toStatusJson(meta, { showInput: true })
 */
export function toStatusJson(meta: InstanceMeta, opts: StatusOptions = {}): StatusJson {
  const s: StatusJson = {
    name: meta.name,
    instanceId: meta.instanceId,
    runtimeStatus: meta.status,
    input: opts.showInput === false ? null : fromJsonText(meta.input),
    customStatus: fromJsonText(meta.customStatus),
    output: fromJsonText(meta.output),
    createdTime: statusTime(meta.createdTime),
    lastUpdatedTime: statusTime(meta.lastUpdatedTime),
  };
  if (meta.version) s.version = meta.version;
  if (opts.history && meta.status !== 'Pending') s.historyEvents = shapeHistory(opts.history, opts.showInput !== false, !!opts.showHistoryOutput);
  return s;
}

/** History as the extension shows it: string EventType, scheduling events merged into their completions. */
export function shapeHistory(history: HistoryEvent[], showInput: boolean, showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of history) {
    if (e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated) scheduled.set(e.EventId, e);
  }
  const completedIds = new Set<number>();
  for (const e of history) if (typeof e.TaskScheduledId === 'number') completedIds.add(e.TaskScheduledId);
  const out: Record<string, unknown>[] = [];
  for (const e of history) {
    if (e.EventType === EventType.OrchestratorStarted || e.EventType === EventType.OrchestratorCompleted) continue;
    if ((e.EventType === EventType.TaskScheduled || e.EventType === EventType.SubOrchestrationInstanceCreated) && completedIds.has(e.EventId)) continue;
    const { EventType: t, EventId: _id, IsPlayed: _p, ...rest } = e;
    const row: Record<string, unknown> = { EventType: EVENT_TYPE_NAMES[t] ?? String(t), ...rest };
    if (t === EventType.ExecutionStarted) {
      row.FunctionName = row.Name;
      delete row.Name;
      if (!showInput) delete row.Input;
    }
    const from = typeof e.TaskScheduledId === 'number' ? scheduled.get(e.TaskScheduledId) : undefined;
    if (from) {
      row.FunctionName = from.Name;
      row.ScheduledTime = from.Timestamp;
      if (showInput) row.Input = from.Input;
    }
    if (t === EventType.TimerFired) delete row.TimerId;
    if (!showOutput) delete row.Result;
    if ('Input' in row && typeof row.Input === 'string' && t !== EventType.ExecutionTerminated) {
      try {
        row.Input = JSON.parse(row.Input);
      } catch {
        /* keep text */
      }
    }
    if ('Result' in row && typeof row.Result === 'string') {
      try {
        row.Result = JSON.parse(row.Result);
      } catch {
        /* keep text */
      }
    }
    out.push(row);
  }
  return out;
}

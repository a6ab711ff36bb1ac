// The actions an orchestrator episode returns (durable-functions' OrchestratorState.actions), how to
// name them in messages, and the signature used to detect non-deterministic replays.

/** durable-functions ActionType numbers. */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

const ACTION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(ActionType).map(([k, v]) => [v, k]));

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** One action as the SDK serializes it (only the fields the host reads). */
export interface Action {
  actionType: number | string;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  version?: string;
  retryOptions?: RetryOptionsJson;
  fireAt?: string | Date;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: Action[];
  /** CallEntity / SignalEntity: the operation name. */
  operation?: string;
  /** LockEntities: the request id and the entities, sorted and without duplicates by the SDK. */
  lockRequestId?: string;
  lockSet?: { name: string; key: string }[];
}

/** The numeric action type (the extension accepts the number or its name). */
export function actionTypeOf(a: Action): number {
  if (typeof a.actionType === 'number') return a.actionType;
  const n = (ActionType as Record<string, number>)[a.actionType];
  return n ?? -1;
}

/**
 * How an action reads in a message: `CallActivity 'Hello'`, `CreateTimer`, `WhenAny(...)`.
 * @example describeAction({ actionType: 0, functionName: 'A' }) // "CallActivity 'A'"
 */
export function describeAction(a: Action): string {
  const t = actionTypeOf(a);
  const name = ACTION_NAMES[t] ?? `action type ${String(a.actionType)}`;
  if (t === ActionType.WhenAny || t === ActionType.WhenAll) return `${name}(${(a.compoundActions ?? []).map(describeAction).join(', ')})`;
  if (a.functionName !== undefined) return `${name} '${a.functionName}'`;
  if (a.operation !== undefined) return `${name} '${a.instanceId ?? ''}' '${a.operation}'`;
  if (a.lockSet !== undefined) return `${name}(${a.lockSet.map((e) => `@${String(e.name).toLowerCase()}@${e.key}`).join(', ')})`;
  if (a.externalEventName !== undefined) return `${name} '${a.externalEventName}'`;
  return name;
}

/** The part of an action that must be identical on replay (type and target names; not times or inputs). */
export function actionSignature(a: Action): string {
  return describeAction(a);
}

/** Parse an action input that the SDK pre-stringified (strings) or passed raw (everything else). */
export function actionInputValue(input: unknown): unknown {
  if (typeof input === 'string') {
    try {
      return JSON.parse(input);
    } catch {
      return input;
    }
  }
  return input === undefined ? null : input;
}

/** JSON text of a value for history/status fields; `null` for undefined. */
export function toJsonText(value: unknown): string {
  const s = JSON.stringify(value === undefined ? null : value);
  return s === undefined ? 'null' : s;
}

/** Parse JSON text, or undefined/null passthrough. */
export function fromJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === '') return null;
  return JSON.parse(text);
}

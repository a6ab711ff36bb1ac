// Orchestration versioning as DurableTask.Core (3.2.0+) applies it for the Durable extension: host.json
// `defaultVersion` is the worker's version and the version new instances get; before every episode the
// instance's version (its ExecutionStarted.Version) is checked with `versionMatchStrategy`, and a mismatch is
// handled by `versionFailureStrategy` (DTFx TaskOrchestrationDispatcher, VersioningSettings; see README).
import { HostError } from '../errors';

export type MatchStrategy = 'None' | 'Strict' | 'CurrentOrOlder';
export type FailureStrategy = 'Reject' | 'Fail';

export interface Versioning {
  /** The worker's version, and the version of instances started without one. Undefined: versioning is off. */
  defaultVersion?: string;
  match: MatchStrategy;
  failure: FailureStrategy;
}

/** What DTFx writes when Fail meets a mismatch (FailureDetails "VersionMismatch", non-retriable). */
export const VERSION_MISMATCH = { ErrorType: 'VersionMismatch', ErrorMessage: 'Orchestration version did not comply with Worker Versioning', StackTrace: null, IsNonRetriable: true, InnerFailure: null, Properties: null };

/** Longest wait between two tries of an instance the worker rejects (the Azure Storage provider's cap). */
export const MAX_REJECT_WAIT_MS = 600_000;

const MATCH: readonly MatchStrategy[] = ['None', 'Strict', 'CurrentOrOlder'];
const FAILURE: readonly FailureStrategy[] = ['Reject', 'Fail'];

/**
 * Reads the versioning settings of host.json `extensions.durableTask`. Strategies are matched case-insensitively
 * (the host binds enums that way); defaults are CurrentOrOlder and Reject, as documented. An unknown value stops the
 * start, naming host.json and the key.
 * @example versioningOf({ defaultVersion: '2.0', versionMatchStrategy: 'Strict' }) // { defaultVersion: '2.0', match: 'Strict', failure: 'Reject' }
 */
export function versioningOf(durableTask: Record<string, unknown> | undefined): Versioning {
  const d = durableTask ?? {};
  const pick = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const raw = d[key];
    if (raw === undefined || raw === null) return fallback;
    const found = allowed.find((a) => typeof raw === 'string' && a.toLowerCase() === raw.trim().toLowerCase());
    if (!found) throw new HostError('Registration', `host.json extensions.durableTask.${key} is ${JSON.stringify(raw)}; use one of ${allowed.join(', ')}.`);
    return found;
  };
  const raw = d.defaultVersion;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw new HostError('Registration', `host.json extensions.durableTask.defaultVersion is ${JSON.stringify(raw)}; use a string such as "1.0".`);
  }
  return { defaultVersion: typeof raw === 'string' ? raw : undefined, match: pick('versionMatchStrategy', MATCH, 'CurrentOrOlder'), failure: pick('versionFailureStrategy', FAILURE, 'Reject') };
}

/**
 * True when a worker with these settings may run an instance of `instanceVersion`. With no defaultVersion there
 * is no worker version to compare with, and every instance runs.
 * @example mayRun({ defaultVersion: '1.0', match: 'CurrentOrOlder', failure: 'Reject' }, '1.1') // false
 */
export function mayRun(v: Versioning, instanceVersion: string): boolean {
  if (v.defaultVersion === undefined || v.match === 'None') return true;
  if (v.match === 'Strict') return instanceVersion === v.defaultVersion;
  return compareVersions(instanceVersion, v.defaultVersion) <= 0;
}

/**
 * DTFx VersioningSettings.CompareVersions: empty sorts first; two System.Version strings (2 to 4 numeric parts)
 * compare part by part, a missing part below 0 ("1.0" < "1.0.0"); anything else compares as ordinal text,
 * ignoring case (so "10" < "9": use dotted versions).
 * @example compareVersions('1.10', '1.9') // 1
 */
export function compareVersions(a: string, b: string): number {
  const emptyA = a.trim() === '';
  const emptyB = b.trim() === '';
  if (emptyA && emptyB) return 0;
  if (emptyA) return -1;
  if (emptyB) return 1;
  const va = systemVersion(a);
  const vb = systemVersion(b);
  if (va && vb) {
    for (let i = 0; i < 4; i++) if (va[i] !== vb[i]) return va[i] < vb[i] ? -1 : 1;
    return 0;
  }
  const ua = a.toUpperCase();
  const ub = b.toUpperCase();
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/** System.Version.TryParse: 2 to 4 parts of 0..int.MaxValue; missing parts are -1. */
function systemVersion(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length < 2 || parts.length > 4) return undefined;
  const nums = parts.map((p) => (/^\s*\+?\d+\s*$/.test(p) ? Number(p.trim()) : NaN));
  if (nums.some((n) => !Number.isSafeInteger(n) || n > 2_147_483_647)) return undefined;
  while (nums.length < 4) nums.push(-1);
  return nums;
}

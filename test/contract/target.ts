// The hosts the parity contract runs against: devhost started in-process on each store (virtual clock that jumps
// to the next timer whenever the host is idle, so a scenario's timers cost nothing), and a real Functions host
// (`func start` of the same fixture app) when FUNC_BASE_URL names one. Scenarios see only a Target: HTTP in, HTTP out.
import path from 'node:path';
import { startTestHost } from '../../devhost';

export type TargetKind = 'devhost' | 'func';

/** One host under test, as a scenario sees it. */
export interface Target {
  /** 'devhost-memory', 'devhost-table' or 'func'. */
  readonly name: string;
  readonly kind: TargetKind;
  /** Origin of the host, e.g. http://localhost:7071 (no trailing slash). */
  readonly baseUrl: string;
  /** fetch(baseUrl + path). Management API paths carry the system key when FUNC_SYSTEM_KEY is set. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Longest a scenario waits, in real time, for an instance or an entity to get where it should. */
  readonly patienceMs: number;
  /** Pause between two reads while waiting. */
  readonly pollMs: number;
}

/** What a scenario knows of its target before it runs (to name the answer each kind gives, or a known bug). */
export interface TargetInfo {
  /** 'devhost-memory', 'devhost-table' or 'func'. */
  readonly name: string;
  readonly kind: TargetKind;
}

/** A target that is not running yet: the suite opens it before its scenarios and closes it after. */
export interface TargetSpec extends TargetInfo {
  open(): Promise<{ target: Target; close(): Promise<void> }>;
}

/** The folder of the contract's app (also what `func start` runs for a real-host run). */
export const CONTRACT_APP = path.resolve(__dirname, '../fixtures/contract-app');

/** The line a run without a real host prints (as the name of its one skipped suite). */
export const FUNC_NOT_SET =
  'FUNC_BASE_URL is not set: the contract suite ran against devhost only (set it to a running `func start` of test/fixtures/contract-app to compare)';

/** The real host to compare with, from FUNC_BASE_URL (and FUNC_SYSTEM_KEY for a host that checks keys). */
export function funcBaseUrl(): string | undefined {
  const url = process.env.FUNC_BASE_URL?.trim();
  return url ? url.replace(/\/+$/, '') : undefined;
}

function devhost(storage: 'memory' | 'table'): TargetSpec {
  return {
    name: `devhost-${storage}`,
    kind: 'devhost',
    async open() {
      const host = await startTestHost({ appDir: CONTRACT_APP, storage, clock: 'virtual', autoSkip: true });
      const target: Target = { name: `devhost-${storage}`, kind: 'devhost', baseUrl: host.url, fetch: host.fetch, patienceMs: 20_000, pollMs: 10 };
      return { target, close: () => host.dispose() };
    },
  };
}

function func(baseUrl: string): TargetSpec {
  const key = process.env.FUNC_SYSTEM_KEY;
  return {
    name: 'func',
    kind: 'func',
    async open() {
      const target: Target = {
        name: 'func',
        kind: 'func',
        baseUrl,
        fetch(p, init) {
          // `func start` checks no keys; a host in Azure wants the durabletask_extension system key on the management API.
          const withKey = key && p.startsWith('/runtime/webhooks/') ? `${p}${p.includes('?') ? '&' : '?'}code=${encodeURIComponent(key)}` : p;
          return fetch(baseUrl + withKey, init);
        },
        patienceMs: 60_000,
        pollMs: 500,
      };
      return { target, close: async () => undefined };
    },
  };
}

/**
 * Every target of this run: devhost on both stores, and the real host when FUNC_BASE_URL is set.
 * @example describe.each(contractTargets())('contract on $name', (spec) => { ... });
 */
export function contractTargets(): TargetSpec[] {
  const url = funcBaseUrl();
  return url ? [devhost('memory'), devhost('table'), func(url)] : [devhost('memory'), devhost('table')];
}

// Test kit for vitest (or any runner): a devhost started in-process on an app folder, with fetch,
// a real DurableClient, virtual-time controls and a dispose() that always cleans up.
import { randomUUID } from 'node:crypto';
import { Host } from './host';
import { StatusJson } from './durable/status';
import { HostLogEntry } from './invoke';
import { clientBinding } from './durable/api';

export interface TestHostOptions {
  /** Folder holding package.json ("main" = a compiled JS file or glob). */
  appDir: string;
  /** Default 'memory'. 'table' uses AzureWebJobsStorage (or connectionString). */
  storage?: 'memory' | 'table';
  /** Default 'virtual': time moves only through advance() and waitFor(). */
  clock?: 'real' | 'virtual';
  /**
   * With the virtual clock: jump to the next timer whenever the host is idle, as `devhost --clock virtual` does.
   * For tests that drive the host over HTTP only (no advance/waitFor), so a scenario's timers cost nothing.
   * Every instance such a test starts should end or wait for an event: a timer that re-arms forever makes the
   * clock jump forever.
   */
  autoSkip?: boolean;
  /** Default: a unique hub per host, so table-store tests never see each other's instances. */
  taskHub?: string;
  connectionString?: string;
  env?: Record<string, string>;
  /** Default 0 (a free port). */
  port?: number;
  maxBodyBytes?: number;
  maximumShortTimerMs?: number;
  longTimerIntervalMs?: number;
  /** Print host logs to the console (default false; they are always in `logs`). */
  verbose?: boolean;
}

/** A DurableClient from durable-functions (typed loosely so the kit does not pin the SDK's types). */
export type DurableClientLike = {
  startNew(name: string, options?: { instanceId?: string; input?: unknown }): Promise<string>;
  getStatus(instanceId: string, options?: Record<string, unknown>): Promise<Record<string, unknown>>;
  raiseEvent(instanceId: string, eventName: string, eventData: unknown): Promise<void>;
  terminate(instanceId: string, reason: string): Promise<void>;
  suspend(instanceId: string, reason: string): Promise<void>;
  resume(instanceId: string, reason: string): Promise<void>;
  purgeInstanceHistory(instanceId: string): Promise<{ instancesDeleted: number }>;
  getStatusAll(): Promise<Record<string, unknown>[]>;
  [key: string]: unknown;
};

export interface TestHost {
  readonly url: string;
  readonly host: Host;
  /** fetch(url + path). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A real DurableClient (df.getClient) bound to this host. */
  client(): DurableClientLike;
  /** Virtual clock: move forward ('10s', '5m', '7d' or ms), firing due timers in order. */
  advance(duration: number | string): Promise<void>;
  /** Resolve when nothing is runnable, without moving the clock. */
  idle(): Promise<void>;
  /** Run until the instance finishes (skipping virtual time to each next timer). */
  waitFor(instanceId: string, opts?: { timeoutMs?: number }): Promise<StatusJson>;
  now(): Date;
  readonly logs: HostLogEntry[];
  dispose(): Promise<void>;
}

/**
 * Start a devhost in-process for a test.
 * @example
 * const t = await startTestHost({ appDir: 'test/fixtures/durable-basics' });
 * const id = await t.client().startNew('helloSequence');
 * expect((await t.waitFor(id)).output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
 * await t.dispose();
 */
export async function startTestHost(opts: TestHostOptions): Promise<TestHost> {
  const host = await Host.start({
    appDir: opts.appDir,
    port: opts.port ?? 0,
    storage: opts.storage ?? 'memory',
    clock: opts.clock ?? 'virtual',
    autoSkip: opts.autoSkip,
    taskHub: opts.taskHub ?? `T${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    connectionString: opts.connectionString,
    env: opts.env,
    maxBodyBytes: opts.maxBodyBytes,
    maximumShortTimerMs: opts.maximumShortTimerMs,
    longTimerIntervalMs: opts.longTimerIntervalMs,
    onLog: opts.verbose ? (e) => console.log(`[devhost] ${e.level} ${e.functionName ?? ''} ${e.message}`) : undefined,
  });
  let disposed = false;
  return {
    url: host.url,
    host,
    logs: host.logs,
    fetch: (path, init) => fetch(host.url + path, init),
    client() {
      const df = host.app.appRequire('durable-functions') as { getClient(ctx: unknown): DurableClientLike };
      const binding = { type: 'durableClient', name: 'devhostTestClient', direction: 'in' };
      const ctx = new host.app.af.InvocationContext({ functionName: 'testClient', options: { extraInputs: [binding] } }) as { extraInputs: { set(b: unknown, v: unknown): void } };
      ctx.extraInputs.set(binding, clientBinding(host.url, host.taskHub));
      return df.getClient(ctx);
    },
    advance: (d) => host.advance(d),
    idle: () => host.idle(),
    waitFor: (id, o) => host.waitFor(id, o),
    now: () => new Date(host.clock.now()),
    async dispose() {
      if (disposed) return;
      disposed = true;
      await host.close();
    },
  };
}

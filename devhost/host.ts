// A running devhost: loads an app, opens its store, serves HTTP, drives orchestrations, and keeps
// the clock. Used by the CLI (`devhost`), `npm start` and the test kit.
import { Clock, parseDuration, RealClock, Scheduler, VirtualClock } from './clock';
import { loadApp, LoadedApp } from './app-loader';
import { applyDisabledSettings } from './disabled';
import { clientBinding, DurableApi } from './durable/api';
import { Engine } from './durable/engine';
import { asyncSleepMsOf } from './durable/http-call';
import { versioningOf } from './durable/versioning';
import { toStatusJson, StatusJson } from './durable/status';
import { HostError } from './errors';
import { HostLogEntry, Invoker } from './invoke';
import { RouteTable } from './http/route-table';
import { HostServer } from './http/server';
import { dashboardRoutes } from './dashboard/routes';
import { MemoryStore } from './store/memory';
import { Store, TERMINAL_STATUSES } from './store/types';

export interface HostOptions {
  /** Folder of the Functions app (holds package.json and host.json). */
  appDir: string;
  /** Port to listen on; 0 picks a free one. Default 7071. */
  port?: number;
  hostname?: string;
  /** 'memory' (default), 'table' (AzureWebJobsStorage / connectionString), or a Store object. */
  storage?: 'memory' | 'table' | Store;
  clock?: 'real' | 'virtual';
  /** With the virtual clock: jump to the next timer whenever nothing is runnable (CLI default). */
  autoSkip?: boolean;
  connectionString?: string;
  /** Task hub name; default host.json extensions.durableTask.hubName or 'TestHubName'. */
  taskHub?: string;
  /** App settings set in process.env before the app loads. */
  env?: Record<string, string>;
  /** Largest accepted request body; default 100 MB like Azure. */
  maxBodyBytes?: number;
  maximumShortTimerMs?: number;
  longTimerIntervalMs?: number;
  /** Receives every log line (default: none; the CLI prints them). */
  onLog?: (entry: HostLogEntry) => void;
  onInvocation?: (info: { functionName: string; reason: string; invocationId: string; ms: number; result: string }) => void;
  /** Called when the host stops on its own (it lost the task hub's lease to another host); the CLI exits. */
  onStopped?: (reason: string) => void;
}

const MAX_LOGS = 5000;
/** How long close() waits for episodes and activities already running. */
const CLOSE_DRAIN_MS = 5000;

/**
 * Start a host.
 * @example const host = await Host.start({ appDir: '.', port: 7071, storage: 'memory' });
 */
export class Host {
  url = '';
  port = 0;
  private closed = false;
  private skipping = false;
  /** Ends close()'s wait for running work early (set while close() waits). */
  private endDrain: () => void = () => undefined;

  private constructor(
    readonly app: LoadedApp,
    readonly store: Store,
    readonly clock: Clock,
    readonly scheduler: Scheduler,
    readonly engine: Engine,
    readonly server: HostServer,
    readonly taskHub: string,
    private readonly opts: HostOptions,
    readonly logs: HostLogEntry[],
  ) {}

  static async start(opts: HostOptions): Promise<Host> {
    // App settings go into process.env (where the app reads them) and are put back as they were on close,
    // so a later host in the same process (tests) does not inherit them.
    const restoreEnv = applyEnv(opts.env ?? {});
    let started: Host | undefined;
    try {
      const logs: HostLogEntry[] = [];
      const log = (e: Omit<HostLogEntry, 'time'>) => {
        const entry = { time: new Date().toISOString(), ...e };
        logs.push(entry);
        if (logs.length > MAX_LOGS) logs.splice(0, logs.length - MAX_LOGS);
        opts.onLog?.(entry);
      };
      const app = await loadApp(opts.appDir, (level, category, message) => log({ level, message: `[${category}] ${message}` }));
      // Settings and routes are checked before the store opens, so an app the host refuses leaves nothing open.
      applyDisabledSettings(app.registry, process.env, (level, message) => log({ level, message }));
      const routes = new RouteTable(app.registry);
      const durable = app.hostJson.extensions?.durableTask;
      const versioning = versioningOf(durable);
      const replaySchema = process.env.DEVHOST_REPLAY_SCHEMA || 'V4';
      if (replaySchema !== 'V3' && replaySchema !== 'V4') {
        throw new HostError('InvalidArgument', `DEVHOST_REPLAY_SCHEMA is '${replaySchema}'; use V4 (the default: critical sections work) or V3 (as extensions before 3.13, where context.df.lock() throws).`);
      }
      const httpAsyncSleepMs = asyncSleepMsOf(durable);
      const taskHub = opts.taskHub ?? durable?.hubName ?? 'TestHubName';
      if (!/^[A-Za-z][A-Za-z0-9]{2,44}$/.test(taskHub)) {
        throw new HostError('InvalidArgument', `Task hub name '${taskHub}' is invalid: use 3 to 45 letters and digits, starting with a letter.`);
      }
      let onLeaseLost: (why: string) => void = () => undefined;
      const store = await openStore(opts, taskHub, (why) => onLeaseLost(why));
      const clock: Clock = opts.clock === 'virtual' ? new VirtualClock() : new RealClock();
      const scheduler = new Scheduler(clock);
      const invoker = new Invoker(app, log);
      let origin = '';
      const engine = new Engine({
        store,
        clock,
        scheduler,
        registry: app.registry,
        invoker,
        log,
        maximumShortTimerMs: opts.maximumShortTimerMs,
        longTimerIntervalMs: opts.longTimerIntervalMs,
        maxConcurrentActivities: durable?.maxConcurrentActivityFunctions,
        onInvocation: opts.onInvocation,
        clientBinding: () => clientBinding(origin, taskHub),
        versioning,
        replaySchema,
        httpAsyncSleepMs,
      });
      const api = new DurableApi(engine, taskHub);
      const routePrefix = (app.hostJson.extensions?.http?.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
      const server = new HostServer({
        app,
        routes,
        invoker,
        api,
        log,
        routePrefix,
        maxBodyBytes: opts.maxBodyBytes ?? 100 * 1024 * 1024,
        clientBinding: (origin) => clientBinding(origin, taskHub),
        onInvocation: opts.onInvocation,
        dashboard: dashboardRoutes(() => started),
      });
      const hostname = opts.hostname ?? '127.0.0.1';
      let port: number;
      try {
        port = await server.listen(opts.port ?? 7071, hostname);
      } catch (err) {
        await store.close(); // gives the lease back: the next start should not wait for it
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new HostError('InvalidArgument', `Port ${opts.port ?? 7071} on ${hostname} is in use (another devhost or func start?). Stop it, or start this host with another port (--port).`);
        }
        throw err;
      }
      const host = new Host(app, store, clock, scheduler, engine, server, taskHub, opts, logs);
      onLeaseLost = (why) => {
        log({ level: 'critical', message: `devhost: ${why}` });
        void host.close().then(() => opts.onStopped?.(why));
      };
      host.restoreEnv = restoreEnv;
      started = host;
      host.port = port;
      host.url = `http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port}`;
      origin = host.url;
      // The SDK rewrites management URLs to localhost:7071 unless WEBSITE_HOSTNAME names the host.
      if (!process.env.WEBSITE_HOSTNAME || process.env.WEBSITE_HOSTNAME.includes('0.0.0.0')) process.env.WEBSITE_HOSTNAME = `${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port}`;
      try {
        await engine.recover();
      } catch (err) {
        await host.close(); // the server already listens: without this the port and the process stay held
        throw err;
      }
      if (clock.kind === 'virtual' && opts.autoSkip) void host.skipLoop();
      return host;
    } catch (err) {
      if (!started) restoreEnv(); // a started host restores them in close()
      throw err;
    }
  }

  /** Function list as Core Tools prints it. */
  describe(): string[] {
    return this.server.describe(this.displayUrl);
  }

  /** The URL to show people: localhost instead of the loopback address, as Core Tools prints it. */
  get displayUrl(): string {
    return this.url.replace('//127.0.0.1:', '//localhost:');
  }

  /** Status JSON of an instance, or undefined. */
  async status(instanceId: string): Promise<StatusJson | undefined> {
    const meta = await this.engine.getMeta(instanceId);
    return meta ? toStatusJson(meta) : undefined;
  }

  /** Resolves when nothing is runnable (the clock does not move). */
  idle(): Promise<void> {
    return this.engine.idle();
  }

  /** Virtual clock: move forward, firing due timers in order and letting the work they cause finish. */
  async advance(duration: number | string): Promise<void> {
    const ms = parseDuration(duration);
    if (this.clock.kind !== 'virtual') throw new HostError('InvalidArgument', 'advance() needs the virtual clock (clock: "virtual").');
    const vc = this.clock as VirtualClock;
    const target = vc.now() + ms;
    await this.engine.idle();
    for (;;) {
      const next = this.scheduler.nextDue();
      if (next === undefined || next > target) break;
      vc.set(next);
      this.scheduler.fireDue();
      await this.engine.idle();
    }
    vc.set(target);
    this.scheduler.fireDue();
    await this.engine.idle();
  }

  /**
   * Virtual clock: jump to the next timer (background retries aside) as advance() would; the time jumped to, or
   * undefined when no timer is pending. The dashboard's "Jump to next timer".
   * @example const at = await host.skipToNextTimer();
   */
  async skipToNextTimer(): Promise<number | undefined> {
    await this.engine.idle();
    const next = this.scheduler.nextDue({ foreground: true });
    if (next !== undefined) await this.advance(Math.max(0, next - this.clock.now()));
    return next;
  }

  /**
   * Run until the instance finishes. With the virtual clock, time jumps to the next timer whenever
   * nothing else is runnable; otherwise it waits (real time) for outside input such as an event.
   */
  async waitFor(instanceId: string, opts: { timeoutMs?: number } = {}): Promise<StatusJson> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.engine.idle();
      const meta = await this.engine.getMeta(instanceId);
      if (!meta) throw new HostError('NotFound', `waitFor: no instance with ID '${instanceId}'.`);
      if (TERMINAL_STATUSES.includes(meta.status)) return toStatusJson(meta);
      if (this.clock.kind === 'virtual' && meta.status !== 'Suspended') {
        const next = this.scheduler.nextDue({ foreground: true });
        if (next !== undefined) {
          (this.clock as VirtualClock).set(next);
          this.scheduler.fireDue();
          continue;
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`waitFor('${instanceId}'): still ${meta.status} after ${timeoutMs} ms, with no timer due; is it waiting for an external event? custom status: ${meta.customStatus}`);
      }
      await this.engine.nextChange(Math.min(left, 250));
    }
  }

  /** Stop serving, run appTerminate hooks, close the store. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.engine.close(); // no new episodes start; pending timers stop
    this.scheduler.close();
    await this.server.close();
    // Episodes and activities already running finish (their commits included) before the store closes, so a stop
    // leaves the state a finished episode would; bounded, so a stuck activity cannot hold the stop.
    let drainTimer: NodeJS.Timeout | undefined;
    const cut = new Promise<void>((resolve) => {
      drainTimer = setTimeout(resolve, CLOSE_DRAIN_MS);
      this.endDrain = resolve;
    });
    await Promise.race([this.engine.idle(), cut]);
    clearTimeout(drainTimer);
    for (const h of this.app.registry.hooks.appTerminate) {
      try {
        await h({ hookData: this.app.appLevelHookData, appHookData: this.app.appHookData });
      } catch {
        /* a failing hook must not keep the host alive */
      }
    }
    await this.store.close();
    this.restoreEnv();
  }

  /**
   * Makes a close() in progress stop waiting for running episodes and activities (they run again at the next
   * start, as after a crash); the store still closes in order. The CLI calls it on a second Ctrl+C.
   * @example process.on('SIGINT', () => (closing ? host.stopWaiting() : void host.close()));
   */
  stopWaiting(): void {
    this.endDrain();
  }

  private restoreEnv: () => void = () => undefined;

  private async skipLoop(): Promise<void> {
    if (this.skipping) return;
    this.skipping = true;
    while (!this.closed) {
      await this.engine.idle();
      const next = this.scheduler.nextDue({ foreground: true });
      if (next !== undefined) {
        (this.clock as VirtualClock).set(next);
        this.scheduler.fireDue();
        continue;
      }
      await this.engine.nextChange(500);
    }
  }
}

/**
 * Opens the store; the table store also takes the task hub's lease (one writing host per hub), so a second
 * host on the same storage and hub stops here with a message naming the holder.
 */
async function openStore(opts: HostOptions, taskHub: string, onLeaseLost: (why: string) => void): Promise<Store> {
  let store: Store;
  if (typeof opts.storage === 'object') store = opts.storage;
  else if (opts.storage === 'table') {
    // AzureWebJobsStorage as a connection string (UseDevelopmentStorage=true for Azurite), or its identity-based
    // form (__accountName / __tableServiceUri), as the app reads it; a missing or malformed setting is named.
    // Loaded only for the table store: the Azure SDKs (identity, tables, blobs) cost start-up time.
    const { storeConnection } = await import('./store/connection');
    const connection = storeConnection({ connectionString: opts.connectionString });
    const { TableStore } = await import('./store/table');
    // How long an instance stays quiet before the index says it is idle (store/idle-hints.ts); tests shorten it.
    const idleAfter = process.env.DEVHOST_IDLE_AFTER_MS || undefined;
    if (idleAfter !== undefined && !/^\d{1,9}$/.test(idleAfter)) {
      throw new HostError('InvalidArgument', `DEVHOST_IDLE_AFTER_MS is '${idleAfter}'; use a whole number of milliseconds (default 30000), or leave it unset.`);
    }
    const table = new TableStore({ connection, taskHub, idleAfterMs: idleAfter === undefined ? undefined : Number(idleAfter) });
    await table.init();
    await table.acquireLease({ onLost: onLeaseLost });
    return table;
  } else store = new MemoryStore();
  await store.init();
  return store;
}

/** Set app settings in process.env; returns a function that puts the previous values back. */
function applyEnv(env: Record<string, string>): () => void {
  const previous = Object.keys(env).map((k) => [k, process.env[k]] as const);
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  return () => {
    for (const [k, v] of previous) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

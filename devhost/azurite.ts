// Starts Azurite (blob, queue and table) as a child process: a private in-memory one on OS-chosen ports
// for tests and benchmarks, or a persistent one on the default ports for `npm start`.
import { ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** Azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  /** Full connection string with explicit Blob/Queue/Table endpoints (the form `AzureWebJobsStorage` takes). */
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  /** Stops the process (all data is gone: it runs in memory). */
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  startTimeoutMs?: number;
  /** Keep data in this folder (default: in memory, gone when it stops). */
  location?: string;
  /** Fixed ports (default: chosen by the OS). */
  ports?: { blob: number; queue: number; table: number };
  /** Folder whose node_modules holds azurite (default: the current directory, then the devhost's). */
  resolveFrom?: string;
}

const SERVICES = ['Blob', 'Queue', 'Table'] as const;
type Service = (typeof SERVICES)[number];
const LISTENING = /Azurite (Blob|Queue|Table) service is successfully listening at https?:\/\/[^:\s]+:(\d+)/g;

/**
 * Starts Azurite as a child process. Ports are picked by the OS (port 0), so they never clash with a
 * developer's Azurite on 10000-10002 or with a parallel run; Azurite prints the ports it got.
 * @example
 * const azurite = await startAzurite();
 * process.env.AzureWebJobsStorage = azurite.connectionString;
 * // ...
 * await azurite.stop();
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<RunningAzurite> {
  const req = createRequire(path.join(options.resolveFrom ?? process.cwd(), 'package.json'));
  let pkg: string;
  try {
    pkg = req.resolve('azurite/package.json');
  } catch {
    pkg = require.resolve('azurite/package.json');
  }
  const script = path.join(path.dirname(pkg), 'dist', 'src', 'azurite.js');
  const persist = options.location ? ['--location', options.location] : ['--inMemoryPersistence'];
  const p = options.ports ?? { blob: 0, queue: 0, table: 0 };
  const args = ['--silent', ...persist, '--skipApiVersionCheck', '--loose', '--disableTelemetry', '--blobPort', String(p.blob), '--queuePort', String(p.queue), '--tablePort', String(p.table)];
  // Its own process group (detached), so a terminal's Ctrl+C, which signals the whole foreground group, does not
  // stop it before the host has drained; and an IPC channel, whose end is the one signal to stop (see FOLLOW_PARENT).
  // cwd: Azurite writes nothing in memory mode, but keep any stray file out of the repository.
  const child = spawn(process.execPath, ['-e', FOLLOW_PARENT, script, ...args], {
    cwd: options.location ?? os.tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    windowsHide: true,
  });
  try {
    const ports = await waitForPorts(child, options.startTimeoutMs ?? 30_000);
    await Promise.all(SERVICES.map((s) => waitForConnect(ports[s])));
    const endpoint = (port: number): string => `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    return {
      connectionString:
        `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
        `BlobEndpoint=${endpoint(ports.Blob)};QueueEndpoint=${endpoint(ports.Queue)};TableEndpoint=${endpoint(ports.Table)};`,
      ports: { blob: ports.Blob, queue: ports.Queue, table: ports.Table },
      stop: () => stopChild(child),
    };
  } catch (err) {
    await stopChild(child);
    throw err;
  }
}

// Runs in the Azurite process before Azurite itself (`node -e FOLLOW_PARENT <azurite.js> <args>`; argv[1] is the
// script, as if started directly). When the IPC channel to the parent ends (the parent stops it, exits or is killed)
// it runs Azurite's own SIGTERM shutdown exactly once: servers close and the Table service saves its database. A
// second trigger (Azurite listens for SIGINT, SIGTERM and a 'shutdown' message, each calling close again) would
// throw "Cannot close server in status Closing" and kill the process before the save. Write errors on the pipes
// (the parent is gone) are ignored for the same reason. Before Azurite has started there is nothing to save.
const FOLLOW_PARENT = `
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
process.once('disconnect', () => {
  if (process.listenerCount('SIGTERM') === 0) process.exit(0);
  process.emit('SIGTERM', 'SIGTERM');
});
require(process.argv[1]);
`;

function waitForPorts(child: ChildProcess, timeoutMs: number): Promise<Record<Service, number>> {
  return new Promise((resolve, reject) => {
    const ports: Partial<Record<Service, number>> = {};
    let output = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new Error(`Azurite did not start: ${why}. Its output:\n${output.trim() || '(none)'}`));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const m of output.matchAll(LISTENING)) ports[m[1] as Service] = Number(m[2]);
      if (SERVICES.every((s) => ports[s] !== undefined)) {
        cleanup();
        resolve(ports as Record<Service, number>);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`it exited (code ${code}, signal ${signal})`);
    const onError = (err: Error): void => fail(err.message);
    const timer = setTimeout(() => fail(`no "successfully listening" line for every service within ${timeoutMs} ms`), timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      // Keep draining the pipes so Azurite never blocks on a full one.
      child.stdout?.resume();
      child.stderr?.resume();
    }
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Resolves once a TCP connection to the port succeeds (retrying for up to ~5 s). */
async function waitForConnect(port: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (await portOpen(port)) return;
    if (attempt >= 50) throw new Error(`Azurite reported port ${port} but does not accept connections on it.`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * True when something accepts TCP connections on 127.0.0.1:`port`.
 * @example if (await portOpen(10002)) console.log('Azurite is already running');
 */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** How long Azurite may take to close its servers and save its data before it is killed. */
const STOP_TIMEOUT_MS = 20_000;

/** Ends the IPC channel (Azurite then shuts down and saves, see FOLLOW_PARENT) and waits for it to exit; SIGKILL after STOP_TIMEOUT_MS. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

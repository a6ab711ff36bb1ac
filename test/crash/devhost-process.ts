// A devhost CLI process for crash tests: the game (or a fixture) on the table store, on a port the OS picks, in a
// process group of its own (so a test can kill everything it started), with its output kept for diagnostics.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/devhost/cli.js');

export interface HostProcess {
  child: ChildProcess;
  /** http://localhost:<port>, once it listens. */
  url: string;
  /** The last 64 KB of its stdout and stderr. */
  output(): string;
  /** Resolves when the process has exited: its exit code, or the signal that killed it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole group (no-op once it exited). */
  kill(): void;
}

const running = new Set<HostProcess>();
const KEEP = 64 * 1024;

/**
 * Starts `node dist/devhost/cli.js <appDir> --port 0 --storage table --task-hub <hub>` with `env` on top of this
 * process's environment, and resolves once it prints "Host started" (after recovery), with the URL it listens on.
 *
 * @example
 * const host = await startHostProcess({ taskHub: 'Crash1', env: { AzureWebJobsStorage: cs } });
 * await fetch(`${host.url}/api/commands`);
 */
export async function startHostProcess(o: { appDir?: string; taskHub: string; env: Record<string, string | undefined>; startTimeoutMs?: number }): Promise<HostProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
  for (const [k, v] of Object.entries(o.env)) if (v === undefined) delete env[k];
  const child = spawn(process.execPath, [CLI, o.appDir ?? ROOT, '--port', '0', '--storage', 'table', '--task-hub', o.taskHub], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 2 * KEEP) out = out.slice(-KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const proc: HostProcess = {
    child,
    url: '',
    output: () => out.slice(-KEEP),
    exited,
    kill: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  proc.url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`devhost printed no "Host started" within ${o.startTimeoutMs ?? 60_000} ms. Output:\n${proc.output()}`));
    }, o.startTimeoutMs ?? 60_000);
    const look = (): void => {
      const m = /Management API: (http:\/\/\S+?)\/runtime\/[\s\S]*Host started/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', look);
      resolve(m[1]);
    };
    child.stdout!.on('data', look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`devhost exited (code ${code}, signal ${signal}) before it started. Output:\n${proc.output()}`));
    });
  });
  return proc;
}

/**
 * Kills every host process this test file started and is still running (afterAll).
 * @example afterAll(killAllHostProcesses);
 */
export function killAllHostProcesses(): void {
  for (const p of running) p.kill();
}

// Ctrl+C in the terminal running `npm start` loses nothing: the app runs as `npm run serve` (what `npm start` runs
// after building) in a process group of its own, the whole group gets SIGINT one second after a write, as a
// terminal sends it, and after a new start the account, the pending delay and the messages are all there.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { APP_DIR, Player, SECRET } from './harness';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-azurite-'));
const running = new Set<ChildProcess>();

afterAll(() => {
  for (const child of running) signalGroup(child, 'SIGKILL');
  fs.rmSync(dataDir, { recursive: true, force: true });
});

interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves once every process of the group that holds its output (npm, the shell, the host) has exited. */
  closed: Promise<void>;
}

/** `npm run serve` on OS-chosen ports with Azurite's data in dataDir, as the leader of a new process group. */
async function serve(): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env, GAME_TOKEN_SECRET: SECRET, GAME_TABLE_PREFIX: 'stoptest' };
  delete env.AzureWebJobsStorage; // the test run's Azurite: this app starts its own, as npm start does
  const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
  const child = spawn(npm[0], [...npm.slice(1), 'run', 'serve', '--', '--port', '0', '--azurite-dir', dataDir, '--azurite-ports', '0,0,0'], {
    cwd: APP_DIR,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((resolve) =>
    child.once('close', () => {
      running.delete(child);
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Host started" within 60 s. Output:\n${out}`)), 60_000);
    const look = (): void => {
      const m = /Management API: (http:\/\/\S+?)\/runtime\/[\s\S]*Host started/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', look);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', look);
    void closed.then(() => reject(new Error(`exited before it started. Output:\n${out}`)));
  });
  return { child, url, output: () => out, closed };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    /* the group is gone */
  }
}

/** A Player needs only `fetch` of a host. */
function remote(url: string): TestHost {
  return { fetch: (p: string, init?: RequestInit) => fetch(url + p, init) } as unknown as TestHost;
}

it.skipIf(process.platform === 'win32')(
  'Ctrl+C to the whole process group one second after a write keeps the account, the delay and the messages',
  async () => {
    const first = await serve();
    const ana = await Player.join(remote(first.url), 'ana');
    await ana.type('remind 90 stretch your legs');
    const [confirmation] = await ana.read();
    expect(confirmation).toMatch(/^I will remind you in 90 seconds \(task \S+\)\.$/);
    // The write is acknowledged; Azurite's own autosave runs every 5 s, so a stop now is inside that window.
    await new Promise((r) => setTimeout(r, 1000));
    signalGroup(first.child, 'SIGINT');
    await first.closed; // npm itself dies of the SIGINT; what counts is that the host stopped in order
    expect(first.output()).toMatch(/SIGINT: stopping[\s\S]*Azurite stopped\.\nStopped\./);

    const second = await serve();
    try {
      const again = new Player(remote(second.url), 'ana');
      expect((await again.signIn()).status).toBe(200); // the account is there (201 would mean created anew)
      const tasks = await again.get('/api/tasks');
      expect(tasks.status).toBe(200);
      expect(tasks.body.tasks).toEqual([expect.objectContaining({ kind: 'delay', callback: 'remind', state: 'waiting' })]);
      expect(await again.read()).toEqual([confirmation]);
    } finally {
      signalGroup(second.child, 'SIGTERM');
      await second.closed;
      expect(second.output()).toMatch(/SIGTERM: stopping[\s\S]*Azurite stopped\.\nStopped\./);
    }
  },
  120_000,
);

// Kill -9 a devhost process (table store on Azurite) while 100 timers and 20 event waits are pending,
// start it again, and check every instance completes with the right output and no finished activity reruns.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAllHostProcesses, ROOT, startHostProcess } from '../crash/devhost-process';

const APP = path.join(ROOT, 'test/fixtures/restart-app');
const MGMT = '/runtime/webhooks/durabletask';

interface Status {
  instanceId: string;
  runtimeStatus: string;
  customStatus: unknown;
  output: unknown;
}

afterAll(killAllHostProcesses);

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function list(base: string): Promise<Status[]> {
  const res = await fetch(`${base}${MGMT}/instances/`);
  if (res.status !== 200) throw new Error(`list answered ${res.status}`);
  return (await res.json()) as Status[];
}

describe('a devhost process killed with SIGKILL', () => {
  it('resumes 100 timers and 20 event waits after a restart, without rerunning finished activities', async () => {
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'restart-')), 'runs.log');
    fs.writeFileSync(log, '');
    // Index rows say "idle" after 100 ms of quiet, so most waits are idle when the host is killed: the restarted host
    // leaves those in the store and loads each when its timer is due or its event comes (devhost/store/idle-hints.ts).
    const env = { AzureWebJobsStorage: inject('azuriteConnectionString'), RESTART_LOG: log, HUB: `Restart${Date.now()}`, DEVHOST_IDLE_AFTER_MS: '100' };

    // Ports come from the OS (--port 0): the restarted host listens on another one.
    let host = await startHostProcess({ appDir: APP, taskHub: env.HUB, env });
    let base = host.url;
    try {
      const post = (p: string, body?: unknown) =>
        fetch(base + p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      for (let i = 0; i < 100; i++) expect((await post(`${MGMT}/orchestrators/timerWait/timer-${i}`, { delayMs: 10_000 + i * 10 })).status).toBe(202);
      for (let i = 0; i < 20; i++) expect((await post(`${MGMT}/orchestrators/eventWait/event-${i}`)).status).toBe(202);
      await until('all 120 instances to wait', async () => {
        const all = await list(base);
        return all.length === 120 && all.every((s) => s.customStatus === 'waiting') ? true : undefined;
      });
      // Let the 'waiting' commits settle, then kill mid-wait: nothing in flight but timers and event waits.
      await new Promise((r) => setTimeout(r, 200));
      host.kill();
      await host.exited;
      expect(fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('after:'))).toEqual([]);

      host = await startHostProcess({ appDir: APP, taskHub: env.HUB, env });
      base = host.url;
      for (let i = 0; i < 20; i++) expect((await post(`${MGMT}/instances/event-${i}/raiseEvent/go`, i)).status).toBe(202);
      const done = await until('every instance to complete', async () => {
        const all = await list(base);
        return all.every((s) => s.runtimeStatus === 'Completed') ? all : undefined;
      }, 60_000);

      const byId = new Map(done.map((s) => [s.instanceId, s.output]));
      for (let i = 0; i < 100; i++) expect(byId.get(`timer-${i}`)).toBe(`timer done timer-${i}`);
      for (let i = 0; i < 20; i++) expect(byId.get(`event-${i}`)).toBe(`event ${i} event-${i}`);
      const runs = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
      const counts = new Map<string, number>();
      for (const r of runs) counts.set(r, (counts.get(r) ?? 0) + 1);
      expect([...counts.values()].every((n) => n === 1), 'an activity ran twice').toBe(true);
      expect(runs.length).toBe(240);
    } finally {
      host.kill();
    }
  }, 120_000);
});

// Recovery that reads only the index: instances that went idle (waiting on a timer or an event) are left in the table
// store at start-up and loaded when their timer is due or something reaches them; everything else is loaded at once.
// In-process hosts on the run's Azurite, virtual clock, the restart fixture (each orchestration marks a run of its
// activity before and after its wait, so a re-run would show).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { afterEach, describe, expect, it } from 'vitest';
import { Host } from '../../devhost/host';
import { TableStore } from '../../devhost/store/table';
import { azuriteConnectionString } from '../support/azurite';
import { ROOT } from '../crash/devhost-process';

const APP = path.join(ROOT, 'test/fixtures/restart-app');
const MGMT = '/runtime/webhooks/durabletask';
const DAY = 86_400_000;

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.close()));
});

/** A table store holding the hub's lease, as a host opens it; `loads` counts the instances it reads whole. */
async function leasedStore(taskHub: string): Promise<{ store: TableStore; loads: string[] }> {
  const store = new TableStore({ connectionString: azuriteConnectionString(), taskHub, idleAfterMs: 20 });
  await store.init();
  await store.acquireLease();
  const loads: string[] = [];
  const load = store.load.bind(store);
  store.load = (id) => {
    loads.push(id);
    return load(id);
  };
  return { store, loads };
}

async function start(taskHub: string, log: string): Promise<{ host: Host; loads: string[] }> {
  const { store, loads } = await leasedStore(taskHub);
  const host = await Host.start({ appDir: APP, port: 0, storage: store, clock: 'virtual', env: { RESTART_LOG: log } });
  hosts.push(host);
  return { host, loads };
}

/** Resolves once every listed index row says its instance is idle (the quiet time passed, the hints were raised). */
async function untilIdle(taskHub: string, ids: string[]): Promise<void> {
  const index = TableClient.fromConnectionString(azuriteConnectionString(), `${taskHub}Index`, { allowInsecureConnection: true });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const hints = await Promise.all(ids.map(async (id) => (await index.getEntity<{ w?: string }>(id.slice(0, 2), id)).w));
    if (hints.every((w) => !!w)) return;
    if (Date.now() > deadline) throw new Error(`the index rows still say ${JSON.stringify(hints)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('recovery of idle instances', () => {
  it('leaves instances waiting on a timer or an event in the store, and runs each exactly once when its time comes', async () => {
    const taskHub = `Idle${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'idle-')), 'runs.log');
    fs.writeFileSync(log, '');
    const first = await start(taskHub, log);
    const post = (h: Host, p: string, body?: unknown) => fetch(h.url + p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    for (let i = 1; i <= 3; i++) expect((await post(first.host, `${MGMT}/orchestrators/timerWait/timer-${i}`, { delayMs: i * DAY })).status).toBe(202);
    for (let i = 1; i <= 2; i++) expect((await post(first.host, `${MGMT}/orchestrators/eventWait/event-${i}`)).status).toBe(202);
    // A timer due within the quiet time stays "needs a host now": recovery loads it.
    expect((await post(first.host, `${MGMT}/orchestrators/timerWait/soon`, { delayMs: 10 })).status).toBe(202);
    await first.host.idle();
    await untilIdle(taskHub, ['timer-1', 'timer-2', 'timer-3', 'event-1', 'event-2']);
    await first.host.close();

    const second = await start(taskHub, log);
    // Only 'soon' was read at start-up; the others wait in the store, the timers behind one wake-up each.
    expect(second.loads).toEqual(['soon']);
    expect(second.host.engine.pendingTimers).toBe(3 + 1);
    const listed = (await (await fetch(second.host.url + `${MGMT}/instances/?runtimeStatus=Running`)).json()) as { instanceId: string }[];
    expect(listed.map((s) => s.instanceId).sort()).toEqual(['event-1', 'event-2', 'soon', 'timer-1', 'timer-2', 'timer-3']);
    // An idle instance is still unfinished: it cannot be purged, and starting its id again conflicts.
    expect((await fetch(second.host.url + `${MGMT}/instances/event-2`, { method: 'DELETE' })).status).toBe(409);
    expect((await post(second.host, `${MGMT}/orchestrators/eventWait/event-2`)).status).toBe(409);

    // A day later the first timer fires (the instance is read then), an event reaches another; the rest still wait.
    await second.host.advance('1d');
    expect((await post(second.host, `${MGMT}/instances/event-1/raiseEvent/go`, 7)).status).toBe(202);
    await second.host.idle();
    expect(await second.host.status('timer-1')).toMatchObject({ runtimeStatus: 'Completed', output: 'timer done timer-1' });
    expect(await second.host.status('event-1')).toMatchObject({ runtimeStatus: 'Completed', output: 'event 7 event-1' });
    expect(await second.host.status('timer-2')).toMatchObject({ runtimeStatus: 'Running' });
    expect(second.loads.filter((id) => id !== 'soon').sort()).toEqual(['event-1', 'timer-1']);

    for (const id of ['timer-2', 'timer-3']) expect(await second.host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: `timer done ${id}` });
    expect((await post(second.host, `${MGMT}/instances/event-2/raiseEvent/go`, 8)).status).toBe(202);
    expect(await second.host.waitFor('event-2')).toMatchObject({ runtimeStatus: 'Completed', output: 'event 8 event-2' });
    expect(await second.host.waitFor('soon')).toMatchObject({ runtimeStatus: 'Completed' });
    const runs = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(runs.sort()).toEqual(['timer-1', 'timer-2', 'timer-3', 'event-1', 'event-2', 'soon'].flatMap((id) => [`after:${id}`, `before:${id}`]).sort());
  });
});

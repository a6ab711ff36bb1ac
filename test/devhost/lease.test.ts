// One writer per task hub on the table store: the lease row, a second host refused with a message naming the
// holder and the hub, a lease its holder left behind taken over (at once on this machine, else after it expires),
// and a host that lost its lease writing nothing. The lease's clock and sleep are injected: no test waits in real time.
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { describe, expect, it, vi } from 'vitest';
import { Host } from '../../devhost/host';
import { HubLease, LEASE_DURATION_MS } from '../../devhost/store/lease';
import { TableStore } from '../../devhost/store/table';
import { azuriteConnectionString } from '../support/azurite';
import { fixture, startFixture } from './support';

function hub(): string {
  return `L${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** The index table of a fresh hub (where the lease row lives), created. */
async function indexTable(taskHub = hub()): Promise<{ taskHub: string; client: TableClient }> {
  const store = new TableStore({ connectionString: azuriteConnectionString(), taskHub });
  await store.init();
  return { taskHub, client: TableClient.fromConnectionString(azuriteConnectionString(), store.indexTableName, { allowInsecureConnection: true }) };
}

/** A clock for leases: `sleep` moves it instead of waiting. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

describe('task hub lease', () => {
  it('a second holder on this machine is refused at once while the first runs, naming the holder and the hub', async () => {
    const { taskHub, client } = await indexTable();
    const clock = fakeClock();
    const first = new HubLease(client, { taskHub, pid: 4242, host: 'box', pidAlive: () => true, now: clock.now, sleep: clock.sleep });
    await first.acquire();
    const second = new HubLease(client, { taskHub, pid: 5151, host: 'box', pidAlive: () => true, now: clock.now, sleep: clock.sleep });
    const err = await second.acquire().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LeaseHeld' });
    expect((err as Error).message).toMatch(new RegExp(`^Task hub '${taskHub}' is in use by devhost pid 4242 on this machine .*--task-hub`));
    // Released: the next one starts at once.
    await first.release();
    await second.acquire();
    second.check();
    await second.release();
  });

  it('a lease left by a killed process on this machine is taken at once; an expired one too', async () => {
    const { taskHub, client } = await indexTable();
    const clock = fakeClock();
    const dead = new HubLease(client, { taskHub, pid: 777, host: 'box', now: clock.now, sleep: clock.sleep });
    await dead.acquire(); // never released: as if SIGKILLed
    const next = new HubLease(client, { taskHub, pid: 888, host: 'box', pidAlive: (pid) => pid !== 777, now: clock.now, sleep: clock.sleep });
    const t0 = clock.t;
    await next.acquire();
    expect(clock.t).toBe(t0); // no waiting
    // pid reused by something else (alive), but the lease has expired: taken as well.
    const clock2 = fakeClock(clock.t + LEASE_DURATION_MS + 1);
    const third = new HubLease(client, { taskHub, pid: 999, host: 'box', pidAlive: () => true, now: clock2.now, sleep: clock2.sleep });
    await third.acquire();
    await third.release();
  });

  it('a holder on another machine: refused if it renews, taken over after one silent lease duration', async () => {
    const { taskHub, client } = await indexTable();
    const clock = fakeClock();
    const remote = new HubLease(client, { taskHub, pid: 1, host: 'other-box', now: clock.now, sleep: clock.sleep });
    await remote.acquire();
    // It keeps renewing while we watch: refused.
    const watching = { ...clock, sleep: async (ms: number) => { clock.t += ms; await remote.renew(); } };
    const refused = new HubLease(client, { taskHub, pid: 2, host: 'box', now: clock.now, sleep: watching.sleep });
    await expect(refused.acquire()).rejects.toThrow(/in use by devhost pid 1 on 'other-box'/);
    // It goes silent (stalled or crashed): taken after one lease duration without change, and it finds out.
    let lostWhy = '';
    const silent = new HubLease(client, { taskHub, pid: 3, host: 'third-box', now: clock.now, sleep: clock.sleep, onLost: (why) => (lostWhy = why) });
    await remote.release();
    await silent.acquire();
    const start = clock.t;
    const taker = new HubLease(client, { taskHub, pid: 4, host: 'box', now: clock.now, sleep: clock.sleep });
    await taker.acquire();
    expect(clock.t - start).toBeGreaterThanOrEqual(LEASE_DURATION_MS);
    await silent.renew();
    expect(lostWhy).toMatch(new RegExp(`lost its lease on task hub '${taskHub}' to devhost pid 4 on 'box'`));
    expect(() => silent.check()).toThrow(/lost its lease/);
    await taker.release();
  });

  it('two hosts on the same storage and hub: the second refuses to start and names the first; the first keeps working', async () => {
    const taskHub = hub();
    const first = await startFixture('durable-basics', 'table', { taskHub });
    try {
      const err = await Host.start({ appDir: fixture('durable-basics'), port: 0, storage: 'table', clock: 'virtual', taskHub }).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(new RegExp(`^Task hub '${taskHub}' is in use by devhost pid ${process.pid} on this machine`));
      const id = await first.client().startNew('hello');
      expect((await first.waitFor(id)).runtimeStatus).toBe('Completed');
    } finally {
      await first.dispose();
    }
    // Closed: the lease is given back and the next host starts at once.
    const again = await startFixture('durable-basics', 'table', { taskHub });
    await again.dispose();
  });

  it('a renewal that met a storage outage is tried again every second: writes resume within a second of storage coming back', async () => {
    vi.useFakeTimers();
    try {
      let down = false;
      let renewals = 0;
      let current = 'e0';
      const client = {
        getEntity: () => Promise.reject(Object.assign(new Error('not found'), { statusCode: 404 })),
        createEntity: () => Promise.resolve({ etag: current }),
        updateEntity: (_e: unknown, _mode: unknown, o: { etag: string }) => {
          renewals++;
          if (down) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:10002'), { code: 'ECONNREFUSED' }));
          if (o.etag !== current) return Promise.reject(Object.assign(new Error('precondition failed'), { statusCode: 412 }));
          current = `e${renewals}`;
          return Promise.resolve({ etag: current });
        },
        deleteEntity: () => Promise.resolve({}),
      } as unknown as TableClient;
      const lease = new HubLease(client, { taskHub: 'Hub', host: 'box', pid: 1, onLost: (why) => expect.unreachable(why) });
      await lease.acquire();
      down = true;
      await vi.advanceTimersByTimeAsync(LEASE_DURATION_MS);
      expect(renewals).toBeGreaterThanOrEqual(15); // at the first tick, then every second
      expect(() => lease.check()).toThrow(/not renewed in time/);
      down = false;
      await vi.advanceTimersByTimeAsync(1000);
      expect(() => lease.check()).not.toThrow();
      await lease.release();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a store that lost its lease writes nothing', async () => {
    const { taskHub } = await indexTable();
    const clock = fakeClock();
    const a = new TableStore({ connectionString: azuriteConnectionString(), taskHub });
    await a.acquireLease({ now: clock.now, sleep: clock.sleep, host: 'box', pid: 11, pidAlive: () => false });
    clock.t += LEASE_DURATION_MS; // not renewed in time
    const meta = { instanceId: 'x', name: 'hello', executionId: 'e', status: 'Pending' as const, input: null, output: null, customStatus: null, createdTime: new Date(clock.t).toISOString(), lastUpdatedTime: new Date(clock.t).toISOString(), engine: {} };
    await expect(a.create(meta, { id: '1', event: { EventType: 0, EventId: -1, Timestamp: meta.createdTime } })).rejects.toMatchObject({ code: 'LeaseLost' });
    expect(await a.getMeta('x')).toBeUndefined();
    await a.close();
  });
});

// Smoke test of the devhost on a tiny app (test/fixtures/smoke-app): HTTP starter, activities, a 10-day timer, an
// event, retries; plus start-up failure, change waiters and app settings.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestHost } from './index';

const fixture = (name: string): string => path.resolve(__dirname, '../test/fixtures', name);

describe('devhost smoke', () => {
  it('runs an orchestration end to end in virtual time', async () => {
    const t = await startTestHost({ appDir: fixture('smoke-app') });
    try {
      const res = await t.fetch('/api/start/seq', { method: 'POST' });
      expect(res.status).toBe(202);
      const body = await res.json();
      const start = t.now().getTime();
      await t.idle();
      await t.advance('10d');
      await t.client().raiseEvent(body.id, 'go', { ok: 1 });
      const s = await t.waitFor(body.id);
      expect(s.runtimeStatus).toBe('Completed');
      expect(s.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', { ok: 1 }, 3]);
      expect(t.now().getTime() - start).toBeGreaterThanOrEqual(10 * 86400000);
    } finally {
      await t.dispose();
    }
  });
});

describe('Host.start failing after it listens', () => {
  it('releases the port when recovering instances fails (store outage at start-up)', async () => {
    const { Host } = await import('./host');
    const { MemoryStore } = await import('./store/memory');
    const net = await import('node:net');
    const free = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const store = new MemoryStore();
    store.activePage = () => Promise.reject(new Error('store unreachable'));
    const appDir = fixture('durable-basics');
    await expect(Host.start({ appDir, port: free, storage: store, clock: 'virtual' })).rejects.toThrow(/store unreachable/);
    const again = net.createServer();
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(free, '127.0.0.1', () => resolve());
    });
    await new Promise((r) => again.close(r));
  });
});

describe('waiting for a change', () => {
  it('polling loops (waitFor, ?timeout, the CLI skip loop) do not pile up one change waiter per poll', async () => {
    const t = await startTestHost({ appDir: fixture('durable-basics') });
    try {
      const id = await t.client().startNew('waiter');
      await t.idle();
      await expect(t.waitFor(id, { timeoutMs: 1200 })).rejects.toThrow(/still Running/);
      expect(t.host.engine.changeWaiterCount).toBeLessThanOrEqual(1);
    } finally {
      await t.dispose();
    }
  });
});

describe('app settings', () => {
  it('are in process.env while the host runs and put back as they were when it closes (or fails to start)', async () => {
    process.env.DEVHOST_TEST_KEEP = 'before';
    delete process.env.DEVHOST_TEST_NEW;
    const t = await startTestHost({ appDir: fixture('durable-basics'), env: { DEVHOST_TEST_KEEP: 'during', DEVHOST_TEST_NEW: 'x' } });
    expect([process.env.DEVHOST_TEST_KEEP, process.env.DEVHOST_TEST_NEW]).toEqual(['during', 'x']);
    await t.dispose();
    expect([process.env.DEVHOST_TEST_KEEP, process.env.DEVHOST_TEST_NEW]).toEqual(['before', undefined]);
    await expect(startTestHost({ appDir: fixture('no-such-app'), env: { DEVHOST_TEST_NEW: 'y' } })).rejects.toThrow(/No package.json/);
    expect(process.env.DEVHOST_TEST_NEW).toBeUndefined();
    delete process.env.DEVHOST_TEST_KEEP;
  });
});

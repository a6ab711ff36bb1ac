// Host.close() lets the work already running finish before it closes the store: an episode whose commit is in
// flight is not cut off (a stop leaves the state a finished episode would).
import path from 'node:path';
import { expect, it } from 'vitest';
import { Host, MemoryStore, type Store } from '../../devhost';

const APP = path.resolve(__dirname, '../fixtures/durable-basics');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('close() waits for an episode whose commit is in flight, then closes the store', async () => {
  const inner = new MemoryStore();
  let started = 0;
  let finished = 0;
  let finishedAtClose = -1;
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'commit') {
        return async (...args: Parameters<Store['commit']>) => {
          started++;
          await sleep(300);
          await target.commit(...args);
          finished++;
        };
      }
      if (key === 'close') {
        return async () => {
          finishedAtClose = finished;
          await target.close();
        };
      }
      const value = Reflect.get(target, key, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as Store;
  const invoked: string[] = [];
  const host = await Host.start({ appDir: APP, port: 0, storage: store, clock: 'virtual', onInvocation: (i) => invoked.push(i.functionName) });
  const res = await fetch(`${host.url}/runtime/webhooks/durabletask/orchestrators/hello`, { method: 'POST' });
  expect(res.status).toBe(202);
  for (let i = 0; i < 100 && started === 0; i++) await sleep(10);
  expect(started).toBeGreaterThan(0);
  await host.close();
  expect(finishedAtClose).toBe(started);
  // The episode scheduled an activity; a stopping host leaves it for the next start (recovery) instead of
  // running it and dropping its result.
  expect(invoked).not.toContain('sayHello');
});

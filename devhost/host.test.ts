// Smoke test of the devhost on a tiny inline app: HTTP starter, activities, a 10-day timer, an event, retries.
import { describe, expect, it } from 'vitest';
import { startTestHost } from './index';

describe('devhost smoke', () => {
  it('runs an orchestration end to end in virtual time', async () => {
    const t = await startTestHost({ appDir: '/tmp/smokeapp' });
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

// The README's test-kit example, run as written, so the documentation cannot drift from the kit.
import path from 'node:path';
import { expect, it } from 'vitest';
import { startTestHost } from './index';

it('README example: a 72-hour timeout in virtual time, and an HTTP starter', async () => {
  const host = await startTestHost({ appDir: path.resolve(__dirname, '../test/fixtures/durable-basics'), storage: 'memory', clock: 'virtual' });
  try {
    const client = host.client();
    const id = await client.startNew('approval');
    await host.advance('72h');
    const status = await host.waitFor(id);
    expect(status.output).toMatchObject({ outcome: 'timed out' });
    const res = await host.fetch('/api/orchestrators/hello', { method: 'POST' });
    expect(res.status).toBe(202);
  } finally {
    await host.dispose();
  }
});

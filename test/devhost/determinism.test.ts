// Non-determinism on both stores: an orchestrator changed between episodes (activity 'A' recorded, 'B' now scheduled
// at the same position) fails the instance with a DTFx-style message naming both actions; unchanged code completes.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { STORES, historyOf, postJson, startFixture } from './support';

describe.each(STORES)('determinism on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('determinism-app', storage);
    await setFlag(false);
  });
  afterEach(async () => {
    await setFlag(false);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  async function setFlag(useB: boolean): Promise<void> {
    const res = await postJson(host, '/api/flag', { useB });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ useB });
  }

  it('unchanged code replays and completes', async () => {
    const client = host.client();
    const id = await client.startNew('switchable');
    await host.idle();
    await client.raiseEvent(id, 'Go', 'now');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ first: 'ran A', go: 'now' });
  });

  it("scheduling 'B' where 'A' was recorded fails the instance naming both actions", async () => {
    const client = host.client();
    const id = await client.startNew('switchable');
    await host.idle();
    const waiting = await client.getStatus(id);
    expect(waiting.runtimeStatus).toBe('Running');

    await setFlag(true);
    await client.raiseEvent(id, 'Go', 'after the change');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    const output = String(done.output);
    expect(output).toContain('Non-Deterministic');
    expect(output).toContain("CallActivity 'A'");
    expect(output).toContain("CallActivity 'B'");

    // The changed code's activity never ran.
    const history = await historyOf(host, id);
    expect(history.some((e) => e.FunctionName === 'B')).toBe(false);
    expect(history.filter((e) => e.EventType === 'TaskCompleted' && e.FunctionName === 'A')).toHaveLength(1);
  });
});

// Rewind of failed instances as the extension's Azure Storage provider does it: the failed calls' history becomes
// GenericEvent, the instance is Pending until it runs, and only what failed runs again (failed sub-orchestrations
// are rewound with their parent). Codes: 202 Failed, 404 unknown, 410 Completed/Terminated/Canceled, and 409 (the
// extension: 500) for an instance that has not failed. Each scenario on both stores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { EVENT_TYPE_NAMES } from '../../devhost/durable/history';
import { expectHostError, historyOf, MGMT, postJson, STORES, startFixture, uid } from './support';

describe.each(STORES)('rewind on the %s store', (storage) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('rewind-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  const sw = async (key: string, op: 'fix' | 'close' | 'open' | 'runs'): Promise<Record<string, number>> => {
    const res = await host.fetch(`/api/switches/${encodeURIComponent(key)}/${op}`, { method: op === 'runs' ? 'GET' : 'POST' });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, number>;
  };
  const rewind = (id: string, reason = 'fixed') => host.fetch(`${MGMT}/instances/${encodeURIComponent(id)}/rewind?reason=${encodeURIComponent(reason)}`, { method: 'POST' });
  async function failed(name: string, id = uid(name)): Promise<string> {
    await host.client().startNew(name, { instanceId: id });
    const s = await host.waitFor(id);
    expect(s.runtimeStatus, JSON.stringify(s)).toBe('Failed');
    return id;
  }
  async function storedTypes(id: string): Promise<string[]> {
    return ((await host.host.engine.getHistory(id)) ?? []).map((e) => EVENT_TYPE_NAMES[e.EventType]);
  }

  it('a rewound failed orchestration runs only its failed activity again, is Pending until it runs, then completes', async () => {
    const id = uid('seq');
    await sw(id, 'close'); // holds 'flaky' until opened, so the rewound instance can be seen before it runs
    await host.client().startNew('sequence', { instanceId: id });
    await sw(id, 'open');
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Failed', output: expect.stringContaining(`flaky is broken for ${id}`) });
    await sw(id, 'fix');
    await sw(id, 'close');

    const res = await rewind(id, 'the flaky service is back');
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('');
    expect(await host.host.status(id)).toMatchObject({ runtimeStatus: 'Pending' });
    const types = await storedTypes(id);
    expect(types).not.toContain('TaskFailed');
    expect(types).not.toContain('ExecutionCompleted');
    expect(types.filter((t) => t === 'GenericEvent')).toHaveLength(4); // TaskScheduled, TaskFailed, ExecutionCompleted, the rewind itself

    await sw(id, 'open');
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: ['one done', 'flaky ok', 'two done'] });
    expect(await sw(id, 'runs')).toEqual({ one: 1, flaky: 2, two: 1 });
    const history = await historyOf(host, id);
    expect(history.filter((e) => e.EventType === 'TaskCompleted').map((e) => e.FunctionName)).toEqual(['step', 'flaky', 'step']);
    expect(history.find((e) => e.EventType === 'GenericEvent' && e.Data === 'the flaky service is back')).toBeDefined();
  });

  it('the durable client rewinds through the RPC endpoint; a second failure can be rewound again', async () => {
    const id = await failed('sequence');
    await host.client().rewind(id, 'try again');
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Failed', output: expect.stringContaining('flaky is broken') });
    await sw(id, 'fix');
    await (host.client().rewind as (id: string, reason: string) => Promise<void>)(id, 'now fixed');
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: ['one done', 'flaky ok', 'two done'] });
    expect(await sw(id, 'runs')).toEqual({ one: 1, flaky: 3, two: 1 });
  });

  it('a failed sub-orchestration is rewound through its parent: the child re-runs its failed activity and the parent resumes', async () => {
    const id = await failed('parent');
    const child = `${id}:child`;
    expect(await host.host.status(child)).toMatchObject({ runtimeStatus: 'Failed' });
    await sw(id, 'fix');
    await sw(id, 'close');
    expect((await rewind(id)).status).toBe(202);
    expect(await host.host.status(id)).toMatchObject({ runtimeStatus: 'Pending' });
    expect(await host.host.status(child)).toMatchObject({ runtimeStatus: 'Pending' });
    expect(await storedTypes(id)).not.toContain('SubOrchestrationInstanceFailed');
    await sw(id, 'open');
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: { child: ['one done', 'flaky ok', 'two done'], after: 'after done' } });
    expect(await host.host.status(child)).toMatchObject({ runtimeStatus: 'Completed' });
    expect(await sw(id, 'runs')).toEqual({ one: 1, flaky: 2, two: 1, after: 1 });
  });

  it('a retried call that failed runs its last attempt again, and the work after it gets its own result', async () => {
    const id = await failed('retrying');
    expect(await sw(id, 'runs')).toEqual({ flaky: 2 });
    expect((await rewind(id)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Failed', output: expect.stringContaining('flaky is broken') });
    expect(await sw(id, 'runs')).toEqual({ flaky: 3 });
    await sw(id, 'fix');
    expect((await rewind(id)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: ['flaky ok', 'after done'] });
    expect(await sw(id, 'runs')).toEqual({ flaky: 4, after: 1 });
  });

  it('a failure in orchestrator code: the rewound instance runs its code again', async () => {
    const id = await failed('buggy');
    await sw(id, 'fix');
    expect((await rewind(id)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'one done' });
    expect(await sw(id, 'runs')).toEqual({ one: 1 });
  });

  it('a call still running when the fan-out failed runs again after the rewind (its late result was dropped)', async () => {
    const id = uid('fan');
    await sw(`${id}:slow`, 'close');
    await host.client().startNew('fanout', { instanceId: id });
    while ((await host.host.status(id))?.runtimeStatus !== 'Failed') await host.host.engine.nextChange(250); // 'slow' still runs
    await sw(`${id}:slow`, 'open');
    await host.idle();
    await sw(id, 'fix');
    expect((await rewind(id)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: ['flaky ok', 'slow ok'] });
    expect(await sw(id, 'runs')).toEqual({ flaky: 2, slow: 2 });
  });

  it('answers 404 for an unknown instance, 410 for a finished one, 409 for one that has not failed, as JSON errors', async () => {
    await expectHostError(await rewind('nobody-here'), 404, ["'nobody-here'"]);

    const done = uid('done');
    await sw(done, 'fix');
    await host.client().startNew('sequence', { instanceId: done });
    expect(await host.waitFor(done)).toMatchObject({ runtimeStatus: 'Completed' });
    await expectHostError(await rewind(done), 410, [/is Completed; only a Failed instance can be rewound/]);

    const running = uid('running');
    await sw(running, 'close');
    await host.client().startNew('sequence', { instanceId: running });
    await expectHostError(await rewind(running), 409, [/is (Pending|Running); only a Failed instance can be rewound/]);
    await expect((host.client().rewind as (id: string, reason: string) => Promise<void>)(running, 'x')).rejects.toThrow(/409/);
    expect((await postJson(host, `${MGMT}/instances/${running}/terminate?reason=stop`)).status).toBe(202);
    await sw(running, 'open');
    expect(await host.waitFor(running)).toMatchObject({ runtimeStatus: 'Terminated' });
    await expectHostError(await rewind(running), 410, [/is Terminated/]);

    await expectHostError(await host.fetch(`${MGMT}/instances/${running}/rewind`), 405);
    await expectHostError(await host.fetch(`${MGMT}/instances/${running}/rewind/more`, { method: 'POST' }), 404, [/rewind\?reason=/]);
    await expectHostError(await host.fetch(`${MGMT}/instances/%40bad/rewind`, { method: 'POST' }), 400, [/reserved for entities/]);
  });
});

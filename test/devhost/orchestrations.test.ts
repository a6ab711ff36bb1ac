// Every Durable action type of the durable-basics fixture, driven by a real DurableClient (host.client()),
// on both stores, with the virtual clock: outputs, statuses and failure messages a user sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { DAY, HOUR, STORES, historyOf, msBetween, startFixture, uid } from './support';

describe.each(STORES)('orchestrations on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  async function attemptsOf(key: string): Promise<number> {
    const res = await host.fetch(`/api/attempts/${key}`);
    expect(res.status).toBe(200);
    return ((await res.json()) as { attempts: number }).attempts;
  }

  it('runs the hello sequence: three activities in order', async () => {
    const client = host.client();
    const id = await client.startNew('hello');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);

    const status = await client.getStatus(id);
    expect(status.name).toBe('hello');
    expect(status.instanceId).toBe(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
  });

  it('starts with the instance id and input the client gives', async () => {
    const client = host.client();
    const id = uid('given-id');
    expect(await client.startNew('fanOutFanIn', { instanceId: id, input: 3 })).toBe(id);
    const done = await host.waitFor(id);
    expect(done.input).toBe(3);
    expect(done.output).toEqual({ results: [2, 4, 6], sum: 12 });
  });

  it('fans out over 20 activities and fans in their results in order', async () => {
    const id = await host.client().startNew('fanOutFanIn', { input: 20 });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ results: Array.from({ length: 20 }, (_, i) => 2 * (i + 1)), sum: 420 });
    const history = await historyOf(host, id);
    expect(history.filter((e) => e.EventType === 'TaskCompleted' && e.FunctionName === 'double')).toHaveLength(20);
  });

  it('retries an activity until it succeeds on the 3rd attempt, waiting between attempts', async () => {
    const key = uid(`retry-${storage}`);
    const before = host.now().getTime();
    const id = await host.client().startNew('retryThenSucceed', { input: { key } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe(`'${key}' succeeded on attempt 3`);
    expect(await attemptsOf(key)).toBe(3);
    // Two failed attempts, each followed by a 1 s retry delay on the virtual clock.
    expect(host.now().getTime() - before).toBeGreaterThanOrEqual(2000);
    const history = await historyOf(host, id);
    expect(history.filter((e) => e.EventType === 'TaskFailed')).toHaveLength(2);
    expect(history.filter((e) => e.EventType === 'TaskCompleted')).toHaveLength(1);
  });

  it('fails the orchestration when an activity exhausts its retries, after exactly maxNumberOfAttempts', async () => {
    const key = uid(`exhaust-${storage}`);
    const id = await host.client().startNew('retryExhausted', { input: { key } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toMatch(/^Orchestrator function 'retryExhausted' failed: /);
    expect(String(done.output)).toContain(`Activity function 'flaky' failed: flaky '${key}': attempt 3 failed`);
    expect(await attemptsOf(key)).toBe(3);
  });

  it('retry delays follow backoffCoefficient and are capped at maxRetryInterval (1 s, 2 s, 3 s)', async () => {
    const key = uid(`backoff-${storage}`);
    const before = host.now().getTime();
    const id = await host.client().startNew('retryBackoff', { input: { key } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toContain(`flaky '${key}': attempt 4 failed`);
    expect(await attemptsOf(key)).toBe(4);
    const elapsed = host.now().getTime() - before;
    expect(elapsed).toBeGreaterThanOrEqual(6000); // 1 + 2 + 3 (4 s capped to 3 s)
    expect(elapsed).toBeLessThan(7000);
  });

  it('retryTimeout stops retrying once it expired, and the orchestration fails instead of hanging', async () => {
    const key = uid(`retrytimeout-${storage}`);
    const before = host.now().getTime();
    const id = await host.client().startNew('retryTimeout', { input: { key } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toMatch(/^Orchestrator function 'retryTimeout' failed: Activity function 'flaky' failed/);
    // Attempts at 0, 1, 2 and 3 s; after the one at 3 s the 2.5 s timeout has expired (DTFx RetryInterceptor).
    expect(await attemptsOf(key)).toBe(4);
    expect(host.now().getTime() - before).toBeLessThan(4000);
  });

  it('human interaction: the Approval event wins the race and the 72h timeout is cancelled', async () => {
    const client = host.client();
    const id = await client.startNew('approval');
    await host.idle();
    const waiting = await client.getStatus(id);
    expect(waiting.runtimeStatus).toBe('Running');
    expect(waiting.customStatus).toBe('waiting for approval');

    await client.raiseEvent(id, 'Approval', { by: 'alice' });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toMatchObject({ outcome: 'approved', approval: { by: 'alice' } });
    const startedAt = (done.output as { startedAt: string }).startedAt;
    expect(host.now().getTime() - Date.parse(startedAt)).toBeLessThan(72 * HOUR);

    // The cancelled timer coming due changes nothing.
    await host.advance('73h');
    const after = await client.getStatus(id);
    expect(after.runtimeStatus).toBe('Completed');
    expect(after.output).toEqual(done.output);
  });

  it('human interaction: with no approval the 72h timeout fires, never early, in milliseconds of real time', async () => {
    const client = host.client();
    const realStart = Date.now();
    const id = await client.startNew('approval');
    await host.idle();
    const before = host.now().getTime();

    await host.advance('71h');
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');

    await host.advance('1h');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { outcome: string; startedAt: string; at: string };
    expect(output.outcome).toBe('timed out');
    expect(msBetween(output.startedAt, output.at)).toBeGreaterThanOrEqual(72 * HOUR);
    expect(host.now().getTime() - before).toBeGreaterThanOrEqual(72 * HOUR);
    expect(Date.now() - realStart).toBeLessThan(10_000);
  });

  it('a 10-day timer (longer than the 6-day maximum) fires after 10 virtual days, not before', async () => {
    const client = host.client();
    const realStart = Date.now();
    const before = host.now().getTime();
    const id = await client.startNew('tenDayTimer');
    await host.idle();

    await host.advance('9d');
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');

    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { startedAt: string; firedAt: string };
    expect(msBetween(output.startedAt, output.firedAt)).toBeGreaterThanOrEqual(10 * DAY);
    expect(host.now().getTime() - before).toBeGreaterThanOrEqual(10 * DAY);
    expect(Date.now() - realStart).toBeLessThan(10_000);
  });

  it.each([
    ['exactly the 6-day maximum short timer', 6 * DAY],
    ['1 ms over the 6-day maximum', 6 * DAY + 1],
    ['zero', 0],
    ['in the past', -HOUR],
  ])('a timer %s fires, never early', async (_what, ms) => {
    const id = await host.client().startNew('sleepFor', { input: ms });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { startedAt: string; firedAt: string };
    expect(msBetween(output.startedAt, output.firedAt)).toBeGreaterThanOrEqual(Math.max(ms, 0));
  });

  it('runs sub-orchestrations with an explicit and with a default child id', async () => {
    const client = host.client();
    const id = uid('parent');
    await client.startNew('parentOfHello', { instanceId: id });
    const done = await host.waitFor(id);
    const hello = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ explicitChild: hello, defaultChild: hello });

    const child = await client.getStatus(`${id}-child`);
    expect(child.name).toBe('hello');
    expect(child.runtimeStatus).toBe('Completed');
    expect(child.output).toEqual(hello);
  });

  it('a failing sub-orchestration surfaces in the parent, which can catch it', async () => {
    const id = await host.client().startNew('parentCatchesChildFailure');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect((done.output as { caught: string }).caught).toContain(
      "Orchestrator function 'throws' failed: orchestrator exploded: from a parent",
    );
  });

  it('an uncaught sub-orchestration failure fails the parent', async () => {
    const id = await host.client().startNew('parentOfFailingChild');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toMatch(/^Orchestrator function 'parentOfFailingChild' failed: /);
    expect(String(done.output)).toContain('orchestrator exploded: uncaught in parent');
  });

  it('callSubOrchestratorWithRetry runs the child again until it succeeds', async () => {
    const key = uid(`subretry-${storage}`);
    const id = await host.client().startNew('parentRetriesChild', { input: { key } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toBe(`'${key}' succeeded on attempt 2`);
    expect(await attemptsOf(key)).toBe(2);
  });

  it('callSubOrchestratorWithRetry fails the parent after the last attempt, having run the child that often', async () => {
    const client = host.client();
    const id = await client.startNew('parentRetryExhausted');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toMatch(/^Orchestrator function 'parentRetryExhausted' failed: /);
    expect(String(done.output)).toContain('orchestrator exploded: every attempt');

    const children = (await client.getStatusAll()).filter((s) => s.name === 'throws' && s.input === 'every attempt');
    expect(children).toHaveLength(2);
    expect(children.map((c) => c.runtimeStatus)).toEqual(['Failed', 'Failed']);
  });

  it('continue-as-new counts to N with a fresh history and the latest input', async () => {
    const id = await host.client().startNew('counter', { input: { target: 5 } });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ final: 5, greeting: 'Hello count 5!' });
    expect(done.input).toEqual({ target: 5, count: 5 });

    const history = await historyOf(host, id);
    expect(history.filter((e) => e.EventType === 'ExecutionStarted')).toHaveLength(1);
    expect(history.filter((e) => e.EventType === 'TaskCompleted')).toHaveLength(1);
  });

  it('terminate: a waiting instance becomes Terminated with the reason as output; later events change nothing', async () => {
    const client = host.client();
    const id = await client.startNew('waiter');
    await host.idle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');

    await client.terminate(id, 'stopped by test');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Terminated');
    expect(done.output).toBe('stopped by test');

    await client.raiseEvent(id, 'Proceed', 'too late'); // 410: the client resolves
    await host.idle();
    const after = await client.getStatus(id);
    expect(after.runtimeStatus).toBe('Terminated');
    expect(after.output).toBe('stopped by test');
  });

  it('terminate: a terminated instance stays terminated when its pending timer comes due', async () => {
    const client = host.client();
    const id = await client.startNew('sleeper');
    await host.idle();
    await client.terminate(id, 'no sleep');
    await host.waitFor(id);
    await host.advance('2d');
    const after = await client.getStatus(id);
    expect(after.runtimeStatus).toBe('Terminated');
    expect(after.output).toBe('no sleep');
  });

  it('suspend/resume: events raised while suspended are buffered and applied after resume', async () => {
    const client = host.client();
    const id = await client.startNew('waiter');
    await host.idle();

    await client.suspend(id, 'pausing');
    await host.idle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Suspended');

    await client.raiseEvent(id, 'Proceed', 'sent while suspended');
    await host.idle();
    const suspended = await client.getStatus(id);
    expect(suspended.runtimeStatus).toBe('Suspended');
    expect(suspended.output).toBeNull();

    await client.resume(id, 'go on');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual({ proceededWith: 'sent while suspended' });
  });

  it('terminate: a suspended instance can be terminated', async () => {
    const client = host.client();
    const id = await client.startNew('waiter');
    await host.idle();
    await client.suspend(id, 'hold');
    await host.idle();
    await client.terminate(id, 'terminated while suspended');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Terminated');
    expect(done.output).toBe('terminated while suspended');
  });

  it('an event raised right after startNew, before the first episode ran, is kept', async () => {
    const client = host.client();
    const id = await client.startNew('waiter');
    await client.raiseEvent(id, 'Proceed', 'early');
    expect((await host.waitFor(id)).output).toEqual({ proceededWith: 'early' });
  });

  it('events raised before they are awaited are buffered by name', async () => {
    const client = host.client();
    const id = await client.startNew('twoEvents');
    await host.idle();
    await client.raiseEvent(id, 'Second', 'b');
    await host.idle();
    expect((await client.getStatus(id)).runtimeStatus).toBe('Running');
    await client.raiseEvent(id, 'First', 'a');
    const done = await host.waitFor(id);
    expect(done.output).toEqual(['a', 'b']);
  });

  it('custom status is visible at each stage', async () => {
    const client = host.client();
    const id = await client.startNew('customStatus');
    await host.idle();
    expect((await client.getStatus(id)).customStatus).toBe('waiting for go');

    await client.raiseEvent(id, 'Go', null);
    await host.idle();
    const middle = await client.getStatus(id);
    expect(middle.runtimeStatus).toBe('Running');
    expect(middle.customStatus).toEqual({ stage: 'waiting for finish', greeting: 'Hello status!' });

    await client.raiseEvent(id, 'Finish', null);
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.customStatus).toEqual({ stage: 'done' });
    expect(done.output).toBe('finished');
  });

  it('an orchestrator that throws is Failed with the documented reason as output', async () => {
    const client = host.client();
    const id = await client.startNew('throws', { input: 'direct' });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(done.output).toBe("Orchestrator function 'throws' failed: orchestrator exploded: direct");
    const status = await client.getStatus(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(status.output).toBe("Orchestrator function 'throws' failed: orchestrator exploded: direct");
  });

  it('an activity that throws fails the orchestration with the activity failure reason', async () => {
    const id = await host.client().startNew('activityFails', { input: 'uncaught' });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Failed');
    expect(String(done.output)).toMatch(
      /^Orchestrator function 'activityFails' failed: Activity function 'explode' failed: activity exploded: uncaught/,
    );
  });

  it('an activity failure can be caught by the orchestrator', async () => {
    const id = await host.client().startNew('activityFailureCaught', { input: 'caught' });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect((done.output as { caught: string }).caught).toMatch(/^Activity function 'explode' failed: activity exploded: caught/);
  });

  it('large payloads: a 100 KB input and a 300 KB activity result round-trip', { timeout: 30_000 }, async () => {
    const text = 'i'.repeat(100_000);
    const id = await host.client().startNew('bigPayload', { input: { size: 300_000, text } });
    const done = await host.waitFor(id, { timeoutMs: 10_000 }).catch((err: Error) => {
      const errors = host.logs.filter((l) => l.level === 'error').map((l) => l.message);
      throw new Error(`${err.message}\nhost errors: ${errors.join('\n')}`);
    });
    expect(done.runtimeStatus).toBe('Completed');
    const output = done.output as { inputLength: number; madeLength: number; made: string };
    expect(output).toMatchObject({ inputLength: 100_000, madeLength: 300_000 });
    expect(output.made).toBe('x'.repeat(300_000));
  });

  it('a 1 MB activity result completes on both stores (the table store keeps it in blob storage)', async () => {
    const id = await host.client().startNew('bigPayload', { input: { size: 1_000_000, text: 'i' } });
    const done = await host.waitFor(id, { timeoutMs: 10_000 });
    expect(done.runtimeStatus).toBe('Completed');
    expect((done.output as { madeLength: number }).madeLength).toBe(1_000_000);
  });

  it('50 hello sequences started at once all complete with the right output', async () => {
    const client = host.client();
    const ids = await Promise.all(Array.from({ length: 50 }, () => client.startNew('hello')));
    expect(new Set(ids).size).toBe(50);
    const done = await Promise.all(ids.map((id) => host.waitFor(id)));
    for (const d of done) {
      expect(d.runtimeStatus).toBe('Completed');
      expect(d.output).toEqual(['Hello Tokyo!', 'Hello Seattle!', 'Hello London!']);
    }
  });

  it('purgeInstanceHistory deletes a finished instance; getStatusAll lists instances', async () => {
    const client = host.client();
    const id = uid('purge-me');
    await client.startNew('hello', { instanceId: id });
    await host.waitFor(id);
    expect((await client.getStatusAll()).map((s) => s.instanceId)).toContain(id);

    expect(await client.purgeInstanceHistory(id)).toMatchObject({ instancesDeleted: 1 });
    expect((await client.getStatusAll()).map((s) => s.instanceId)).not.toContain(id);
    await expect(client.getStatus(id)).rejects.toThrow(/404/);
    expect(await client.purgeInstanceHistory(id)).toMatchObject({ instancesDeleted: 0 });
  });
});

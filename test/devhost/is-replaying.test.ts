// context.df.isReplaying is false exactly when the orchestrator's code runs a step for the first time, and true on
// every later replay of it: through a sequence and after `yield Task.all(...)` of a fan-out whose three results
// arrive in one episode. The SDK computes it from the history the host sends: events before the episode's
// OrchestratorStarted are replayed, and a task completed by a later event is replayed if that event's IsPlayed is true,
// so every event of the episode, not just its first, must come with IsPlayed false. The engine already did this; the
// tests fail when it marks any but the first event of a batch as played.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { EVENT_TYPE_NAMES } from '../../devhost/durable/history';
import { MGMT, postJson, STORES, startFixture, uid } from './support';

type Note = [string, boolean];
const STEPS = ['start', 'a', 'after a', 'fan-out', 'after fan-out', 'b', 'end'];

describe.each(STORES)('isReplaying on the %s store', (storage) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('replaying-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  const control = async (id: string, op: string): Promise<unknown> => {
    const res = await host.fetch(`/api/steps/${id}/${op}`, { method: op === 'notes' ? 'GET' : 'POST' });
    expect(res.status).toBe(200);
    return res.json();
  };

  /** Checks the notes: each step first with false, then only true; returns how many times each step ran. */
  function expectFirstRunOnly(notes: Note[]): Record<string, number> {
    const runs: Record<string, number> = {};
    for (const [step, replaying] of notes) {
      expect(replaying, `'${step}' run ${(runs[step] ?? 0) + 1}: ${JSON.stringify(notes)}`).toBe(step in runs);
      runs[step] = (runs[step] ?? 0) + 1;
    }
    expect(Object.keys(runs)).toEqual(STEPS);
    return runs;
  }

  it('is false only the first time each step runs, with the fan-out results arriving one by one', async () => {
    const id = uid('steps');
    await host.client().startNew('steps', { instanceId: id });
    await control(id, 'waiting/3');
    await control(id, 'open');
    const done = await host.waitFor(id);
    expect(done).toMatchObject({ runtimeStatus: 'Completed', output: { a: { step: 'a', replaying: false }, fan: [10, 20, 30], b: { step: 'b', replaying: false } } });
    expectFirstRunOnly((await control(id, 'notes')) as Note[]);
  });

  it('is false after Task.all of a fan-out whose last result arrives in one episode with the others', async () => {
    const id = uid('steps');
    await host.client().startNew('steps', { instanceId: id });
    await control(id, 'waiting/3');
    // Suspended, the instance takes no results: all three wait in its inbox and the resume hands them over together.
    expect((await postJson(host, `${MGMT}/instances/${id}/suspend`)).status).toBe(202);
    while ((await host.host.status(id))?.runtimeStatus !== 'Suspended') await host.host.engine.nextChange(250); // (idle() would wait for the gated calls)
    await control(id, 'open');
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/resume`)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: { fan: [10, 20, 30], b: { replaying: false } } });

    const history = ((await host.host.engine.getHistory(id)) ?? []).map((e) => EVENT_TYPE_NAMES[e.EventType]);
    const batch = history.indexOf('TaskCompleted', history.indexOf('ExecutionResumed'));
    expect(history.slice(batch - 1, batch + 4)).toEqual(['OrchestratorStarted', 'TaskCompleted', 'TaskCompleted', 'TaskCompleted', 'TaskScheduled']);
    const runs = expectFirstRunOnly((await control(id, 'notes')) as Note[]);
    expect(runs['after fan-out']).toBe(2); // first run in the batch's episode (false), replayed once after 'b' (true)
  });
});

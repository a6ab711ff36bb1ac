// Episodes as the Durable extension forms them: an episode takes every message waiting for its instance (not one),
// and events raised in the same batch as a continue-as-new reach the next execution (EventRaised after the point
// where the orchestrator continued) or are lost (events before that point it never awaited), as DTFx does for
// JavaScript apps (TaskOrchestrationContext.HandleEventRaisedEvent -> CarryoverEvents; the JS SDK sends no
// preserveUnprocessedEvents, so nothing else is kept). Several events are put in one batch by suspending the
// instance, raising them, and resuming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { EVENT_TYPE_NAMES } from '../../devhost/durable/history';
import { MGMT, postJson, STORES, startFixture, startViaHttp, uid } from './support';

describe.each(STORES)('episodes on the %s store', (storage) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('episodes-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  /** The current execution's history as stored (the status API's showHistory leaves out the episode markers). */
  async function storedHistory(id: string): Promise<Array<Record<string, unknown> & { EventType: string }>> {
    const h = (await host.host.engine.getHistory(id)) ?? [];
    return h.map((e) => ({ ...e, EventType: EVENT_TYPE_NAMES[e.EventType] }));
  }

  /** Raises the events while the instance is suspended, so the resumed instance finds them all waiting. */
  async function raiseTogether(id: string, events: Array<[string, unknown]>): Promise<void> {
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/suspend`)).status).toBe(202);
    await host.idle();
    for (const [name, value] of events) expect((await postJson(host, `${MGMT}/instances/${id}/raiseEvent/${name}`, value)).status).toBe(202);
    expect((await postJson(host, `${MGMT}/instances/${id}/resume`)).status).toBe(202);
  }

  it('takes every waiting event into one episode: one OrchestratorStarted, then the events in arrival order', async () => {
    const id = await startViaHttp(host, 'collect', undefined, uid('collect'));
    await raiseTogether(id, [['a', 1], ['b', 2], ['c', 3]]);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: [1, 2, 3] });
    const types = (await storedHistory(id)).map((e) => e.EventType);
    const last = types.lastIndexOf('OrchestratorStarted');
    expect(types.slice(last)).toEqual(['OrchestratorStarted', 'EventRaised', 'EventRaised', 'EventRaised', 'ExecutionCompleted', 'OrchestratorCompleted']);
    expect(types.filter((t) => t === 'OrchestratorStarted')).toHaveLength(2); // the start, then the one batch
  });

  it('events raised back to back into a continue-as-new loop all reach it, in order', async () => {
    const id = await startViaHttp(host, 'tally', { target: 5, seen: [] }, uid('tally'));
    await raiseTogether(id, [1, 2, 3, 4, 5].map((n) => ['inc', n]));
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: [1, 2, 3, 4, 5] });
  });

  it('every execution after a continue-as-new starts with ExecutionStarted, then the carried events', async () => {
    const id = await startViaHttp(host, 'tally', { target: 2, seen: [] }, uid('tally'));
    await raiseTogether(id, [['inc', 'x'], ['inc', 'y']]);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: ['x', 'y'] });
    const history = await storedHistory(id);
    expect(history.map((e) => e.EventType)).toEqual(['OrchestratorStarted', 'ExecutionStarted', 'EventRaised', 'ExecutionCompleted', 'OrchestratorCompleted']);
    expect(history[1].Input).toBe(JSON.stringify({ target: 2, seen: ['x'] }));
    expect(history[2]).toMatchObject({ Name: 'inc', Input: '"y"' });
  });

  it('an event, then a retry timer in the same batch: the next attempt takes its id after the call the event led to, as the SDK counts', async () => {
    // Ids the host takes itself (the retry's next attempt) come after those the code took for events before it in
    // the batch; taken first, they gave the attempt the id the SDK gives 'echo', and the instance failed.
    const id = await startViaHttp(host, 'retryRace', undefined, uid('race'));
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/suspend`)).status).toBe(202);
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/raiseEvent/go`, null)).status).toBe(202);
    await host.advance('2s'); // the retry timer fires while the instance is suspended
    expect((await postJson(host, `${MGMT}/instances/${id}/resume`)).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'x' });
  });

  it('an event raised after the one that continued as new is carried into the next execution', async () => {
    const id = await startViaHttp(host, 'handoff', { generation: 0 }, uid('handoff'));
    await raiseTogether(id, [['go', null], ['other', 'kept']]);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'kept' });
  });

  it('an event raised before the one that continued as new, and never awaited, is lost with the old execution', async () => {
    const id = await startViaHttp(host, 'handoff', { generation: 0 }, uid('handoff'));
    await raiseTogether(id, [['other', 'early'], ['go', null]]);
    await host.idle();
    const status = (await host.host.status(id))!;
    expect(status.runtimeStatus).toBe('Running'); // the second execution still waits for 'other'
    expect(status.input).toEqual({ generation: 1 });
    expect((await postJson(host, `${MGMT}/instances/${id}/raiseEvent/other`, 'late')).status).toBe(202);
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 'late' });
  });
});

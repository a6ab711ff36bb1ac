// The engine's view the dashboard shows: which events an orchestration waits for (read from the action signatures
// the engine records, answered by EventRaised events) and which timers it has pending.
import { describe, expect, it } from 'vitest';
import { describeAction } from '../durable/actions';
import { event, EventType } from '../durable/history';
import { emptyState } from '../durable/state';
import type { HistoryEvent, InstanceMeta } from '../store/types';
import { pendingTimers, queuedMessages, waitingFor } from './engine-view';

const T = '2026-01-01T00:00:00.000Z';
const wait = (name: string) => describeAction({ actionType: 6, externalEventName: name });
const timer = describeAction({ actionType: 5 });
const activity = (name: string) => describeAction({ actionType: 0, functionName: name });
const any = (...sigs: string[]) => `WhenAny(${sigs.join(', ')})`;
const all = (...sigs: string[]) => `WhenAll(${sigs.join(', ')})`;
const raised = (name: string): HistoryEvent => event(EventType.EventRaised, T, { Name: name, Input: 'null' });

describe('waitingFor', () => {
  it('is the wait the orchestrator yielded last, alone or beside a timeout', () => {
    expect(waitingFor([activity('a'), wait('Approval')], [])).toEqual(['Approval']);
    expect(waitingFor([activity('a'), any(wait('Approval'), timer)], [])).toEqual(['Approval']);
    expect(waitingFor([any(timer, wait('cancel'), wait('pause'), wait('fire'))], [])).toEqual(['cancel', 'pause', 'fire']);
  });

  it('is nothing when the orchestrator waits on something else, or has not run', () => {
    expect(waitingFor([], [])).toEqual([]);
    expect(waitingFor([wait('early'), timer], [])).toEqual([]);
    expect(waitingFor([activity('x')], [])).toEqual([]);
  });

  it('leaves out waits an event answered, one event per wait, earlier waits first', () => {
    expect(waitingFor([all(wait('a'), wait('b'))], [raised('a')])).toEqual(['b']);
    // An event answered the first wait for 'go'; the second one, yielded last, still waits.
    expect(waitingFor([wait('go'), activity('x'), wait('go')], [raised('go')])).toEqual(['go']);
    expect(waitingFor([wait('go'), activity('x'), wait('go')], [raised('go'), raised('go')])).toEqual([]);
    // A wait kept across rounds (the delay orchestration's control events) appears in every round's WhenAny.
    const round = any(timer, wait('cancel'), wait('pause'));
    expect(waitingFor([round, any(wait('cancel'), wait('unpause'))], [raised('pause')])).toEqual(['cancel', 'unpause']);
  });

  it('reads names with quotes, commas, brackets and markup exactly', () => {
    const names = ["it's", 'a, b', 'x)', '<img src=x onerror=alert(1)>', "q'), y"];
    for (const name of names) expect(waitingFor([wait(name)], [])).toEqual([name]);
    expect(waitingFor([any(wait("it's"), wait('a, b'), timer, wait('<b onclick="x()">'))], [])).toEqual(["it's", 'a, b', '<b onclick="x()">']);
    expect(waitingFor([all(wait('x)'), activity('y'))], [])).toEqual(['x)']);
  });
});

describe('pendingTimers', () => {
  const meta = (engine: unknown, status: InstanceMeta['status'] = 'Running'): InstanceMeta => ({
    instanceId: 'i1',
    name: 'o',
    executionId: 'e',
    status,
    input: null,
    output: null,
    customStatus: null,
    createdTime: T,
    lastUpdatedTime: T,
    engine,
  });

  it('lists the armed timers earliest first, with their kind and a long timer’s end', () => {
    const st = emptyState();
    st.timers = {
      4: { fireAt: '2026-01-04T00:00:00.000Z', final: '2026-01-08T00:00:00.000Z', path: '1' },
      2: { fireAt: '2026-01-01T00:00:05.000Z', retry: '1' },
      7: { fireAt: '2026-01-02T00:00:00.000Z', httpPoll: { id: 8, input: '{}' } },
    };
    expect(pendingTimers(meta(st))).toEqual([
      { instanceId: 'i1', id: 2, fireAt: '2026-01-01T00:00:05.000Z', kind: 'retry' },
      { instanceId: 'i1', id: 7, fireAt: '2026-01-02T00:00:00.000Z', kind: 'http-poll' },
      { instanceId: 'i1', id: 4, fireAt: '2026-01-04T00:00:00.000Z', final: '2026-01-08T00:00:00.000Z', kind: 'timer' },
    ]);
  });

  it('is empty for a finished instance, or one without engine state', () => {
    const st = emptyState();
    st.timers = { 1: { fireAt: T } };
    expect(pendingTimers(meta(st, 'Completed'))).toEqual([]);
    expect(pendingTimers(meta(null))).toEqual([]);
  });
});

describe('queuedMessages', () => {
  it('names each waiting message by its event type and name', () => {
    const inbox = [
      { id: '1', event: raised('<b>go</b>') },
      { id: '2', event: event(EventType.ExecutionResumed, T, { Reason: null }) },
    ];
    expect(queuedMessages(inbox)).toEqual([
      { eventType: 'EventRaised', name: '<b>go</b>', time: T },
      { eventType: 'ExecutionResumed', time: T },
    ]);
  });
});

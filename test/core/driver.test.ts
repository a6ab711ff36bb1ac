// The interactive driver with a fake Durable context: what each kind of yield turns into (flushes, timers, prompt
// waits, timeouts, claimed-at-expiry answers, pass-through tasks) and how bad yields reach the generator.
import { describe, expect, it } from 'vitest';
import type { DurableOrchestrationContext } from 'durable-functions';
import { interactiveSession } from '../../core/driver';
import { ask } from '../../core/steps';
import type { Caller } from '../../core/context';

class FakeTask {
  readonly stateObj = 0;
  readonly isFaulted = false;
  readonly actionObj = {};
  result: unknown;
  cancelled = false;
  constructor(
    readonly kind: 'activity' | 'timer' | 'event' | 'any',
    readonly detail: unknown,
  ) {}
  cancel(): void {
    this.cancelled = true;
  }
}

function fakeContext(): DurableOrchestrationContext {
  return {
    instanceId: 'alice.cmd.1',
    currentUtcDateTime: new Date(1_000_000),
    isReplaying: false,
    newGuid: () => 'guid',
    callActivity: (name: string, input: unknown) => new FakeTask('activity', { name, input }),
    callActivityWithRetry: (name: string, _retry: unknown, input: unknown) => new FakeTask('activity', { name, input }),
    createTimer: (at: Date) => new FakeTask('timer', at.getTime()),
    waitForExternalEvent: (name: string) => new FakeTask('event', name),
    Task: { any: (tasks: FakeTask[]) => new FakeTask('any', tasks), all: () => undefined },
  } as unknown as DurableOrchestrationContext;
}

/** Runs `body` through the driver; `respond` answers each yielded fake task. Returns the trace and the result. */
function run<R>(body: (caller: Caller) => Generator<unknown, R, unknown>, respond: (t: FakeTask) => unknown = () => null): { trace: FakeTask[]; result?: R; error?: unknown } {
  const { caller, io } = interactiveSession(fakeContext(), { key: 'test', args: '', player: 'alice' }, 0);
  const gen = io.drive(body(caller));
  const trace: FakeTask[] = [];
  try {
    let step = gen.next();
    while (!step.done) {
      const task = step.value as unknown as FakeTask;
      trace.push(task);
      step = gen.next(respond(task));
    }
    return { trace, result: step.value };
  } catch (error) {
    return { trace, error };
  }
}

const describeTask = (t: FakeTask): string => {
  if (t.kind === 'activity') {
    const { name, input } = t.detail as { name: string; input: Record<string, unknown> };
    const parts = [name];
    if (input.messages) parts.push(`msgs=${(input.messages as { text: string }[]).map((m) => m.text).join('|')}`);
    if (input.openPrompt) parts.push(`open=${(input.openPrompt as { promptId: string }).promptId}`);
    if (input.closePrompts) parts.push(`close=${(input.closePrompts as { promptId: string }[]).map((p) => p.promptId).join('|')}`);
    return parts.join(' ');
  }
  if (t.kind === 'timer') return `timer+${(t.detail as number) - 1_000_000}`;
  if (t.kind === 'event') return `event ${String(t.detail)}`;
  return `any(${(t.detail as FakeTask[]).map(describeTask).join(', ')})`;
};

describe('interactive driver', () => {
  it('yield <seconds>: flushes messages, then a timer that far ahead', () => {
    const { trace, result } = run(function* (caller) {
      caller.msg('before');
      yield 5;
      caller.msg('after');
      return 'done';
    });
    expect(trace.map(describeTask)).toEqual(['deliver msgs=before', 'timer+5000']);
    expect(result).toBe('done');
  });

  it('yield "question": opens the prompt with the question, waits for its event, closes it at the next flush', () => {
    const { trace, result } = run(
      function* (caller) {
        const answer = (yield 'Continue?') as string;
        caller.msg(`got ${answer}`);
        yield 1;
        return answer;
      },
      (t) => (t.kind === 'event' ? { text: 'yes' } : null),
    );
    expect(trace.map(describeTask)).toEqual([
      'deliver msgs=Continue? open=alice.cmd.1.g0.p0',
      'event answer:alice.cmd.1.g0.p0',
      'deliver msgs=got yes close=alice.cmd.1.g0.p0',
      'timer+1000',
    ]);
    expect(result).toBe('yes');
  });

  it('ask() with a timeout: the timer wins, the prompt expires, the default comes back', () => {
    const { trace, result } = run(
      function* () {
        return yield* ask('Name?', { timeout: 30, default: 'nobody' });
      },
      (t) => (t.kind === 'any' ? (t.detail as FakeTask[])[1] : t.kind === 'activity' && (t.detail as { name: string }).name === 'expirePrompt' ? 'expired' : null),
    );
    expect(trace.map(describeTask)).toEqual(['deliver msgs=Name? open=alice.cmd.1.g0.p0', 'any(event answer:alice.cmd.1.g0.p0, timer+30000)', 'expirePrompt']);
    expect(result).toBe('nobody');
  });

  it('ask() with a timeout: a line claimed the prompt just before expiry, so its answer is taken', () => {
    let anyCount = 0;
    const { trace, result } = run(
      function* () {
        return yield* ask('Name?', { timeout: 30 });
      },
      (t) => {
        if (t.kind === 'any') {
          const [event, timer] = t.detail as FakeTask[];
          if (anyCount++ === 0) return timer;
          event.result = { text: 'Ada' };
          return event;
        }
        return t.kind === 'activity' && (t.detail as { name: string }).name === 'expirePrompt' ? { state: 'claimed' } : null;
      },
    );
    expect(trace.map(describeTask)).toEqual([
      'deliver msgs=Name? open=alice.cmd.1.g0.p0',
      'any(event answer:alice.cmd.1.g0.p0, timer+30000)',
      'expirePrompt',
      'any(event answer:alice.cmd.1.g0.p0, timer+5000)', // the next check, 5 s on
    ]);
    expect(result).toBe('Ada');
  });

  it('ask() with a timeout: a claim whose event never came is answered from the stored claim at the next check', () => {
    const expires: unknown[] = [{ state: 'claimed' }, { state: 'answered', answer: 'Grace' }];
    const { trace, result } = run(
      function* () {
        return yield* ask('Name?', { timeout: 30 });
      },
      (t) => {
        if (t.kind === 'any') return (t.detail as FakeTask[])[1]; // the answer event never arrives
        return t.kind === 'activity' && (t.detail as { name: string }).name === 'expirePrompt' ? expires.shift() : null;
      },
    );
    expect(trace.map(describeTask)).toEqual([
      'deliver msgs=Name? open=alice.cmd.1.g0.p0',
      'any(event answer:alice.cmd.1.g0.p0, timer+30000)',
      'expirePrompt',
      'any(event answer:alice.cmd.1.g0.p0, timer+5000)',
      'expirePrompt',
    ]);
    expect(result).toBe('Grace');
  });

  it("ask() with a timeout replays histories from before: the check's bare 'claimed' result still means wait for the event", () => {
    let anyCount = 0;
    const { trace, result } = run(
      function* () {
        return yield* ask('Name?', { timeout: 30, default: 'nobody' });
      },
      (t) => {
        if (t.kind === 'any') {
          anyCount++;
          return (t.detail as FakeTask[])[1]; // the timers win
        }
        return t.kind === 'activity' && (t.detail as { name: string }).name === 'expirePrompt' ? (anyCount === 1 ? 'claimed' : 'gone') : null;
      },
    );
    expect(trace.map(describeTask).slice(2)).toEqual(['expirePrompt', 'any(event answer:alice.cmd.1.g0.p0, timer+5000)', 'expirePrompt']);
    expect(result).toBe('nobody');
  });

  it('a Durable task is passed through after a flush', () => {
    const task = new FakeTask('activity', { name: 'custom', input: {} });
    const { trace, result } = run(
      function* (caller) {
        caller.msg('hi');
        return yield task;
      },
      (t) => (t === task ? 7 : null),
    );
    expect(trace.map(describeTask)).toEqual(['deliver msgs=hi', 'custom']);
    expect(result).toBe(7);
  });

  it('a bad yield is thrown into the generator with a message naming the value', () => {
    const caught: string[] = [];
    const { result } = run(function* () {
      for (const bad of [{ x: 1 }, true, null, undefined, NaN, -2, Symbol('s')]) {
        try {
          yield bad;
        } catch (err) {
          caught.push((err as { code: string; message: string }).code + ': ' + (err as Error).message.split('. Yield')[0].split(': a wait')[0]);
        }
      }
      return caught.length;
    });
    expect(result).toBe(7);
    expect(caught).toEqual([
      `bad_yield: interactive command 'test' yielded object {"x":1}`,
      'bad_yield: interactive command \'test\' yielded boolean true',
      'bad_yield: interactive command \'test\' yielded object null',
      'bad_yield: interactive command \'test\' yielded undefined',
      'bad_yield: interactive command \'test\' yielded NaN',
      'bad_yield: interactive command \'test\' yielded -2',
      'bad_yield: interactive command \'test\' yielded symbol Symbol(s)',
    ]);
  });

  it('an uncaught error propagates out of the driver', () => {
    const { error } = run(function* () {
      yield 1;
      throw new Error('kaboom');
    });
    expect((error as Error).message).toBe('kaboom');
  });

  it('prompt ids and batch sequence numbers are deterministic per generation', () => {
    const { caller, io } = interactiveSession(fakeContext(), { key: 'test', args: '', player: 'alice' }, 3);
    const gen = io.drive(
      (function* (): Generator<unknown, void, unknown> {
        caller.msg('x');
        yield 'Q?';
      })(),
    );
    const deliver = gen.next().value as unknown as FakeTask;
    const input = (deliver.detail as { input: { batch: { source: string; seq: number; at?: number }; openPrompt: { promptId: string } } }).input;
    expect(input.batch).toEqual({ source: 'alice.cmd.1.g3', seq: 3_000_000, at: 1_000_000 });
    expect(input.openPrompt.promptId).toBe('alice.cmd.1.g3.p0');
  });
});

// ProgressReporter: a runAsync function may call ctx.progress() as often as it likes; at most one value a second is
// written per task (the latest one when the second is up), the last one when the function returns, and a failed
// write never fails the job. Time is faked; the store is a recording stub.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkProgress, ProgressReporter, PROGRESS_INTERVAL_MS, type writeProgress } from '../../core/progress';

type Written = { fraction: number; note?: string; at: number };

function reporter(opts: { fail?: boolean } = {}) {
  const written: Written[] = [];
  const logs: string[] = [];
  const store: typeof writeProgress = async (_player, _task, _attempt, value, at) => {
    if (opts.fail) throw new Error('storage is down');
    written.push({ ...value, at });
  };
  const r = new ProgressReporter('ana', 'ana.async.1', 'ana.async.1.fn', (m) => logs.push(m), () => Date.now(), store);
  return { r, written, logs };
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ProgressReporter', () => {
  it('writes the first value at once, then at most one a second: the latest, when the second is up', async () => {
    const { r, written } = reporter();
    r.report(0.1, 'one');
    r.report(0.2);
    r.report(0.3, 'three');
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual([{ fraction: 0.1, note: 'one', at: 1_000_000 }]);
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS - 1);
    expect(written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(written).toEqual([{ fraction: 0.1, note: 'one', at: 1_000_000 }, { fraction: 0.3, note: 'three', at: 1_000_000 + PROGRESS_INTERVAL_MS }]);
    // A second later again, a report is written at once.
    await vi.advanceTimersByTimeAsync(PROGRESS_INTERVAL_MS);
    r.report(0.5);
    await vi.advanceTimersByTimeAsync(0);
    expect(written.map((w) => w.fraction)).toEqual([0.1, 0.3, 0.5]);
  });

  it('flush writes the value still waiting for its second, and nothing when it is already written', async () => {
    const { r, written } = reporter();
    r.report(0.25);
    r.report(1, 'done');
    await r.flush();
    expect(written.map((w) => w.fraction)).toEqual([0.25, 1]);
    await r.flush();
    await vi.advanceTimersByTimeAsync(5 * PROGRESS_INTERVAL_MS);
    expect(written).toHaveLength(2);
  });

  it('a failed write is logged, never thrown: progress is a view, not a reason to fail the job', async () => {
    const { r, logs } = reporter({ fail: true });
    r.report(0.5);
    await expect(r.flush()).resolves.toBeUndefined();
    expect(logs).toEqual(['progress of task ana.async.1 not recorded: storage is down']);
  });
});

describe('checkProgress', () => {
  it.each([[-0.1], [1.01], [Number.NaN], [Infinity], ['0.5'], [null]])('refuses the fraction %j, naming it and the range', (fraction) => {
    expect(() => checkProgress(fraction, undefined)).toThrow(/ctx\.progress\(\) takes a fraction from 0 to 1/);
  });

  it('takes 0, 1 and a short note; refuses a note that is not a string or too long', () => {
    expect(checkProgress(0, undefined)).toEqual({ fraction: 0 });
    expect(checkProgress(1, 'all done')).toEqual({ fraction: 1, note: 'all done' });
    expect(() => checkProgress(0.5, 7)).toThrow(/note as a string, got number/);
    expect(() => checkProgress(0.5, 'x'.repeat(201))).toThrow(/progress note of 201 characters is over the 200 limit/);
  });
});

// The fault points' spec parser and pass counter (the killing itself is exercised by test/crash/kill.test.ts).
import { describe, expect, it } from 'vitest';
import { armedFaults, FaultCounter, faultPoint, parseFaults } from './faults';

describe('DEVHOST_FAULTS', () => {
  it('parses points with an optional detail and a pass number', () => {
    expect(parseFaults(undefined)).toEqual([]);
    expect(parseFaults(' ')).toEqual([]);
    expect(parseFaults('activity.done:cb_remind@2, store.commit.after@40')).toEqual([
      { point: 'activity.done', detail: 'cb_remind', at: 2 },
      { point: 'store.commit.after', detail: undefined, at: 40 },
    ]);
  });

  it.each(['activity.done', 'activity.done@0', 'nowhere@1', 'episode.commit:@1', 'episode.commit@1x', 'episode.commit@-1'])('refuses %j, naming the points', (spec) => {
    expect(() => parseFaults(spec)).toThrow(/DEVHOST_FAULTS: .* is not <point>\[:<detail>\]@<n> .*episode\.commit, activity\.done/);
  });

  it('is due at the n-th pass of its point whose detail matches, once', () => {
    const faults = new FaultCounter(parseFaults('activity.done:deliver@2,episode.commit@3'));
    expect(faults.pass('activity.done', 'cb_remind')).toBeUndefined();
    expect(faults.pass('activity.done', 'deliver')).toBeUndefined();
    expect(faults.pass('episode.commit', 'delay')).toBeUndefined();
    expect(faults.pass('activity.done', 'deliver')).toEqual({ point: 'activity.done', detail: 'deliver', at: 2 });
    expect(faults.pass('activity.done', 'deliver')).toBeUndefined();
    expect(faults.pass('episode.commit', 'command')).toBeUndefined();
    expect(faults.pass('episode.commit', 'command')).toEqual({ point: 'episode.commit', detail: undefined, at: 3 });
  });

  it('does nothing unless armed (this test process is not)', () => {
    expect(armedFaults()).toEqual([]);
    for (let i = 0; i < 1000; i++) faultPoint('episode.commit', 'x');
  });
});

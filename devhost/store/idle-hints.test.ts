// Idle hints against a recording index: a row is raised only after its instance stayed quiet, only in the version
// this host saw, and lowered before anything that gives the instance work sooner is stored; a store without the
// lease lowers before every message and never raises.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleHints } from './idle-hints';
import { IndexMirror, IndexRow } from './index-mirror';
import type { InstanceIndex } from './table-index';

const QUIET = 1000;
const HOUR = 3_600_000;

interface Merge {
  id: string;
  until: number | undefined;
  etag: string;
}

/** An index that records merges and answers them as the service would (a stale ETag fails). */
function recordingIndex(withMirror = true) {
  const merges: Merge[] = [];
  const table = new Map<string, { etag: string }>();
  let version = 0;
  const index = {
    mirror: withMirror ? new IndexMirror() : undefined,
    mergeIdle: async (id: string, until: number | undefined, etag: string): Promise<boolean> => {
      merges.push({ id, until, etag });
      const stored = table.get(id);
      if (!stored || (etag !== '*' && etag !== stored.etag)) return false;
      stored.etag = `e${++version}`;
      if (etag === '*' || index.mirror?.get(id)?.etag === etag) index.mirror?.update(id, { idleUntil: until, etag: stored.etag });
      return true;
    },
  };
  /** A row as a write of this host leaves it (in the table and in the mirror). */
  const write = (id: string, status: IndexRow['status'] = 'Running'): void => {
    const etag = `e${++version}`;
    table.set(id, { etag });
    index.mirror?.set({ instanceId: id, status, createdTime: '2026-01-01T00:00:00.000Z', name: 'x', etag });
  };
  return { index: index as unknown as InstanceIndex, mirror: index.mirror, merges, write, table };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('IdleHints', () => {
  it('raises a row once its instance stayed quiet, in the version this host wrote, and not when the time is near', async () => {
    const { index, mirror, merges, write } = recordingIndex();
    const hints = new IdleHints(index, { quietMs: QUIET, onError: (e) => expect.unreachable(e.message) });
    write('far');
    write('near');
    write('forever');
    const far = Date.now() + HOUR;
    hints.idle('far', far);
    hints.idle('near', Date.now() + QUIET); // due before the raise would be worth it
    hints.idle('forever', Infinity);
    await vi.advanceTimersByTimeAsync(QUIET - 1);
    expect(merges).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(merges).toEqual([
      { id: 'far', until: far, etag: 'e1' },
      { id: 'forever', until: Infinity, etag: 'e3' },
    ]);
    expect(mirror!.get('far')).toMatchObject({ idleUntil: far, etag: 'e4' });
    // Saying it again writes nothing: the row says so already.
    hints.idle('far', far);
    await vi.advanceTimersByTimeAsync(2 * QUIET);
    expect(merges).toHaveLength(2);
    hints.close();
  });

  it('a message before the raise is due cancels it: no write at all; after the raise, the row is lowered first', async () => {
    const { index, mirror, merges, write } = recordingIndex();
    const hints = new IdleHints(index, { quietMs: QUIET, onError: (e) => expect.unreachable(e.message) });
    write('chatty');
    hints.idle('chatty', Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(QUIET / 2);
    await hints.lower('chatty', undefined, true); // an answer within the quiet time
    await vi.advanceTimersByTimeAsync(2 * QUIET);
    expect(merges).toEqual([]);

    hints.idle('chatty', Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(QUIET);
    expect(merges).toHaveLength(1);
    await hints.lower('chatty', undefined, true);
    expect(merges[1]).toEqual({ id: 'chatty', until: undefined, etag: '*' });
    expect(mirror!.get('chatty')?.idleUntil).toBeUndefined();
    // A commit whose next timer is after what the row says needs no write; one before it lowers the row to it.
    hints.idle('chatty', Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(QUIET);
    await hints.lower('chatty', Date.now() + 2 * HOUR, false);
    expect(merges).toHaveLength(3);
    const sooner = Date.now() + 60_000;
    await hints.lower('chatty', sooner, false);
    expect(merges[3]).toEqual({ id: 'chatty', until: sooner, etag: '*' });
    hints.close();
  });

  it('a raise that meets a newer version of the row writes nothing, and none follows until a write gives the version', async () => {
    const { index, mirror, merges, write, table } = recordingIndex();
    const hints = new IdleHints(index, { quietMs: QUIET, onError: (e) => expect.unreachable(e.message) });
    write('raced');
    table.get('raced')!.etag = 'elsewhere'; // a write whose answer this host never heard
    hints.idle('raced', Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(QUIET);
    expect(merges).toEqual([expect.objectContaining({ id: 'raced', etag: 'e1' })]);
    expect(mirror!.get('raced')).toMatchObject({ etag: undefined, idleUntil: Date.now() - QUIET + HOUR }); // may say it: messages lower it
    hints.idle('raced', Date.now() + 2 * HOUR);
    await vi.advanceTimersByTimeAsync(QUIET);
    expect(merges).toHaveLength(1);
    await hints.lower('raced', undefined, true);
    expect(merges).toHaveLength(2); // lowered whatever the version
    hints.close();
  });

  it('without the lease (no mirror) it never raises, lowers before every message, and leaves commits alone', async () => {
    const { index, merges } = recordingIndex(false);
    const hints = new IdleHints(index, { quietMs: QUIET, onError: (e) => expect.unreachable(e.message) });
    hints.idle('x', Date.now() + HOUR);
    await vi.advanceTimersByTimeAsync(2 * QUIET);
    expect(merges).toEqual([]);
    await hints.lower('x', undefined, true);
    await hints.lower('x', undefined, true);
    await hints.lower('x', Date.now(), false);
    expect(merges).toEqual([
      { id: 'x', until: undefined, etag: '*' },
      { id: 'x', until: undefined, etag: '*' },
    ]);
    hints.close();
  });

  it('a host that may not write (it lost the lease) raises nothing', async () => {
    const { index, merges, write } = recordingIndex();
    const errors: string[] = [];
    const hints = new IdleHints(index, {
      quietMs: QUIET,
      onError: (e) => errors.push(e.message),
      mayWrite: () => {
        throw new Error('lost its lease');
      },
    });
    write('x');
    hints.idle('x', Infinity);
    await vi.advanceTimersByTimeAsync(2 * QUIET);
    expect(merges).toEqual([]);
    expect(errors).toEqual([expect.stringMatching(/idle hint of instance 'x' could not be raised.*lost its lease/)]);
    hints.close();
  });

  it('finished instances are never raised', async () => {
    const { index, merges, write } = recordingIndex();
    const hints = new IdleHints(index, { quietMs: QUIET, onError: (e) => expect.unreachable(e.message) });
    write('done', 'Completed');
    hints.idle('done', Infinity);
    await vi.advanceTimersByTimeAsync(2 * QUIET);
    expect(merges).toEqual([]);
    hints.close();
  });
});

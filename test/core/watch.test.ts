// The shared waiting reader (core/watch.ts) on Azurite: answering from this process's own writes between table
// reads must never move a reader past a message another instance committed late, within the outbox's window.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FRESH_MS, MAX_WRITE_MS, writeMessages } from '../../core/outbox';
import { MessageWatch } from '../../core/watch';

beforeAll(() => {
  if (!process.env.AzureWebJobsStorage) throw new Error('AzureWebJobsStorage is not set: run through vitest (its global setup starts Azurite).');
  process.env.GAME_TABLE_PREFIX = `w${randomUUID().replace(/-/g, '').slice(0, 12)}`;
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('MessageWatch', () => {
  it("a write of this process, 1.2 s after the last table read, does not move the reader past another instance's late commit", async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = Date.now();
    let clock = t;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    vi.spyOn(Math, 'random').mockReturnValue(1); // the longest interval between reads (1.25 x pollMs)
    const watch = new MessageWatch(player, undefined, { pollMs: 1000 });
    try {
      expect((await watch.next(t)).messages).toEqual([]); // the table read, at t
      // Another instance's write that began just before t with its rows stamped FRESH_MS earlier, and took as long as
      // a write may: it commits (at t + 100, after the read above) under a time 4 s older than its commit.
      vi.resetModules();
      const elsewhere = await import('../../core/outbox');
      await elsewhere.writeMessages({ source: 'slow-instance', seq: 0 }, [{ player, text: 'late' }], t + 100 - FRESH_MS - MAX_WRITE_MS);
      // This process writes 1.2 s after the read: the watcher hears of it before its next read is due.
      clock = t + 1200;
      await writeMessages({ source: 'this-instance', seq: 0 }, [{ player, text: 'own' }], clock);
      const got = (await watch.next(clock)).messages.map((m) => m.text);
      clock = t + 1300; // the next read is due
      got.push(...(await watch.next(clock)).messages.map((m) => m.text));
      expect(got.sort()).toEqual(['late', 'own']);
    } finally {
      watch.close();
    }
  });

  it("within a second of a table read, this process's write is answered without another read, and a write from elsewhere comes with the next read", async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = Date.now();
    let clock = t;
    vi.spyOn(Date, 'now').mockImplementation(() => clock);
    vi.spyOn(Math, 'random').mockReturnValue(0.5); // reads 1 s apart
    const watch = new MessageWatch(player, undefined, { pollMs: 1000 });
    try {
      expect((await watch.next(t)).messages).toEqual([]);
      vi.resetModules();
      const elsewhere = await import('../../core/outbox');
      await elsewhere.writeMessages({ source: 'other-instance', seq: 0 }, [{ player, text: 'elsewhere' }], t + 100);
      clock = t + 500;
      await writeMessages({ source: 'this-instance', seq: 0 }, [{ player, text: 'own' }], clock);
      expect((await watch.next(clock)).messages.map((m) => m.text)).toEqual(['own']);
      clock = t + 1000;
      expect((await watch.next(clock)).messages.map((m) => m.text)).toEqual(['elsewhere']);
      expect((await watch.next(clock)).messages).toEqual([]);
    } finally {
      watch.close();
    }
  });
});

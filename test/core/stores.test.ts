// The game's Table Storage stores on Azurite: outbox writes are exactly-once per batch and cursor reads never miss
// a message committed late within the window; prompt claims are exclusive and expiry never loses a claimed answer.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readMessages, trimMessages, writeMessages, WINDOW_MS } from '../../core/outbox';
import { claimPrompt, closePrompt, expirePrompt, listPrompts, openPrompt, unclaimPrompt } from '../../core/prompts';
import { deliver } from '../../core/delivery';

beforeAll(() => {
  if (!process.env.AzureWebJobsStorage) throw new Error('AzureWebJobsStorage is not set: run through vitest (its global setup starts Azurite).');
  process.env.GAME_TABLE_PREFIX = `u${randomUUID().replace(/-/g, '').slice(0, 12)}`;
});

const texts = (r: { messages: { text: string }[] }): string[] => r.messages.map((m) => m.text);

describe('outbox', () => {
  it('a retried batch is written once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const batch = { source: 'inst-1.g0', seq: 3 };
    await writeMessages(batch, [{ player, text: 'a' }, { player, text: 'b' }], 1_000_000);
    await writeMessages(batch, [{ player, text: 'a' }, { player, text: 'b' }], 1_000_500);
    expect(texts(await readMessages(player, undefined, 1_001_000))).toEqual(['a', 'b']);
  });

  it('a batch stamped with its own time (at) and written on time is stored under that time; retries, on time or late, add nothing', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const at = 20_000_000;
    const batch = { source: 'inst-2.g0', seq: 0, at };
    const two = [{ player, text: 'a' }, { player, text: 'b' }];
    await writeMessages(batch, two, at + 200);
    await writeMessages(batch, two, at + 300); // a retry on time finds its rows taken
    await writeMessages(batch, two, at + 60_000); // a late retry finds them too
    await writeMessages({ ...batch, seq: 1 }, [{ player, text: 'c' }], at + 400);
    await writeMessages({ ...batch, seq: 1 }, [{ player, text: 'c' }], at + 500);
    const r = await readMessages(player, undefined, at + 60_001);
    expect(texts(r)).toEqual(['a', 'b', 'c']);
    // 'c' has the same stamp as what this process already wrote there, so it takes the writer's clock (and a marker).
    expect(r.messages.map((m) => m.time)).toEqual([at, at, at + 400].map((t) => new Date(t).toISOString()));
  });

  it('a stamped batch first written late gets the writer\'s time, so a reader already past its stamp still gets it once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = 30_000_000;
    await writeMessages({ source: 'now', seq: 0, at: t + 10_000 }, [{ player, text: 'newer' }], t + 10_000);
    const first = await readMessages(player, undefined, t + 10_010);
    expect(texts(first)).toEqual(['newer']);
    const late = { source: 'late', seq: 0, at: t }; // made 10 s ago (say, an activity retried after a crash)
    await writeMessages(late, [{ player, text: 'late' }], t + 10_020);
    await writeMessages(late, [{ player, text: 'late' }], t + 10_030);
    const second = await readMessages(player, first.cursor, t + 10_040);
    expect(texts(second)).toEqual(['late']);
    expect(second.messages[0].time).toBe(new Date(t + 10_020).toISOString());
    expect(texts(await readMessages(player, second.cursor, t + 10_050))).toEqual([]);
  });

  it('a stamped batch older than what this process last wrote to the player keeps the write order', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = 40_000_000;
    // e.g. a command's own line (writer's clock), then its task's message stamped by a clock a little behind
    await writeMessages({ source: 'inline', seq: 0, at: t + 500 }, [{ player, text: 'first' }], t + 500);
    await writeMessages({ source: 'task', seq: 0, at: t + 200 }, [{ player, text: 'second' }], t + 600);
    await writeMessages({ source: 'task', seq: 0, at: t + 200 }, [{ player, text: 'second' }], t + 700); // retry
    expect(texts(await readMessages(player, undefined, t + 800))).toEqual(['first', 'second']);
  });

  it('a batch written late, then again on time by another instance (that knows nothing of the first), is stored once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const at = 50_000_000;
    const batch = { source: 'r', seq: 0, at };
    await writeMessages(batch, [{ player, text: 'once' }, { player, text: 'twice?' }], at + 10_000);
    vi.resetModules();
    const other = await import('../../core/outbox');
    await other.writeMessages(batch, [{ player, text: 'once' }, { player, text: 'twice?' }], at + 100);
    expect(texts(await readMessages(player, undefined, at + 10_001))).toEqual(['once', 'twice?']);
  });

  it('a batch first written without its stamp (an older app version) and retried late with it is stored once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const at = 70_000_000;
    await writeMessages({ source: 'v1', seq: 0 }, [{ player, text: 'once' }], at + 100);
    vi.resetModules();
    const other = await import('../../core/outbox');
    await other.writeMessages({ source: 'v1', seq: 0, at }, [{ player, text: 'once' }], at + 10_000);
    expect(texts(await readMessages(player, undefined, at + 10_001))).toEqual(['once']);
  });

  it('orders batches of one source by sequence when two instances write them within one millisecond', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    await writeMessages({ source: 'w', seq: 2 }, [{ player, text: 'second' }], 5_000_000);
    vi.resetModules();
    const otherWriter = await import('../../core/outbox');
    await otherWriter.writeMessages({ source: 'w', seq: 1 }, [{ player, text: 'first' }], 5_000_000);
    expect(texts(await readMessages(player, undefined, 5_000_001))).toEqual(['first', 'second']);
  });

  it('one instance keeps its write order for a player, whatever the clocks say', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = 6_000_000;
    await writeMessages({ source: 'orch', seq: 0, at: t + 800 }, [{ player, text: 'one' }], t); // stamped by a clock 0.8 s ahead
    await writeMessages({ source: 'reply', seq: 0, at: t + 100 }, [{ player, text: 'two' }], t + 100);
    await writeMessages({ source: 'w', seq: 0 }, [{ player, text: 'three' }], t + 100);
    await writeMessages({ source: 'w', seq: 1 }, [{ player, text: 'four' }], t + 100);
    expect(texts(await readMessages(player, undefined, t + 1000))).toEqual(['one', 'two', 'three', 'four']);
  });

  it('a message committed late with an older timestamp is delivered once, after the newer one', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = 10_000_000;
    await writeMessages({ source: 'b', seq: 0 }, [{ player, text: 'newer' }], t);
    const first = await readMessages(player, undefined, t + 10);
    expect(texts(first)).toEqual(['newer']);
    vi.resetModules();
    const otherWriter = await import('../../core/outbox'); // another instance, whose commit came late
    await otherWriter.writeMessages({ source: 'a', seq: 0 }, [{ player, text: 'late' }], t - WINDOW_MS + 100);
    const second = await readMessages(player, first.cursor, t + 20);
    expect(texts(second)).toEqual(['late']);
    expect(texts(await readMessages(player, second.cursor, t + 30))).toEqual([]);
    await writeMessages({ source: 'c', seq: 0 }, [{ player, text: 'after' }], t + 40);
    expect(texts(await readMessages(player, second.cursor, t + 50))).toEqual(['after']);
  });

  it('a fast player\'s cursor stays short (fits a URL) and still returns every message exactly once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const t = 30_000_000;
    const seen: string[] = [];
    let cursor: string | undefined;
    // 600 messages 4 ms apart: far more than CURSOR_MEMORY within one WINDOW_MS, read one at a time.
    for (let i = 0; i < 600; i++) {
      await writeMessages({ source: 'fast', seq: i }, [{ player, text: `m${i}` }], t + i * 4);
      const r = await readMessages(player, cursor, t + i * 4 + 1);
      seen.push(...texts(r));
      cursor = r.cursor;
      expect(cursor.length).toBeLessThan(3000);
    }
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => `m${i}`));
    // A message committed late, older than the newest but within what the cursor still re-reads, is delivered once.
    await writeMessages({ source: 'late', seq: 0 }, [{ player, text: 'late' }], t + 599 * 4 - 8);
    const r = await readMessages(player, cursor, t + 600 * 4);
    expect(texts(r)).toEqual(['late']);
    expect(texts(await readMessages(player, r.cursor, t + 600 * 4 + 1))).toEqual([]);
  }, 120_000);

  it('writes many messages in several transactions and pages reads by 100', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const many = Array.from({ length: 250 }, (_, i) => ({ player, text: `m${i}` }));
    await writeMessages({ source: 'bulk', seq: 0 }, many, 20_000_000);
    await writeMessages({ source: 'bulk', seq: 0 }, many, 20_000_001);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 4; i++) {
      const r = await readMessages(player, cursor, 20_000_100);
      seen.push(...texts(r));
      cursor = r.cursor;
    }
    expect(seen).toEqual(many.map((m) => m.text));
  });

  it('messages of several players in one batch each land in their own outbox', async () => {
    const a = `p${randomUUID().slice(0, 8)}`;
    const b = `p${randomUUID().slice(0, 8)}`;
    await writeMessages({ source: 'x', seq: 0 }, [{ player: a, text: 'to a' }, { player: b, text: 'to b' }], 30_000_000);
    expect(texts(await readMessages(a, undefined, 30_000_001))).toEqual(['to a']);
    expect(texts(await readMessages(b, undefined, 30_000_001))).toEqual(['to b']);
  });

  it('trims messages older than the retention setting', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    await writeMessages({ source: 'old', seq: 0 }, [{ player, text: 'old' }], Date.now());
    expect(await trimMessages(player, Date.now() + 2 * 86_400_000)).toBe(2); // the message and its marker
    expect(texts(await readMessages(player))).toEqual([]);
  });
});

describe('prompts', () => {
  const open = async (player: string, promptId = `inst.g0.p${randomUUID().slice(0, 4)}`) => {
    await openPrompt({ player, promptId, instanceId: 'inst', question: 'Continue?', openedAt: Date.now() });
    return promptId;
  };

  it('of two racing claims exactly one wins', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    await open(player);
    const [prompt] = await listPrompts(player);
    const results = await Promise.all([claimPrompt(prompt, 'yes', 1), claimPrompt(prompt, 'no', 2)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [after] = await listPrompts(player);
    expect(after).toMatchObject({ state: 'claimed', answer: results[0] ? 'yes' : 'no' });
  });

  it('re-opening (a retried activity) keeps a claim; unclaim reopens; close deletes', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const id = await open(player);
    const claimed = await claimPrompt((await listPrompts(player))[0], 'yes', 1);
    await open(player, id);
    expect((await listPrompts(player))[0].state).toBe('claimed');
    await unclaimPrompt(claimed!);
    expect((await listPrompts(player))[0]).toMatchObject({ state: 'open' });
    await closePrompt(player, id);
    await closePrompt(player, id);
    expect(await listPrompts(player)).toEqual([]);
  });

  it('expiry deletes an open prompt, keeps a fresh claim, and hands over the answer of a claim 5 s old, once', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const a = await open(player);
    expect(await expirePrompt(player, a)).toEqual({ state: 'expired' });
    expect(await expirePrompt(player, a)).toEqual({ state: 'gone' });
    const b = await open(player);
    const t = Date.now();
    await claimPrompt((await listPrompts(player))[0], 'late but claimed', t);
    expect(await expirePrompt(player, b, t + 4999)).toEqual({ state: 'claimed' });
    expect((await listPrompts(player))[0]).toMatchObject({ promptId: b, answer: 'late but claimed' });
    expect(await expirePrompt(player, b, t + 5000)).toEqual({ state: 'answered', answer: 'late but claimed' });
    expect(await listPrompts(player)).toEqual([]);
    expect(await expirePrompt(player, b, t + 5000)).toEqual({ state: 'gone' });
  });

  it('lists newest first', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    await openPrompt({ player, promptId: 'i.g0.p0', instanceId: 'i', question: 'old', openedAt: 1 });
    await openPrompt({ player, promptId: 'j.g0.p0', instanceId: 'j', question: 'new', openedAt: 2 });
    expect((await listPrompts(player)).map((p) => p.question)).toEqual(['new', 'old']);
  });
});

describe('deliver (one flush)', () => {
  it('opens the prompt and writes its question together; a retry changes nothing', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const flush = {
      batch: { source: 'inst.g0', seq: 0 },
      messages: [{ player, text: 'Continue?' }],
      openPrompt: { player, promptId: 'inst.g0.p0', instanceId: 'inst', question: 'Continue?', openedAt: 1 },
    };
    await deliver(flush);
    await claimPrompt((await listPrompts(player))[0], 'yes', 1);
    await deliver(flush); // a retried activity: the claim survives, the question is not repeated
    expect((await listPrompts(player))[0]).toMatchObject({ promptId: 'inst.g0.p0', state: 'claimed' });
    expect(texts(await readMessages(player))).toEqual(['Continue?']);
  });

  it('closes the answered prompt while opening the next; falls back when the old one is already gone', async () => {
    const player = `p${randomUUID().slice(0, 8)}`;
    const open = (n: number) => ({ player, promptId: `inst.g0.p${n}`, instanceId: 'inst', question: `Q${n}?`, openedAt: n });
    await deliver({ batch: { source: 'inst.g0', seq: 0 }, messages: [{ player, text: 'Q0?' }], openPrompt: open(0) });
    await deliver({ batch: { source: 'inst.g0', seq: 1 }, messages: [{ player, text: 'Q1?' }], openPrompt: open(1), closePrompts: [{ player, promptId: 'inst.g0.p0' }] });
    expect((await listPrompts(player)).map((p) => p.promptId)).toEqual(['inst.g0.p1']);
    await closePrompt(player, 'inst.g0.p1'); // closed by another path meanwhile
    await deliver({ batch: { source: 'inst.g0', seq: 2 }, messages: [{ player, text: 'Q2?' }], openPrompt: open(2), closePrompts: [{ player, promptId: 'inst.g0.p1' }] });
    expect((await listPrompts(player)).map((p) => p.promptId)).toEqual(['inst.g0.p2']);
    expect(texts(await readMessages(player))).toEqual(['Q0?', 'Q1?', 'Q2?']);
  });
});

// GET /api/messages: cursor reads (oldest first, each message once), long polling with `wait`, and the
// message ids/times a client sees.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

describe('messages', () => {
  it('a cursor returns each message once, oldest first, with id and time', async () => {
    const p = await Player.join(host, 'reader');
    for (const word of ['one', 'two', 'three']) await p.type(`echo ${word}`);
    const first = await p.get('/api/messages');
    const messages = first.body.messages as { id: string; text: string; time: string }[];
    expect(messages.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(new Set(messages.map((m) => m.id)).size).toBe(3);
    for (const m of messages) expect(Number.isNaN(Date.parse(m.time))).toBe(false);
    const cursor = String(first.body.cursor);
    expect((await p.get(`/api/messages?after=${cursor}`)).body.messages).toEqual([]);
    await p.type('echo four');
    const next = await p.get(`/api/messages?after=${cursor}`);
    expect((next.body.messages as { text: string }[]).map((m) => m.text)).toEqual(['four']);
    // Reading again from the old cursor gives the same answer (reads have no side effects).
    expect((await p.get(`/api/messages?after=${cursor}`)).body.messages).toEqual(next.body.messages);
  });

  it('wait holds the request until a message arrives', async () => {
    const p = await Player.join(host, 'poller');
    const cursor = String((await p.get('/api/messages')).body.cursor);
    const pending = p.get(`/api/messages?after=${cursor}&wait=20`);
    await new Promise((resolve) => setImmediate(resolve));
    await p.type('echo wake up');
    const r = await pending;
    expect((r.body.messages as { text: string }[]).map((m) => m.text)).toEqual(['wake up']);
  });

  it('wait ends with no messages when none arrive', async () => {
    const p = await Player.join(host, 'quiet');
    const started = Date.now();
    const r = await p.get('/api/messages?wait=0.3');
    expect(r.body.messages).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

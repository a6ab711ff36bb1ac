// GET /api/stream over HTTP, as a client holding a live stream sees it: messages arrive as events whose ids resume
// exactly after them, a reconnect with Last-Event-ID loses and repeats nothing, every stream of a player gets the
// same messages and never another player's, bad cursors and tokens are refused before the stream opens, heartbeats
// keep a quiet stream alive, the stream ends with `event: end` in time, and closed streams leave no watcher behind.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { APP_DIR, Player, call, startGame } from './harness';
import { SseReader } from './sse';

type Outbox = typeof import('../../core/outbox');

/** The outbox module the host's app loaded (not this file's copy): its listener count is the app's. */
function appOutbox(host: TestHost): Outbox {
  return host.host.app.appRequire(path.join(APP_DIR, 'dist/core/outbox.js')) as Outbox;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('live stream', () => {
  let host: TestHost;
  let outbox: Outbox;
  const open = (p: Player, lastEventId?: string, query = ''): Promise<SseReader> => SseReader.open(`${host.url}/api/stream${query}`, p.token, lastEventId);

  beforeAll(async () => {
    host = await startGame({ GAME_INPUT_RATE: '1000', GAME_INPUT_BURST: '1000', GAME_MAX_STREAMS_PER_PLAYER: '50' });
    outbox = appOutbox(host);
  });
  afterAll(async () => host?.dispose());

  it('"Test!" from testdelay arrives over an open stream, as an event with the message and a resuming id', async () => {
    const p = await Player.join(host, 'streamer');
    const s = await open(p);
    expect(s.response.headers.get('content-type')).toBe('text/event-stream');
    expect(s.response.headers.get('cache-control')).toBe('no-store');
    await p.type('testdelay');
    await host.advance('10s');
    await s.until((r) => r.texts.includes('Test!'), '"Test!"');
    expect(s.items[0]).toEqual({ kind: 'retry', retry: 1000 });
    const [m] = s.messages;
    expect(m.text).toBe('Test!');
    expect(Number.isNaN(Date.parse(m.time))).toBe(false);
    // The event id is a cursor /api/messages takes as well: nothing comes after it yet.
    expect((await p.get(`/api/messages?after=${encodeURIComponent(m.eventId)}`)).body.messages).toEqual([]);
    expect(s.problems).toEqual([]);
    s.close();
  });

  it('a reconnect with Last-Event-ID delivers exactly the messages missed meanwhile, none twice', async () => {
    const p = await Player.join(host, 'reconnecter');
    const first = await open(p);
    await p.type('echo a');
    await p.type('echo b');
    await first.until((r) => r.texts.length === 2, 'a and b');
    expect(first.texts).toEqual(['a', 'b']);
    const [idA, idB] = first.messages.map((m) => m.eventId);
    first.close();
    await p.type('echo c');
    await p.type('echo d');

    const second = await open(p, idB);
    await second.until((r) => r.texts.length >= 2, 'c and d');
    await p.type('echo e');
    await second.until((r) => r.texts.includes('e'), 'e');
    expect(second.texts).toEqual(['c', 'd', 'e']);

    // From a's id (here in after=): b again, then the rest; the same message ids as the first stream gave.
    const third = await open(p, undefined, `?after=${encodeURIComponent(idA)}`);
    await third.until((r) => r.texts.length >= 4, 'b to e');
    expect(third.texts).toEqual(['b', 'c', 'd', 'e']);
    expect(third.messages[0].id).toBe(first.messages[1].id);
    // Each event's id resumes right after its own message, on the stream and on /api/messages alike.
    const afterC = second.messages[0].eventId;
    expect(((await p.get(`/api/messages?after=${encodeURIComponent(afterC)}`)).body.messages as { text: string }[]).map((m) => m.text)).toEqual(['d', 'e']);
    // Last-Event-ID wins over after=.
    const fourth = await open(p, afterC, `?after=${encodeURIComponent(idA)}`);
    await fourth.until((r) => r.texts.length >= 2, 'd and e');
    await p.type('echo f');
    await fourth.until((r) => r.texts.includes('f'), 'f');
    expect(fourth.texts).toEqual(['d', 'e', 'f']);
    for (const s of [second, third, fourth]) s.close();
  });

  it("a second stream of the same player gets the same messages; another player's stream never carries them", async () => {
    const alice = await Player.join(host, 'alice-s');
    const bob = await Player.join(host, 'bob-s');
    const [a1, a2, b1] = await Promise.all([open(alice), open(alice), open(bob)]);
    await alice.type('echo for alice only');
    await bob.type('echo for bob');
    await alice.type('echo alice again');
    for (const s of [a1, a2]) await s.until((r) => r.texts.length >= 2, "alice's two messages");
    await b1.until((r) => r.texts.length >= 1, "bob's message");
    // Give a stray message time to show up on the wrong stream before looking.
    await bob.type('echo bob again');
    await b1.until((r) => r.texts.length >= 2, "bob's second message");
    expect(a1.texts).toEqual(['for alice only', 'alice again']);
    expect(a2.messages).toEqual(a1.messages);
    expect(b1.texts).toEqual(['for bob', 'bob again']);

    // Alice's cursor is no use to Bob: a 400 before any stream opens (and on /api/messages too).
    const aliceId = a1.lastId!;
    for (const headers of [{ 'last-event-id': aliceId }, {}]) {
      const query = 'last-event-id' in headers ? '' : `?after=${encodeURIComponent(aliceId)}`;
      const r = await call(host, 'GET', `/api/stream${query}`, undefined, bob.token, headers);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'invalid_query', message: expect.stringMatching(/another player/) } });
    }
    expect((await bob.get(`/api/messages?after=${encodeURIComponent(aliceId)}`)).status).toBe(400);
    for (const s of [a1, a2, b1]) s.close();
  });

  it('a malformed Last-Event-ID or after= is a 400 JSON error, a missing or bad token a 401, before the stream opens', async () => {
    const p = await Player.join(host, 'badinput-s');
    const cases: [Record<string, string>, string, number, string][] = [
      [{ 'last-event-id': 'not-a-cursor' }, '', 400, 'invalid_query'],
      [{}, '?after=not-a-cursor', 400, 'invalid_query'],
      [{ 'last-event-id': 'x'.repeat(9000) }, '', 400, 'invalid_query'],
      [{ 'last-event-id': Buffer.from(JSON.stringify({ k: 'm000000000000000', s: [] })).toString('base64') + '==' }, '', 400, 'invalid_query'],
    ];
    for (const [headers, query, status, code] of cases) {
      const res = await host.fetch(`/api/stream${query}`, { headers: { authorization: `Bearer ${p.token}`, ...headers } });
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toMatchObject({ error: { code, message: expect.stringMatching(/Last-Event-ID|after=/) } });
    }
    expect(await call(host, 'GET', '/api/stream')).toMatchObject({ status: 401, body: { error: { code: 'missing_token' } } });
    expect(await call(host, 'GET', '/api/stream', undefined, 'forged.token.here')).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
  });

  it('a message another instance writes (not this process) arrives through the once-a-second table read', async () => {
    const p = await Player.join(host, 'elsewhere');
    const s = await open(p);
    await s.until((r) => r.items.length >= 1, 'the stream to open');
    // This file's own copy of the outbox writes to the same table, but the app's watchers never hear of it.
    const { writeMessages } = await import('../../core/outbox');
    const t0 = Date.now();
    await writeMessages({ source: 'another-instance', seq: 0 }, [{ player: p.player, text: 'from afar' }]);
    await s.until((r) => r.texts.includes('from afar'), 'the message', 5000);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(s.texts).toEqual(['from afar']);
    s.close();
  });

  it('closing streams and finishing long polls leaves no watcher behind', async () => {
    const p = await Player.join(host, 'closer');
    const q = await Player.join(host, 'poller-s');
    await eventually(() => outbox.writeListenerCount() === 0, 'no watcher from earlier tests');
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const streams = await Promise.all(Array.from({ length: 50 }, () => open(p)));
    expect(outbox.writeListenerCount()).toBe(50);
    await p.type('echo to all fifty');
    for (const s of streams) await s.until((r) => r.texts.length === 1, 'the message');
    for (const s of streams) s.close();
    await eventually(() => outbox.writeListenerCount() === 0, 'every watcher released');

    // Long polls use the same watch: each one waiting holds one, and gives it back when it answers.
    const cursor = String((await q.get('/api/messages')).body.cursor);
    const polls = Array.from({ length: 5 }, () => q.get(`/api/messages?after=${encodeURIComponent(cursor)}&wait=20`));
    await eventually(() => outbox.writeListenerCount() === 5, 'five long polls waiting');
    await q.type('echo wake');
    for (const r of await Promise.all(polls)) expect((r.body.messages as { text: string }[]).map((m) => m.text)).toEqual(['wake']);
    expect(outbox.writeListenerCount()).toBe(0);
    // No timer per stream or poll is left running either (a few of the host's own may come and go).
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBeLessThanOrEqual(timersBefore + 3);
  });
});

describe('stream lifetime', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startGame({ GAME_STREAM_SECONDS: '2', GAME_STREAM_HEARTBEAT_SECONDS: '1', GAME_INPUT_RATE: '1000', GAME_INPUT_BURST: '1000' });
  });
  afterAll(async () => host?.dispose());

  it('a quiet stream sends keepalive comments, then ends with event: end after GAME_STREAM_SECONDS', async () => {
    const p = await Player.join(host, 'quiet-s');
    const started = Date.now();
    const s = await SseReader.open(`${host.url}/api/stream`, p.token);
    await s.until((r) => r.items.some((i) => i.kind === 'comment'), 'a keepalive', 5000);
    expect(s.items.find((i) => i.kind === 'comment')).toEqual({ kind: 'comment', comment: 'keepalive' });
    await s.closed(5000);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(4000);
    expect(s.items.at(-1)).toEqual({ kind: 'event', event: 'end', data: '{"reason":"reconnect"}' });
    expect(s.problems).toEqual([]);
  });

  it('a client that reconnects with its last id after each end gets every message once, in order', async () => {
    const p = await Player.join(host, 'long-s');
    const expected = Array.from({ length: 24 }, (_, i) => `m${i}`);
    const got: string[] = [];
    let streams = 0;
    let typing = true;
    const writer = (async () => {
      for (const text of expected) {
        await p.type(`echo ${text}`);
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      typing = false;
    })();
    let lastId: string | undefined;
    while (typing || got.length < expected.length) {
      const s = await SseReader.open(`${host.url}/api/stream`, p.token, lastId);
      streams++;
      await s.closed(5000);
      expect(s.items.at(-1)).toMatchObject({ event: 'end' });
      got.push(...s.texts);
      lastId = s.lastId ?? lastId;
      if (streams > 10) break;
    }
    await writer;
    expect(got).toEqual(expected);
    expect(streams).toBeGreaterThanOrEqual(2);
  });
});

describe('streams per player', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startGame({ GAME_MAX_STREAMS_PER_PLAYER: '2', GAME_INPUT_RATE: '1000', GAME_INPUT_BURST: '1000' });
  });
  afterAll(async () => host?.dispose());

  it("a player's stream beyond GAME_MAX_STREAMS_PER_PLAYER ends their oldest one (replaced), never another player's", async () => {
    const alice = await Player.join(host, 'many-s');
    const bob = await Player.join(host, 'other-s');
    const open = (p: Player): Promise<SseReader> => SseReader.open(`${host.url}/api/stream`, p.token);
    const first = await open(alice);
    const second = await open(alice);
    const bobs = await open(bob);
    await first.until((r) => r.items.length >= 1, 'the first stream to open');
    const third = await open(alice);
    await first.closed(5000);
    expect(first.items.at(-1)).toEqual({ kind: 'event', event: 'end', data: '{"reason":"replaced"}' });
    await alice.type('echo still here');
    await bob.type('echo bob too');
    for (const s of [second, third]) await s.until((r) => r.texts.includes('still here'), 'the message on the streams left open');
    await bobs.until((r) => r.texts.includes('bob too'), "bob's message");
    expect(second.ended || third.ended || bobs.ended).toBe(false);
    expect(appOutbox(host).writeListenerCount()).toBe(3);
    for (const s of [second, third, bobs]) s.close();
  });
});

// The terminal client's message feed (client/feed.ts) against a small fake server: how it reconnects when the
// server ends a stream on purpose.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GameApi } from '../../client/api';
import { MessageFeed } from '../../client/feed';

let server: http.Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server whose every stream says `retry: 100`, then ends at once with `event: end` and the given data. */
async function endingServer(data: string): Promise<{ url: string; opened: number[] }> {
  const opened: number[] = [];
  server = http.createServer((req, res) => {
    opened.push(performance.now());
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`retry: 100\n\nevent: end\ndata: ${data}\n\n`);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opened };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('MessageFeed', () => {
  it('a stream replaced by another client of the player is taken back after the retry time, twice as long each time in a row', async () => {
    const { url, opened } = await endingServer('{"reason":"replaced"}');
    const api = new GameApi(url);
    api.token = 'token';
    const feed = new MessageFeed(api, { onMessages: async () => undefined, onStatus: () => undefined });
    void feed.run();
    try {
      await until(() => opened.length >= 4, 'four streams');
    } finally {
      await feed.stop();
    }
    const gaps = opened.slice(1, 4).map((t, i) => t - opened[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThanOrEqual(200);
    expect(gaps[2]).toBeGreaterThanOrEqual(400);
  });
});

describe('MessageFeed and a refused cursor', () => {
  it('a cursor the server refuses (400) is dropped: the feed reads from the start again and shows nothing twice, instead of retrying it forever', async () => {
    // The first stream delivers m1 and m2 and breaks; the server then refuses that cursor (as after a deploy that
    // changed the cursor format) and, read from the start, has m1, m2 and a new m3.
    const seen: (string | null)[] = [];
    const event = (id: string, text: string) => `id: ${id}\nevent: message\ndata: ${JSON.stringify({ id, text, time: '2026-12-01T00:00:00.000Z' })}\n\n`;
    server = http.createServer((req, res) => {
      const cursor = req.headers['last-event-id'] ?? null;
      seen.push(typeof cursor === 'string' ? cursor : null);
      if (cursor === null && seen.length === 1) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`retry: 50\n\n${event('m1', 'one')}${event('m2', 'two')}`);
      } else if (cursor !== null) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'invalid_query', message: 'not a cursor this server returned' } }));
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`retry: 50\n\n${event('m1', 'one')}${event('m2', 'two')}${event('m3', 'three')}`);
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const api = new GameApi(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    api.token = 'token';
    const shown: string[] = [];
    const statuses: string[] = [];
    const feed = new MessageFeed(api, { onMessages: async (ms) => void shown.push(...ms.map((m) => m.text)), onStatus: (s) => statuses.push(s.kind), backoffMs: 20 });
    void feed.run();
    try {
      await until(() => shown.length >= 3, 'the third message');
    } finally {
      await feed.stop();
    }
    expect(shown).toEqual(['one', 'two', 'three']);
    expect(statuses).toContain('restarted');
    expect(seen.slice(0, 3)).toEqual([null, 'm2', null]);
  });
});

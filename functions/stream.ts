// GET /api/stream: the player's messages as server-sent events, live. Each message is an `event: message` whose id is
// the cursor that resumes right after it (send it back as Last-Event-ID, or after=); a quiet stream sends
// `: keepalive` comments, and after GAME_STREAM_SECONDS it ends with `event: end` so the client reconnects before
// Azure's front end cuts the request at 230 s. A player holds at most GAME_MAX_STREAMS_PER_PLAYER streams on one
// instance: one more ends their oldest with `event: end` (reason "replaced"). The waiting is core/watch.ts, shared
// with the long poll.
import './lib/app';
import { app } from '@azure/functions';
import { GameError } from '../core/errors';
import { checkCursor, type EachPage } from '../core/outbox';
import { settings } from '../core/settings';
import { MessageWatch } from '../core/watch';
import { authenticate, route } from './lib/http';
import { sseComment, sseEvent, sseRetry } from './lib/sse';

/** What a browser's EventSource waits before reconnecting (our clients reconnect on `event: end` at once). */
const RETRY_MS = 1000;
const MAX_CURSOR_CHARS = 16 * 1024;

app.http('stream', {
  route: 'stream',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: route(async (req) => {
    const player = authenticate(req);
    // Last-Event-ID wins: it is what an EventSource sends on its own when it reconnects.
    const header = req.headers.get('last-event-id') || undefined;
    const cursor = header ?? (req.query.get('after') || undefined);
    const source = header !== undefined ? 'Last-Event-ID' : 'after';
    if (cursor !== undefined && cursor.length > MAX_CURSOR_CHARS) throw new GameError('invalid_query', `${source} is longer than any cursor this server returns.`);
    checkCursor(player, cursor, source);
    const endAt = Date.now() + settings.streamSeconds() * 1000;
    const heartbeatMs = settings.streamHeartbeatSeconds() * 1000;
    const maxStreams = settings.maxStreamsPerPlayer();
    const watch = new MessageWatch(player, cursor);
    let first: EachPage;
    try {
      // The first read before the answer: storage that is down is a 503 the client retries, not a stream that ends.
      first = await watch.next(Date.now());
    } catch (err) {
      watch.close();
      throw err;
    }
    return {
      status: 200,
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
      body: eventStream(player, watch, first, { endAt, heartbeatMs, maxStreams }),
    };
  }),
});

/** The events of a page: one per message, its id the cursor after it. */
function messageEvents(page: EachPage): string {
  return page.messages.map((m, i) => sseEvent('message', m, page.after[i])).join('');
}

const END = sseEvent('end', { reason: 'reconnect' });
const REPLACED = sseEvent('end', { reason: 'replaced' });

/** A stream this process holds open: `replace` ends it as soon as it can (the player opened one too many). */
interface OpenStream {
  replace(): void;
}

/**
 * This process's open streams per player, oldest first. On Azure the worker never tells a stream that its client went
 * away (see eventStream), so without a bound every reconnect or reload would leave one more running to its end, each
 * reading the table once a second; with it, the newest streams of a player are served and the oldest make room.
 */
const openStreams = new Map<string, Set<OpenStream>>();

/** Holds `stream` among the player's open ones, replacing the oldest past `max`; returns what lets go of it. */
function hold(player: string, max: number, stream: OpenStream): () => void {
  let mine = openStreams.get(player);
  if (!mine) openStreams.set(player, (mine = new Set()));
  mine.add(stream);
  const excess = mine.size - max;
  if (excess > 0) for (const oldest of [...mine].slice(0, excess)) oldest.replace();
  return () => {
    mine.delete(stream);
    if (mine.size === 0 && openStreams.get(player) === mine) openStreams.delete(player);
  };
}

/**
 * The response body: the first page, then each next page as it comes, keepalives while quiet, `event: end` at
 * `endAt` (or, reason "replaced", when the player opens more than `maxStreams`). Pulled by the host as it writes
 * (one chunk at a time); cancelled when the client goes away, which closes the watch (its listener and timer) at once.
 */
function eventStream(
  player: string,
  watch: MessageWatch,
  first: EachPage,
  { endAt, heartbeatMs, maxStreams }: { endAt: number; heartbeatMs: number; maxStreams: number },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let lastSent = Date.now();
  let done = false;
  let replaced = false;
  const release = hold(player, maxStreams, {
    replace() {
      replaced = true;
      release();
      watch.close(); // wakes a waiting pull, which ends the stream
    },
  });
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>): void => {
    done = true;
    release();
    watch.close();
    controller.enqueue(encoder.encode(replaced ? REPLACED : END));
    controller.close();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(sseRetry(RETRY_MS) + messageEvents(first)));
    },
    async pull(controller) {
      // Returns only after enqueueing something (or ending): the host asks for the next chunk once, and waits.
      while (!done) {
        if (replaced || Date.now() >= endAt) return finish(controller);
        let page: EachPage;
        try {
          page = await watch.next(Math.min(endAt, lastSent + heartbeatMs));
        } catch (err) {
          if (done) return;
          // Storage failed mid-stream: end it; the client reconnects with its last id and loses nothing.
          console.warn(`[evennia-durable] stream of ${player} ended early: ${err instanceof Error ? err.message : String(err)}`);
          return finish(controller);
        }
        if (done) return; // the client went away while we waited
        if (replaced) return finish(controller);
        let text = messageEvents(page);
        if (!text && Date.now() >= lastSent + heartbeatMs) text = sseComment('keepalive');
        if (text) {
          lastSent = Date.now();
          controller.enqueue(encoder.encode(text));
          return;
        }
      }
    },
    cancel() {
      done = true;
      release();
      watch.close();
    },
  });
}

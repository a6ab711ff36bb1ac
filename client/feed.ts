// The player's messages as they arrive: GET /api/stream (server-sent events read with fetch), or long polling
// GET /api/messages?wait=25 when the server has no stream route (404) or the player asked for it. Reconnects on its
// own with backoff from the last cursor, so nothing is missed and nothing comes twice.
import { ClientError, errorText, networkReason, sleep, type GameApi, type Message } from './api';
import { SseParser } from './sse';

/** How the feed is connected; `reconnecting` is said once per outage, `connected` once when it is over. */
export type FeedStatus =
  | { kind: 'reconnecting'; reason: string }
  | { kind: 'connected' }
  | { kind: 'fallback'; reason: string }
  /** The server refused the feed's position; it reads from the start again and skips the messages already shown. */
  | { kind: 'restarted'; reason: string };

export interface FeedOptions {
  /** Use long polling even when the server has the stream route. */
  longPoll?: boolean;
  /** Messages in arrival order, one batch per chunk read; the feed waits for each call before the next. */
  onMessages(messages: Message[]): Promise<void>;
  onStatus(status: FeedStatus): void;
  /** First wait after a failure (the stream's `retry:` replaces it); doubles up to maxBackoffMs. Default 500. */
  backoffMs?: number;
  /** Default 10 s. */
  maxBackoffMs?: number;
  /** A stream silent this long (no keepalive either) is reopened. Default 45 s (3 of the server's default heartbeats). */
  silenceMs?: number;
}

/** How many shown message ids the feed remembers (a server keeps GAME_MESSAGE_RETENTION_SECONDS of them, a day by default). */
const SHOWN_MEMORY = 5000;

/** The long poll's wait, in seconds (the route's maximum). */
export const POLL_WAIT_SECONDS = 25;

/** Why one connection ended: read on at once, a failure (backoff), or another client of the player took its place. */
type Outcome = 'again' | 'failed' | 'replaced';

/**
 * Reads the player's messages until stop().
 * @example
 * const feed = new MessageFeed(api, { onMessages: async (ms) => ms.forEach((m) => console.log(m.text)), onStatus: console.error });
 * void feed.run();
 * // … later
 * await feed.stop();
 */
export class MessageFeed {
  /** Cursor after the last message delivered; undefined before the first. */
  cursor: string | undefined;
  /** 'stream' until the server answers 404 to it (or longPoll was asked for). */
  mode: 'stream' | 'poll';
  private stopped = new AbortController();
  private current: AbortController | undefined;
  private running: Promise<void> | undefined;
  private down = false;
  private failures = 0;
  /** Streams replaced in a row (see loop). */
  private replaced = 0;
  private retryMs: number;
  private quickPoll = true;
  private lastFailure = '';
  private renewed = false;
  /** Ids of the messages shown (the newest SHOWN_MEMORY): after a refused cursor the feed reads from the start again and skips them. */
  private readonly shown = new Set<string>();

  constructor(
    private readonly api: GameApi,
    private readonly opts: FeedOptions,
  ) {
    this.mode = opts.longPoll ? 'poll' : 'stream';
    this.retryMs = opts.backoffMs ?? 500;
  }

  /** Runs until stop(); rejects with ClientError when the session cannot be renewed. */
  run(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Closes the open stream or poll and ends run(). */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.current?.abort();
    await this.running?.catch(() => undefined);
  }

  /** After stop(): one last read of what arrived meanwhile (end of input: the answers to the last lines show). */
  async drain(): Promise<void> {
    try {
      const r = await this.api.authed('GET', `messages?${this.query(0)}`);
      if (r.status === 200) await this.deliverPage(r.data);
    } catch {
      // Best effort: the player is leaving.
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped.signal.aborted) {
      const controller = new AbortController();
      this.current = controller;
      let outcome: Outcome;
      let reason = '';
      try {
        outcome = this.mode === 'stream' ? await this.streamOnce(controller) : await this.pollOnce(controller);
      } catch (err) {
        if (err instanceof ClientError) throw err;
        // A stream (or poll) silent past its time is reopened at once, quietly: only if that fails is it an outage.
        outcome = controller.signal.reason === 'silence' ? 'again' : 'failed';
        reason = networkReason(err);
      }
      if (this.stopped.signal.aborted) return;
      if (outcome === 'replaced') {
        // The server holds a few streams per player and ended this one for a newer one (another window, or a
        // stream of ours it still thinks open). Take one back after a wait that doubles each time in a row, so
        // more clients than the server holds do not keep ending each other's streams.
        this.replaced += 1;
        await sleep(Math.min(this.retryMs * 2 ** (this.replaced - 1), this.opts.maxBackoffMs ?? 10_000), this.stopped.signal);
        continue;
      }
      if (outcome === 'again') {
        this.failures = 0;
        continue;
      }
      this.failures += 1;
      this.quickPoll = true;
      if (!this.down) {
        this.down = true;
        this.opts.onStatus({ kind: 'reconnecting', reason: reason || this.lastFailure });
      }
      const backoff = Math.min(this.retryMs * 2 ** (this.failures - 1), this.opts.maxBackoffMs ?? 10_000);
      await sleep(backoff + Math.floor(Math.random() * 250), this.stopped.signal);
    }
  }

  /** Called when a request was answered as it should be: ends an outage. */
  private connected(): void {
    if (this.down) {
      this.down = false;
      this.opts.onStatus({ kind: 'connected' });
    }
  }

  private failed(why: string): Outcome {
    this.lastFailure = why;
    return 'failed';
  }

  private query(wait: number): string {
    const q = new URLSearchParams({ wait: String(wait) });
    if (this.cursor) q.set('after', this.cursor);
    return q.toString();
  }

  private async streamOnce(controller: AbortController): Promise<Outcome> {
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${this.api.token}` };
    if (this.cursor) headers['last-event-id'] = this.cursor;
    const res = await fetch(this.api.route('stream'), { headers, signal: controller.signal });
    if (res.status !== 200 || !res.body) {
      const reply = await replyOf(res);
      if (res.status === 404) {
        this.mode = 'poll';
        this.opts.onStatus({ kind: 'fallback', reason: 'the server has no /api/stream' });
        return 'again';
      }
      if (res.status === 401) {
        // The token expired: sign in again once; refused again right after that, the session is over.
        if (this.renewed) throw new ClientError(`The game refused the session: ${errorText(reply)}`);
        this.renewed = true;
        await this.api.renew(reply);
        return 'again';
      }
      if (res.status === 400 && this.cursor) return this.restart(errorText(reply));
      return this.failed(errorText(reply));
    }
    this.connected();
    this.renewed = false;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const silenceMs = this.opts.silenceMs ?? 45_000;
    let watchdog = setTimeout(() => controller.abort('silence'), silenceMs);
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller.abort('silence'), silenceMs);
        const batch: Message[] = [];
        let ended: Outcome | undefined;
        for (const item of parser.feed(decoder.decode(chunk, { stream: true }))) {
          if (item.kind === 'retry') this.retryMs = item.ms;
          if (item.kind !== 'event') continue;
          if (item.event === 'message') {
            const message = parseMessage(item.data);
            if (message) batch.push(message);
            if (item.id) this.cursor = item.id;
          } else if (item.event === 'end') ended = endReason(item.data) === 'replaced' ? 'replaced' : 'again';
        }
        if (batch.length > 0) await this.show(batch);
        this.failures = 0;
        // The server ends each stream well before the platform's request limit: reconnect at once, quietly.
        if (ended === 'again') this.replaced = 0;
        if (ended) return ended;
      }
    } finally {
      clearTimeout(watchdog);
      controller.abort();
    }
    return this.failed('the stream closed');
  }

  private async pollOnce(controller: AbortController): Promise<Outcome> {
    const wait = this.quickPoll ? 0 : POLL_WAIT_SECONDS;
    const started = Date.now();
    const timeout = setTimeout(() => controller.abort('silence'), (wait + 15) * 1000);
    let reply;
    try {
      reply = await this.api.authed('GET', `messages?${this.query(wait)}`, { signal: controller.signal });
    } finally {
      clearTimeout(timeout);
    }
    if (reply.status === 401) throw new ClientError(`The game refused the session: ${errorText(reply)}`); // after signing in again
    if (reply.status === 400 && this.cursor) return this.restart(errorText(reply));
    if (reply.status !== 200 || !Array.isArray(reply.data?.messages)) return this.failed(errorText(reply));
    this.connected();
    const count = await this.deliverPage(reply.data);
    // The first read (and the first after an outage) does not wait, so the history shows at once; a full page
    // means more are waiting.
    this.quickPoll = count >= 100;
    if (wait > 0 && count === 0 && Date.now() - started < 1000) await sleep(1000, this.stopped.signal); // a server that does not hold the poll
    return 'again';
  }

  private async deliverPage(data: Record<string, unknown> | null): Promise<number> {
    const messages = (Array.isArray(data?.messages) ? data.messages : []).map(toMessage).filter((m): m is Message => m !== null);
    if (typeof data?.cursor === 'string') this.cursor = data.cursor;
    await this.show(messages);
    return messages.length;
  }

  /** Hands on the messages not shown before, and remembers them. */
  private async show(messages: Message[]): Promise<void> {
    const fresh = messages.filter((m) => !m.id || !this.shown.has(m.id));
    for (const m of fresh) {
      if (!m.id) continue;
      this.shown.add(m.id);
      if (this.shown.size > SHOWN_MEMORY) this.shown.delete(this.shown.values().next().value as string);
    }
    if (fresh.length > 0) await this.opts.onMessages(fresh);
  }

  /**
   * The server refused the cursor (400: e.g. a deploy changed the cursor format): read from the start again, skipping
   * what was shown, instead of retrying the refused cursor forever.
   */
  private restart(why: string): Outcome {
    this.cursor = undefined;
    this.quickPoll = true;
    this.opts.onStatus({ kind: 'restarted', reason: why });
    return 'again';
  }
}

/** The `reason` of an `end` event's data ('' when it has none). */
function endReason(data: string): string {
  try {
    const reason: unknown = (JSON.parse(data) as { reason?: unknown } | null)?.reason;
    return typeof reason === 'string' ? reason : '';
  } catch {
    return '';
  }
}

/** A message event's data, or null when it is not one (a newer server's event this client does not know). */
function parseMessage(data: string): Message | null {
  try {
    return toMessage(JSON.parse(data));
  } catch {
    return null;
  }
}

function toMessage(value: unknown): Message | null {
  const m = value as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || typeof m.text !== 'string') return null;
  return { id: String(m.id ?? ''), text: m.text, time: String(m.time ?? '') };
}

async function replyOf(res: Response): Promise<{ status: number; data: Record<string, unknown> | null; retryAfterMs: number | null }> {
  let data: Record<string, unknown> | null = null;
  try {
    data = (await res.json()) as Record<string, unknown>;
  } catch {
    data = null;
  }
  return { status: res.status, data, retryAfterMs: null };
}

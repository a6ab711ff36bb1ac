// A waiting reader of one player's outbox, shared by the long poll (GET /api/messages?wait=) and the stream
// (GET /api/stream): it wakes at once on this process's writes to the player and reads the table every second for
// what other instances wrote. One listener and at most one timer per watch, both gone when it closes.
import { onWritten, OWN_WRITES_MS, PAGE, pageOfWritten, readMessages, readMessagesEach, type EachPage, type MessagePage, type Row } from './outbox';

/** How often a waiting reader reads the table for messages other instances wrote. */
export const POLL_MS = 1000;

export interface WatchOptions {
  /** Milliseconds between table reads while nothing arrives (default POLL_MS). */
  pollMs?: number;
  /** Ends the watch (a stream whose client went away): a waiting next() returns at once. */
  signal?: AbortSignal;
}

/**
 * One reader waiting for a player's messages, from a cursor on: each next() returns the following page.
 *
 * @example
 * const watch = new MessageWatch('alice', cursor);
 * try {
 *   const { messages, after } = await watch.next(Date.now() + 25_000);
 * } finally {
 *   watch.close();
 * }
 */
export class MessageWatch {
  private cursor: string | undefined;
  /** Rows this process wrote to the player since the last table read began. */
  private pushed: Row[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  /** When the table is to be read next (ms; 0: at once), and whether the last page was full (then more may wait). */
  private nextRead = 0;
  private more = false;
  /** When the last table read began (ms). */
  private readAt = 0;
  private readonly unsubscribe: () => void;
  private readonly pollMs: number;
  private readonly onAbort = (): void => this.close();

  constructor(
    readonly player: string,
    cursor: string | undefined,
    private readonly options: WatchOptions = {},
  ) {
    this.cursor = cursor;
    this.pollMs = options.pollMs ?? POLL_MS;
    // Subscribed before the first read, so a write between a read and the wait after it is not missed.
    this.unsubscribe = onWritten(player, (rows) => {
      this.pushed.push(...rows);
      this.wake?.();
    });
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** True once close() ran (or the signal aborted). */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * The messages after the watch's cursor (at most 100, each with the cursor after it); when there are none, waits
   * until `untilMs` (epoch ms) for some and then returns an empty page. The first call reads the table at once; later
   * calls read it when a poll interval has passed since the last read (or that read filled a page), and in between
   * answer from this process's own writes only, so a busy reader costs about as many reads as an idle one; past
   * OWN_WRITES_MS after a read, a write of this process is answered by a read instead, so the cursor never moves
   * past a row another instance committed late. The watch moves on to the page's cursor.
   *
   * @example
   * const page = await watch.next(Date.now()); // one read, no wait
   */
  async next(untilMs: number): Promise<EachPage> {
    for (;;) {
      const now = Date.now();
      if (this.more || now >= this.nextRead || (this.pushed.length > 0 && now - this.readAt > OWN_WRITES_MS)) {
        // Rows pushed before this read began are committed, so the read finds them.
        this.pushed = [];
        this.readAt = now;
        this.nextRead = now + this.interval();
        const page = await readMessagesEach(this.player, this.cursor);
        this.cursor = page.cursor;
        this.more = page.messages.length >= PAGE;
        if (page.messages.length > 0) return page;
      } else if (this.pushed.length > 0) {
        // This process's own writes answer without a read; rows other instances committed since the last read (at
        // most OWN_WRITES_MS ago) are within the cursor's window, so the next read still finds them.
        const fresh = pageOfWritten(this.player, this.cursor, this.pushed.splice(0), Date.now(), true) as EachPage;
        if (fresh.messages.length > 0) {
          this.cursor = fresh.cursor;
          this.more = fresh.messages.length >= PAGE;
          return fresh;
        }
      }
      const left = untilMs - Date.now();
      if (this.closed || left <= 0) return { messages: [], cursor: this.cursor as string, after: [] };
      await this.sleep(Math.min(left, this.nextRead - Date.now()));
    }
  }

  /** Stops listening and wakes a waiting next(). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.wake?.();
  }

  /**
   * The time between reads: pollMs on average, drawn from 0.75-1.25 x, so that readers who started together (many
   * streams opened at once) do not all read the table in the same instant, every second.
   */
  private interval(): number {
    return this.pollMs * (0.75 + Math.random() / 2);
  }

  /** Waits `ms`, or less when a write arrives or the watch closes. */
  private sleep(ms: number): Promise<void> {
    if (this.pushed.length > 0 || this.closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/**
 * Reads a player's messages after `cursor`; when there are none yet, waits up to `waitSeconds` for some.
 *
 * @example
 * const result = await waitForMessages('alice', cursor, 25);
 */
export async function waitForMessages(player: string, cursor: string | undefined, waitSeconds: number, pollMs = POLL_MS): Promise<MessagePage> {
  if (waitSeconds <= 0) return readMessages(player, cursor);
  const watch = new MessageWatch(player, cursor, { pollMs });
  try {
    const { messages, cursor: next } = await watch.next(Date.now() + waitSeconds * 1000);
    return { messages, cursor: next };
  } finally {
    watch.close();
  }
}

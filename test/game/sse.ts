// A small server-sent events client for tests, as a browser's fetch-based client reads GET /api/stream: it keeps
// every event and comment in arrival order and lets a test wait for one.

/** One thing the stream said: an event (`message`, `end`), a comment (`: keepalive`) or a retry hint. */
export interface SseItem {
  kind: 'event' | 'comment' | 'retry';
  event?: string;
  id?: string;
  data?: string;
  comment?: string;
  retry?: number;
}

/** A message event's data, as /api/messages returns each message. */
export interface StreamMessage {
  id: string;
  text: string;
  time: string;
}

export class SseReader {
  readonly items: SseItem[] = [];
  /** True once the server closed the stream (after `event: end`) or the reader was closed. */
  ended = false;
  /** Lines that are not server-sent events (a test expects none). */
  readonly problems: string[] = [];
  private waiters: (() => void)[] = [];
  private readonly done: Promise<void>;

  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.done = this.pump();
  }

  /** Opens GET `url` with the token and optional Last-Event-ID; the reader only when the answer is 200. */
  static async open(url: string, token: string, lastEventId?: string): Promise<SseReader> {
    const abort = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const res = await fetch(url, { headers, signal: abort.signal });
    if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
    return new SseReader(res, abort);
  }

  /** The message events so far, with their ids. */
  get messages(): (StreamMessage & { eventId: string })[] {
    return this.items
      .filter((i) => i.kind === 'event' && i.event === 'message')
      .map((i) => ({ ...(JSON.parse(i.data ?? '{}') as StreamMessage), eventId: i.id ?? '' }));
  }

  get texts(): string[] {
    return this.messages.map((m) => m.text);
  }

  /** The id of the last message event (what a client sends back as Last-Event-ID). */
  get lastId(): string | undefined {
    return this.messages.at(-1)?.eventId;
  }

  /** Waits until `check` holds for the items so far (or the stream ended), failing after `timeoutMs`. */
  async until(check: (r: SseReader) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check(this)) {
      if (this.ended) throw new Error(`the stream ended before ${what}; it said ${JSON.stringify(this.items)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; the stream said ${JSON.stringify(this.items)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the server to end the stream. */
  async closed(timeoutMs = 10_000): Promise<void> {
    await Promise.race([this.done, new Promise((_, reject) => setTimeout(() => reject(new Error(`the stream was still open after ${timeoutMs} ms`)), timeoutMs).unref())]);
  }

  /** Goes away, as a client whose tab closed. */
  close(): void {
    this.abort.abort();
  }

  private async pump(): Promise<void> {
    const reader = this.response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        this.notify();
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.notify();
    }
  }

  private parse(block: string): void {
    const item: SseItem = { kind: 'event' };
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) this.items.push({ kind: 'comment', comment: line.slice(1).trim() });
      else if (line.startsWith('retry: ')) this.items.push({ kind: 'retry', retry: Number(line.slice(7)) });
      else if (line.startsWith('id: ')) item.id = line.slice(4);
      else if (line.startsWith('event: ')) item.event = line.slice(7);
      else if (line.startsWith('data: ')) item.data = (item.data === undefined ? '' : item.data + '\n') + line.slice(6);
      else if (line !== '') this.problems.push(line);
    }
    if (item.event !== undefined || item.data !== undefined) this.items.push(item);
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

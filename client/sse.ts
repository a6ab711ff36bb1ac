// A server-sent events parser (the WHATWG "event stream interpretation"), fed text as it arrives in chunks of any
// size: the terminal client reads /api/stream with fetch, because EventSource cannot send an Authorization header.

/** One parsed item: a dispatched event, a reconnection time the server asked for, or a comment line (keepalive). */
export type SseItem =
  | { kind: 'event'; event: string; data: string; id: string }
  | { kind: 'retry'; ms: number }
  | { kind: 'comment'; text: string };

/**
 * Turns a text/event-stream into events. Lines end with CRLF, LF or CR (a CR at the end of a chunk waits for the
 * next chunk, which may start with its LF); `data:` lines of one event are joined with "\n"; an event is dispatched
 * at a blank line, and one without data is not dispatched; `id` is the last event id seen so far (ids with NUL are
 * ignored, as the spec says), carried by every later event; `retry` takes digits only. A partial event at the end
 * of the stream is dropped, as browsers drop it. Decode bytes with a streaming TextDecoder before feeding.
 *
 * @example
 * const parser = new SseParser();
 * parser.feed('id: 7\nevent: message\ndata: {"text":"Test!"}\n\n');
 * // → [{ kind: 'event', event: 'message', data: '{"text":"Test!"}', id: '7' }]
 */
export class SseParser {
  /** The last event id: what a reconnect sends as Last-Event-ID. */
  lastEventId = '';
  private buffer = '';
  private started = false;
  private data: string[] = [];
  private event = '';
  private pendingCr = false;

  /** Parses one chunk; returns the items it completed, in order. */
  feed(chunk: string): SseItem[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    // A CR ended the previous chunk: a LF starting this one belongs to the same line end.
    if (this.pendingCr) {
      this.pendingCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    this.buffer += text;
    const out: SseItem[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 === this.buffer.length) this.pendingCr = true;
        else if (this.buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseItem[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) {
      out.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) out.push({ kind: 'retry', ms: Number(value) });
        break;
      default:
      // Unknown fields are ignored.
    }
  }

  private dispatch(out: SseItem[]): void {
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = '';
    if (data.length === 0) return;
    out.push({ kind: 'event', event: event || 'message', data: data.join('\n'), id: this.lastEventId });
  }
}

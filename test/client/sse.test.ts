// The terminal client's server-sent events parser: events split across chunks at any byte, every line ending,
// multi-line data, comments, ids and retry, as the WHATWG event stream interpretation says.
import { describe, expect, it } from 'vitest';
import { SseParser, type SseItem } from '../../client/sse';

const STREAM = 'retry: 1000\n\n: keepalive\n\nid: c1\nevent: message\ndata: {"id":"m1","text":"Test!"}\n\nid: c2\nevent: end\ndata: {"reason":"reconnect"}\n\n';
const EXPECTED: SseItem[] = [
  { kind: 'retry', ms: 1000 },
  { kind: 'comment', text: 'keepalive' },
  { kind: 'event', event: 'message', data: '{"id":"m1","text":"Test!"}', id: 'c1' },
  { kind: 'event', event: 'end', data: '{"reason":"reconnect"}', id: 'c2' },
];

function parseAll(chunks: string[]): { items: SseItem[]; parser: SseParser } {
  const parser = new SseParser();
  return { items: chunks.flatMap((c) => parser.feed(c)), parser };
}

describe('SseParser', () => {
  it('parses a whole stream: retry, a keepalive comment, a message and the end event', () => {
    const { items, parser } = parseAll([STREAM]);
    expect(items).toEqual(EXPECTED);
    expect(parser.lastEventId).toBe('c2');
  });

  it('gives the same items however the stream is cut into chunks', () => {
    for (let size = 1; size <= 9; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < STREAM.length; i += size) chunks.push(STREAM.slice(i, i + size));
      expect(parseAll(chunks).items, `chunks of ${size}`).toEqual(EXPECTED);
    }
    for (let cut = 0; cut <= STREAM.length; cut++) expect(parseAll([STREAM.slice(0, cut), STREAM.slice(cut)]).items, `cut at ${cut}`).toEqual(EXPECTED);
  });

  it('accepts CRLF and lone CR line ends, also when a CRLF is split between two chunks', () => {
    for (const eol of ['\r\n', '\r']) {
      const text = STREAM.replace(/\n/g, eol);
      expect(parseAll([text]).items, JSON.stringify(eol)).toEqual(EXPECTED);
      for (let cut = 0; cut <= text.length; cut++) expect(parseAll([text.slice(0, cut), text.slice(cut)]).items).toEqual(EXPECTED);
    }
    // A CR that ends a chunk and an LF that starts the next are one line end, not a line end and a blank line.
    expect(parseAll(['data: a\r', '\ndata: b\r\n\r\n']).items).toEqual([{ kind: 'event', event: 'message', data: 'a\nb', id: '' }]);
  });

  it('joins multi-line data with newlines and keeps empty data lines', () => {
    expect(parseAll(['data: first\ndata:second\ndata\ndata:  two spaces\n\n']).items).toEqual([{ kind: 'event', event: 'message', data: 'first\nsecond\n\n two spaces', id: '' }]);
  });

  it('does not dispatch an event without data, and resets the event name after each blank line', () => {
    expect(parseAll(['event: end\n\ndata: x\n\n']).items).toEqual([{ kind: 'event', event: 'message', data: 'x', id: '' }]);
  });

  it('keeps the last id for later events, ignores an id holding NUL, and an empty id clears it', () => {
    const { items, parser } = parseAll(['id: 5\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\nid\ndata: d\n\n']);
    expect(items.map((i) => (i.kind === 'event' ? i.id : null))).toEqual(['5', '5', '5', '']);
    expect(parser.lastEventId).toBe('');
  });

  it('reads retry only when it is all digits, and ignores unknown fields', () => {
    expect(parseAll(['retry: 250\nretry: 1.5\nretry: x\nfoo: bar\n\n']).items).toEqual([{ kind: 'retry', ms: 250 }]);
  });

  it('treats lines starting with a colon as comments, the space after the colon not included', () => {
    expect(parseAll([': keepalive\n:raw\n']).items).toEqual([
      { kind: 'comment', text: 'keepalive' },
      { kind: 'comment', text: 'raw' },
    ]);
  });

  it('skips a byte order mark at the start of the stream only', () => {
    expect(parseAll(['\ufeffdata: a\n\n', 'data: \ufeffb\n\n']).items.map((i) => (i.kind === 'event' ? i.data : ''))).toEqual(['a', '\ufeffb']);
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 9\ndata: half')).toEqual([]);
    expect(parser.feed(' done\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ kind: 'event', event: 'message', data: 'half done', id: '9' }]);
  });
});

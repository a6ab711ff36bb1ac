// Server-sent events as text (https://html.spec.whatwg.org/multipage/server-sent-events.html): the lines one event,
// comment or retry hint is made of. Field values never hold a line break: data is JSON, which escapes them.

/**
 * One event: `id:` (optional), `event:`, one `data:` line, and the blank line that ends it.
 *
 * @example
 * sseEvent('message', { id: 'm1', text: 'Test!', time: '...' }, cursor);
 */
export function sseEvent(event: string, data: unknown, id?: string): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * A comment line (clients ignore it; it keeps proxies from closing a quiet connection).
 *
 * @example
 * sseComment('keepalive'); // ": keepalive\n\n"
 */
export function sseComment(text: string): string {
  return `: ${text}\n\n`;
}

/**
 * How long a client waits before reconnecting after the stream ends.
 *
 * @example
 * sseRetry(1000); // "retry: 1000\n\n"
 */
export function sseRetry(ms: number): string {
  return `retry: ${ms}\n\n`;
}

// The game's HTTP API as the terminal client uses it: sign-in, typed lines (resent with their Idempotency-Key when
// no answer came), open prompts and the message routes; a token that expired is renewed with the password once.
import { randomUUID } from 'node:crypto';

/** A reply: status, parsed JSON body (null when it was not JSON) and Retry-After in milliseconds (null when absent). */
export interface Reply {
  status: number;
  data: Record<string, unknown> | null;
  retryAfterMs: number | null;
}

/** One message as /api/messages and /api/stream give it. */
export interface Message {
  id: string;
  text: string;
  time: string;
}

/** An open question, as /api/prompts lists it (newest first). */
export interface Prompt {
  promptId: string;
  question: string;
}

/** A failure the client cannot go on after (wrong password, session refused): its message is for the player. */
export class ClientError extends Error {}

/** A typed line is sent again this many times in all when no answer came, like the web client. */
export const SEND_ATTEMPTS = 5;

/** The error text of a reply: the server's message when it sent one. */
export function errorText(r: Reply): string {
  const error = r.data?.error as { message?: unknown } | undefined;
  if (error && typeof error.message === 'string') return error.message;
  return `The game answered HTTP ${r.status}.`;
}

/** The error code of a reply ('' when it has none). */
export function errorCode(r: Reply): string {
  const error = r.data?.error as { code?: unknown } | undefined;
  return typeof error?.code === 'string' ? error.code : '';
}

/**
 * A short reason for a failed request: the system error code under a fetch TypeError (ECONNREFUSED, ECONNRESET),
 * undici's own words for its errors ("other side closed", not UND_ERR_SOCKET), else the error's message.
 */
export function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string' && !cause.code.startsWith('UND_ERR')) return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * A signed-in player's view of the API.
 * @example
 * const api = new GameApi('http://localhost:7071');
 * const { player, created } = await api.signIn('alice', 'correct horse');
 * await api.sendLine('testdelay');
 */
export class GameApi {
  token = '';
  player = '';
  private name = '';
  private password = '';
  private renewing: Promise<void> | undefined;

  constructor(readonly baseUrl: string) {}

  /** The URL of an API route: `route('messages')` → http://localhost:7071/api/messages. */
  route(path: string): string {
    return `${this.baseUrl}/api/${path}`;
  }

  /** One request; rejects only when no HTTP answer came (network, abort). */
  async request(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal; auth?: boolean } = {}): Promise<Reply> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (opts.auth !== false && this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.route(path), { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    const text = await res.text();
    let data: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') data = parsed as Record<string, unknown>;
    } catch {
      data = null;
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, data, retryAfterMs: retryAfter > 0 ? retryAfter * 1000 : null };
  }

  /**
   * Signs in, or creates the character when the name is new (the API does both, as the web client's form).
   * Throws ClientError with the server's reason (wrong password, locked, too many sign-ups) or "cannot reach".
   * A busy server (503) is asked again after its Retry-After, up to 3 times.
   */
  async signIn(name: string, password: string): Promise<{ player: string; created: boolean }> {
    let r: Reply | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        r = await this.request('POST', 'sessions', { body: { name, password }, auth: false });
      } catch (err) {
        throw new ClientError(`Cannot reach the game at ${this.baseUrl} (${networkReason(err)}). Is it running? Check --url.`);
      }
      if (r.status !== 503) break;
      await sleep(r.retryAfterMs ?? 1000);
    }
    if (!r || (r.status !== 200 && r.status !== 201) || typeof r.data?.token !== 'string') {
      const reply = r ?? { status: 0, data: null, retryAfterMs: null };
      throw new ClientError(`Sign-in as ${JSON.stringify(name)} failed: ${errorText(reply)}`);
    }
    this.token = r.data.token;
    this.player = String(r.data.player);
    this.name = name;
    this.password = password;
    return { player: this.player, created: r.status === 201 };
  }

  /**
   * A request with the player's token; a 401 (the token expired) signs in again with the same password once and
   * repeats it. Throws ClientError when signing in again fails.
   */
  async authed(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Reply> {
    const first = await this.request(method, path, opts);
    if (first.status !== 401 || !this.password) return first;
    await this.renew(first);
    return this.request(method, path, opts);
  }

  /** Signs in again after a 401 (calls that meet one together share one sign-in). */
  async renew(reply: Reply): Promise<void> {
    this.renewing ??= this.signIn(this.name, this.password)
      .then(() => undefined)
      .catch((err: unknown) => {
        throw new ClientError(`Your session ended (${errorText(reply)}) and signing in again failed: ${err instanceof Error ? err.message : String(err)}`);
      })
      .finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /**
   * Sends one typed line with an Idempotency-Key of its own. When no answer came (network, 503), the line is being
   * handled (409 request_in_progress) or came too fast (429), it is sent again with the same key after Retry-After
   * (or 0.5, 1, 2, 4 s), SEND_ATTEMPTS times in all: the server runs it at most once. `onRetry` is told each wait
   * and why (the error code, or the network error: rate_limited, ECONNREFUSED).
   * Returns the last reply, or null when the game never answered.
   */
  async sendLine(text: string, onRetry: (why: string, waitMs: number) => void = () => undefined, signal?: AbortSignal): Promise<Reply | null> {
    const key = randomUUID();
    let r: Reply | null = null;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        r = await this.authed('POST', 'input', { body: { text }, headers: { 'idempotency-key': key }, signal });
        why = errorCode(r) || `HTTP ${r.status}`;
      } catch (err) {
        if (err instanceof ClientError) throw err;
        r = null;
        why = networkReason(err);
      }
      const again = !r || r.status === 503 || r.status === 429 || errorCode(r) === 'request_in_progress';
      if (!again || attempt >= SEND_ATTEMPTS || signal?.aborted) return r;
      const waitMs = r?.retryAfterMs ?? 500 * 2 ** (attempt - 1);
      onRetry(why, waitMs);
      await sleep(waitMs, signal);
    }
  }

  /** The open questions, newest first; null when they could not be read. */
  async prompts(): Promise<Prompt[] | null> {
    try {
      const r = await this.authed('GET', 'prompts');
      if (r.status !== 200 || !Array.isArray(r.data?.prompts)) return null;
      return (r.data.prompts as Record<string, unknown>[]).map((p) => ({ promptId: String(p.promptId), question: String(p.question) }));
    } catch (err) {
      if (err instanceof ClientError) throw err;
      return null;
    }
  }
}

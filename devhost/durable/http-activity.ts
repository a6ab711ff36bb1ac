// The extension's built-in activity behind context.df.callHttp (BuiltIn::HttpActivity, TaskHttpActivityShim): sends
// the request an orchestrator asked for and answers TaskCompleted {statusCode, headers, content} whatever the status
// code, or TaskFailed {Reason, Details} when no response came. This file does the I/O; http-call.ts plans the calls.
import http from 'node:http';
import https from 'node:https';
import { HistoryEvent } from '../store/types';
import { event, EventType, iso } from './history';

/** The activity name the extension schedules HTTP calls under (HttpOptions.HttpTaskActivityReservedName). */
export const HTTP_ACTIVITY = 'BuiltIn::HttpActivity';

/** The extension's HttpClient timeout (DurableHttpClientFactory). */
const TIMEOUT_MS = 240_000;
/** HttpClientHandler.MaxAutomaticRedirections. */
const MAX_REDIRECTS = 50;
/** Headers .NET keeps on the content, not on the response: DurableHttpResponse leaves them out. */
const CONTENT_HEADERS = new Set(['allow', 'content-disposition', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'expires', 'last-modified']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A request as the SDK sends it in a CallHttp action (durable-functions DurableHttpRequest). */
export interface DurableHttpRequestJson {
  method: string;
  uri: string;
  content?: string | null;
  headers?: Record<string, string | string[]> | null;
  tokenSource?: { resource?: string; kind?: string } | null;
  asynchronousPatternEnabled?: boolean;
}

/** The activity's result (the extension's DurableHttpResponse JSON). */
export interface DurableHttpResponseJson {
  statusCode: number;
  headers: Record<string, string | string[]>;
  content: string;
}

/** A request the activity cannot send: it fails the call with this message. */
class BadRequest extends Error {}

/**
 * Reads the request out of the activity input (a one-element array, as the extension writes TaskScheduled.Input).
 * @example requestOf('[{"method":"GET","uri":"http://localhost:8080/"}]').uri // 'http://localhost:8080/'
 */
export function requestOf(input: string): DurableHttpRequestJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(input);
  } catch {
    throw new BadRequest('callHttp: the request is not JSON.');
  }
  const r = (Array.isArray(parsed) ? parsed[0] : parsed) as Partial<DurableHttpRequestJson> | undefined;
  if (!r || typeof r !== 'object') throw new BadRequest('callHttp: no request was given.');
  if (typeof r.method !== 'string' || !TOKEN.test(r.method)) throw new BadRequest(`callHttp: method ${JSON.stringify(r.method)} is not an HTTP method; use GET, POST, ...`);
  if (typeof r.uri !== 'string' || !/^https?:$/.test(safeUrl(r.uri)?.protocol ?? '')) {
    throw new BadRequest(`callHttp: url ${JSON.stringify(r.uri)} is not an absolute http or https URL.`);
  }
  if (r.content !== undefined && r.content !== null && typeof r.content !== 'string') throw new BadRequest('callHttp: body must be a string or JSON value.');
  for (const [name, v] of Object.entries(r.headers ?? {})) {
    if (!TOKEN.test(name) || !(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))) {
      throw new BadRequest(`callHttp: header ${JSON.stringify(name)} must have a string value or an array of strings.`);
    }
  }
  return r as DurableHttpRequestJson;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/**
 * Runs one HTTP call of an orchestration and returns the event the extension would deliver for it.
 * @example const ev = await runHttpActivity(3, '[{"method":"GET","uri":"http://127.0.0.1:8080/"}]', Date.now);
 */
export async function runHttpActivity(id: number, input: string, now: () => number): Promise<HistoryEvent> {
  let request: DurableHttpRequestJson | undefined;
  try {
    request = requestOf(input);
    if (request.tokenSource) {
      const resource = request.tokenSource.resource ? ` for '${request.tokenSource.resource}'` : '';
      throw new BadRequest(
        `callHttp: tokenSource (a managed identity token${resource}) needs the Azure managed identity endpoint, which the devhost does not have. Call without tokenSource locally (send an Authorization header instead), or run the app on Azure.`,
      );
    }
    const response = await send(request);
    return event(EventType.TaskCompleted, iso(now()), { TaskScheduledId: id, Result: JSON.stringify(response) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = err instanceof BadRequest ? e.message : `callHttp ${request?.method ?? ''} ${request?.uri ?? ''} failed: ${e.message}`;
    const details = JSON.stringify({ ClassName: err instanceof BadRequest ? 'System.NotSupportedException' : 'System.Net.Http.HttpRequestException', Message: reason, code: e.code ?? null });
    return event(EventType.TaskFailed, iso(now()), { TaskScheduledId: id, Reason: reason, Details: details, FailureDetails: null });
  }
}

/** Sends the request as the extension's HttpClient does: content headers only with content, redirects followed. */
async function send(r: DurableHttpRequestJson): Promise<DurableHttpResponseJson> {
  const headers: Record<string, string | string[]> = {};
  let contentType = '';
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (name.toLowerCase() !== 'content-type') headers[name] = value;
    else for (const v of [value].flat()) contentType = v;
  }
  if (/multipart/i.test(contentType)) throw new BadRequest('Multipart content is not supported with CallHttpAsync.');
  let body: Buffer | undefined;
  if (r.content !== undefined && r.content !== null) {
    body = Buffer.from(r.content, 'utf8');
    const type = contentType || 'text/plain';
    headers['Content-Type'] = /^application\/x-www-form-urlencoded$/i.test(type) ? `${type}; charset=utf-8` : type;
    headers['Content-Length'] = String(body.length);
  }
  let url = new URL(r.uri);
  let method = r.method;
  const deadline = Date.now() + TIMEOUT_MS;
  for (let hops = 0; ; hops++) {
    const res = await once(url, method, headers, body, deadline);
    const location = res.headers.location;
    const redirect = [300, 301, 302, 303, 307, 308].includes(res.statusCode) && typeof location === 'string' && hops < MAX_REDIRECTS;
    const next = redirect ? safeUrl(new URL(location, url).href) : undefined;
    // Like HttpClient: no redirect from https to http; 303 (and 301/302 after a POST) continue as GET without content.
    if (!next || (url.protocol === 'https:' && next.protocol === 'http:')) return shape(res);
    if (res.statusCode === 303 ? method !== 'HEAD' : (res.statusCode === 301 || res.statusCode === 302) && method === 'POST') {
      method = 'GET';
      body = undefined;
      for (const k of Object.keys(headers)) if (/^content-(type|length)$/i.test(k)) delete headers[k];
    }
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
    url = next;
  }
}

interface RawResponse {
  statusCode: number;
  rawHeaders: string[];
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function once(url: URL, method: string, headers: Record<string, string | string[]>, body: Buffer | undefined, deadline: number): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A fresh connection per call (agent: false): nothing is held open between calls of a local host.
    const timeout = Math.max(1, deadline - Date.now());
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, timeout, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, rawHeaders: res.rawHeaders, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`The request was canceled due to the configured HttpClient.Timeout of ${TIMEOUT_MS / 1000} seconds elapsing.`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The response as DurableHttpResponse serializes it: response headers only, one value as a string, several as an array. */
function shape(res: RawResponse): DurableHttpResponseJson {
  const headers: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    const lower = res.rawHeaders[i].toLowerCase();
    if (CONTENT_HEADERS.has(lower)) continue;
    const name = names.get(lower) ?? res.rawHeaders[i];
    names.set(lower, name);
    const had = headers[name];
    headers[name] = had === undefined ? res.rawHeaders[i + 1] : [had, res.rawHeaders[i + 1]].flat();
  }
  return { statusCode: res.statusCode, headers, content: res.body.toString('utf8') };
}

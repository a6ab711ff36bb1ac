// The host's HTTP surface: HTTP triggers under /<routePrefix>/<route> (Core Tools' URLs and route
// templates), the Durable API under /runtime/webhooks/durabletask/, JSON errors for everything else.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { LoadedApp } from '../app-loader';
import { HostError, messageOf } from '../errors';
import { Invoker, LogSink } from '../invoke';
import { RegisteredFunction } from '../registry';
import { ApiResponse, DurableApi, WEBHOOK_BASE } from '../durable/api';
import { DASHBOARD_BASE, type DashboardHandler } from '../dashboard/routes';
import { requestParams } from './request-params';
import { RouteTable } from './route-table';
import { faultPoint } from '../faults';

export interface ServerOptions {
  app: LoadedApp;
  /** The app's HTTP routes, checked at start-up (see Host.start). */
  routes: RouteTable;
  invoker: Invoker;
  api: DurableApi;
  log: LogSink;
  routePrefix: string;
  maxBodyBytes: number;
  /** The client binding JSON for this request's origin. */
  clientBinding: (origin: string) => unknown;
  onInvocation?: (info: { functionName: string; reason: string; invocationId: string; ms: number; result: string }) => void;
  /** devhost's own pages under /_devhost (the dashboard, dashboard/routes.ts). */
  dashboard?: DashboardHandler;
}

interface ResponseLike {
  status: number;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  cookies?: Cookie[];
}

interface Cookie {
  name: string;
  value: string;
  domain?: string;
  path?: string;
  expires?: Date | number;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: string;
  maxAge?: number;
}

/** The HTTP server of a devhost. */
export class HostServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(private readonly o: ServerOptions) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  /** Listen; resolves with the bound port. */
  listen(port: number, hostname: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, hostname, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  /** Lines describing every function, the way Core Tools prints them at start. */
  describe(origin: string): string[] {
    const registry = this.o.app.registry;
    const routes = new Map(this.o.routes.routes.map((r) => [r.fn, r]));
    const lines: string[] = [];
    for (const fn of registry.functions.values()) {
      const route = routes.get(fn);
      const line = route ? `${fn.name}: [${route.methods.join(',')}] ${origin}/${this.o.routePrefix ? this.o.routePrefix + '/' : ''}${route.template}` : `${fn.name}: ${fn.trigger.type}`;
      lines.push(registry.isDisabled(fn.name) ? `${line} (disabled)` : line);
    }
    return lines;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const host = req.headers.host ?? 'localhost';
      const url = new URL(req.url ?? '/', `http://${host}`);
      const headers = flatHeaders(req.headers);
      // The client's address in X-Forwarded-For, where Azure's front end puts it (the worker gets no socket address).
      // Replaced, not appended, so a local client cannot choose the address an app limits it by.
      headers['x-forwarded-for'] = req.socket.remoteAddress ?? '';
      if (this.o.dashboard && (url.pathname === DASHBOARD_BASE || url.pathname.startsWith(DASHBOARD_BASE + '/'))) return await this.o.dashboard(req, res, url);
      if (url.pathname === WEBHOOK_BASE || url.pathname.startsWith(WEBHOOK_BASE + '/')) {
        const body = await readBody(req, this.o.maxBodyBytes);
        const out = await this.o.api.handle({ method: req.method ?? 'GET', url, headers, body });
        return sendApi(res, out);
      }
      const prefix = this.o.routePrefix ? `/${this.o.routePrefix}` : '';
      if (prefix && !(url.pathname.toLowerCase() === prefix.toLowerCase() || url.pathname.toLowerCase().startsWith(prefix.toLowerCase() + '/'))) {
        if (url.pathname === '/' || url.pathname === '/admin/host/status') return sendApi(res, { status: 200, body: { state: 'Running', functions: this.o.app.registry.functions.size } });
        throw new HostError('NotFound', `No function matches ${url.pathname}; HTTP functions are served under ${prefix}/.`);
      }
      const parts = url.pathname
        .slice(prefix.length)
        .split('/')
        .filter((s) => s.length > 0)
        .map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            throw new HostError('InvalidArgument', `The path segment '${s}' is not valid percent-encoding.`);
          }
        });
      const method = (req.method ?? 'GET').toUpperCase();
      const found = this.o.routes.match(method, parts);
      if (found && 'route' in found) {
        const fn = found.route.fn;
        // FunctionInvocationMiddleware: a disabled function keeps its route and answers 404.
        if (this.o.app.registry.isDisabled(fn.name)) {
          throw new HostError('NotFound', `Function '${fn.name}' is disabled (app setting AzureWebJobs.${fn.name}.Disabled), so ${method} ${url.pathname} answers 404 as on Azure. Remove the setting or set it to false to call it.`);
        }
        const body = await readBody(req, this.o.maxBodyBytes);
        const params = requestParams(found.params, url.searchParams, this.o.app.registry.httpStream);
        return await this.invokeHttp(fn, method, url, headers, params, body, res);
      }
      if (found) {
        const allow = found.allowed.join(', ');
        throw new HostError('MethodNotAllowed', `${method} is not allowed for ${url.pathname}; use ${allow}.`, { Allow: allow });
      }
      throw new HostError('NotFound', `No function matches ${method} ${url.pathname}.`);
    } catch (err) {
      if (err instanceof HostError) return sendApi(res, { status: err.status, headers: err.headers, body: err.toJSON() });
      // A store refusing a write that would not fit (TableStore: 1 MiB per entity) is the caller's payload, not a host fault.
      if ((err as { code?: unknown } | null)?.code === 'PayloadTooLarge') return sendApi(res, { status: 413, body: new HostError('PayloadTooLarge', messageOf(err)).toJSON() });
      this.o.log({ level: 'error', message: `devhost: request failed: ${err instanceof Error ? err.stack : String(err)}` });
      return sendApi(res, { status: 500, body: new HostError('Internal', `The devhost failed on this request: ${messageOf(err)}`).toJSON() });
    }
  }

  private async invokeHttp(fn: RegisteredFunction, method: string, url: URL, headers: Record<string, string>, params: Record<string, string>, body: Buffer, res: http.ServerResponse): Promise<void> {
    const request = new this.o.app.af.HttpRequest({
      method,
      url: url.toString(),
      headers,
      params,
      body: body.length > 0 ? { bytes: body } : undefined,
    });
    const started = Date.now();
    const invocationId = randomUUID();
    let result: unknown;
    try {
      const r = await this.o.invoker.invoke(fn, request, { invocationId, clientBinding: () => this.o.clientBinding(url.origin), triggerMetadata: { Headers: headers, Query: Object.fromEntries(url.searchParams) } });
      result = r.result;
    } catch (err) {
      const id = invocationId;
      this.o.log({ level: 'error', functionName: fn.name, invocationId: id, message: `Executed 'Functions.${fn.name}' (Failed): ${err instanceof Error ? err.stack : String(err)}` });
      this.o.onInvocation?.({ functionName: fn.name, reason: `HTTP ${method} ${url.pathname}`, invocationId: id, ms: Date.now() - started, result: `Failed: ${messageOf(err)}` });
      return sendApi(res, { status: 500, body: { error: { code: 'FunctionError', message: `Exception while executing function: Functions.${fn.name}: ${messageOf(err)}` } } });
    }
    const response = this.toResponse(result);
    faultPoint('http.response', fn.name);
    this.o.onInvocation?.({ functionName: fn.name, reason: `HTTP ${method} ${url.pathname}`, invocationId, ms: Date.now() - started, result: `Succeeded ${response.status}` });
    res.statusCode = response.status;
    response.headers.forEach((v, k) => {
      if (k.toLowerCase() !== 'set-cookie') setHeaderSafely(res, k, v);
    });
    const setCookies = [...(response.headers.getSetCookie?.() ?? []), ...(response.cookies ?? []).map(serializeCookie)];
    if (setCookies.length > 0) res.setHeader('Set-Cookie', setCookies);
    if (!response.body || method === 'HEAD') {
      res.end();
      return;
    }
    if (!this.o.app.registry.httpStream) {
      // Without `enableHttpStream` the worker reads the whole body before it answers (library toRpcHttp:
      // `await response.arrayBuffer()`), so a streamed body reaches the client only once it has ended.
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await new Response(response.body).arrayBuffer());
      } catch (err) {
        this.o.log({ level: 'error', functionName: fn.name, invocationId, message: `Executed 'Functions.${fn.name}' (Failed): its response body failed: ${err instanceof Error ? err.stack : String(err)}` });
        return sendApi(res, { status: 500, body: { error: { code: 'FunctionError', message: `Exception while executing function: Functions.${fn.name}: ${messageOf(err)}` } } });
      }
      res.end(bytes);
      return;
    }
    await writeBody(res, response.body);
  }

  private toResponse(result: unknown): ResponseLike {
    const looksLikeResponse = (x: unknown): x is ResponseLike =>
      typeof x === 'object' && x !== null && typeof (x as ResponseLike).status === 'number' && (x as ResponseLike).headers instanceof Headers;
    if (looksLikeResponse(result)) return result;
    const init = result === undefined || result === null ? {} : typeof result === 'object' ? result : { body: String(result) };
    return new this.o.app.af.HttpResponse(init) as ResponseLike;
  }
}

/** Set a header; a value Node refuses (characters beyond Latin-1, e.g. an instance id in a Location URL) is percent-encoded. */
function setHeaderSafely(res: http.ServerResponse, name: string, value: string): void {
  try {
    res.setHeader(name, value);
  } catch {
    res.setHeader(name, encodeURI(value).replace(/%25([0-9A-Fa-f]{2})/g, '%$1'));
  }
}

/**
 * Copy a web stream to the response chunk by chunk (a streamed body reaches the client as it is made;
 * a one-chunk body costs one write). When the client goes away it stops reading and cancels the body, so the
 * handler's stream learns it at once (its `cancel` runs). The real worker does not: it writes every chunk into the
 * host's proxy connection without watching for its close (library httpProxy.ts sendProxyResponse;
 * azure-functions-nodejs-library#294, open), so there a stream runs until it ends by itself (README, differences).
 */
async function writeBody(res: http.ServerResponse, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  let gone = false;
  const leave = (): void => {
    gone = true;
    void reader.cancel().catch(() => undefined);
  };
  // A client that left while the handler was still working has had its 'close' already: no write would ever drain.
  if (res.closed || res.destroyed) return leave();
  const closed = new Promise<void>((resolve) =>
    res.once('close', () => {
      leave();
      resolve();
    }),
  );
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || gone) break;
      // Wait for the socket to take more, or for the client to go away (then 'drain' never comes).
      if (!res.write(value)) await Promise.race([new Promise((r) => res.once('drain', r)), closed]);
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function flatHeaders(h: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** Read a request body, refusing (413) anything over `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limit) {
        failed = true;
        reject(tooLarge(size, limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on('error', (e) => {
      if (!failed) reject(e);
    });
  });
}

function tooLarge(size: number, limit: number): HostError {
  return new HostError('PayloadTooLarge', `The request body is ${size} bytes or more; the limit is ${limit} bytes (devhost --max-body).`);
}

function sendApi(res: http.ServerResponse, out: ApiResponse): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = out.status;
  for (const [k, v] of Object.entries(out.headers ?? {})) setHeaderSafely(res, k, v);
  if (out.body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(out.body);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

function serializeCookie(c: Cookie): string {
  let s = `${c.name}=${c.value}`;
  if (c.domain) s += `; Domain=${c.domain}`;
  if (c.path) s += `; Path=${c.path}`;
  if (c.expires !== undefined) s += `; Expires=${new Date(c.expires).toUTCString()}`;
  if (c.maxAge !== undefined) s += `; Max-Age=${c.maxAge}`;
  if (c.secure) s += '; Secure';
  if (c.httpOnly) s += '; HttpOnly';
  if (c.sameSite) s += `; SameSite=${c.sameSite}`;
  return s;
}

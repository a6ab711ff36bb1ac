// devhost's own pages under /_devhost, never part of a deployed app: the dashboard (one self-contained HTML page that
// reads and acts through the documented management API) and the few JSON reads that API has no route for, under
// /_devhost/api/: the host and its clock, pending timers, the events an instance waits for, and the virtual clock's jump.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Clock, Scheduler } from '../clock';
import type { Engine } from '../durable/engine';
import { parseEntityId } from '../durable/entity-ids';
import { validateInstanceId } from '../durable/ids';
import { HostError } from '../errors';
import type { Store } from '../store/types';
import { pendingTimers, queuedMessages, waitingFor } from './engine-view';

/** Where devhost serves its own pages; the HTTP server hands every request under it to dashboardRoutes. */
export const DASHBOARD_BASE = '/_devhost';

/** What the dashboard reads of a running host (a Host has all of it). */
export interface DashboardHost {
  readonly engine: Pick<Engine, 'getMeta'>;
  readonly store: Pick<Store, 'load' | 'kind' | 'list'>;
  readonly clock: Clock;
  readonly scheduler: Pick<Scheduler, 'nextDue'>;
  readonly taskHub: string;
  /** Virtual clock: jump to the next timer and let the work it causes finish; the time jumped to, or undefined. */
  skipToNextTimer(): Promise<number | undefined>;
}

/** Serves one request under DASHBOARD_BASE; throws HostError for the server to answer as JSON. */
export type DashboardHandler = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;

// From dist/devhost/dashboard/ at run time, the page is devhost/dashboard/page.html in the project (devhost runs from
// its repository, and is never packaged); from devhost/dashboard/ when loaded from source (tests).
const PAGE_CANDIDATES = [path.join(__dirname, 'page.html'), path.resolve(__dirname, '../../../devhost/dashboard/page.html')];

const ACTIVE = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'] as const;

const ROUTES = `GET ${DASHBOARD_BASE}, GET ${DASHBOARD_BASE}/api/host, GET ${DASHBOARD_BASE}/api/timers, GET ${DASHBOARD_BASE}/api/instances/{instanceId}, POST ${DASHBOARD_BASE}/api/clock/next-timer`;

/**
 * The request handler of /_devhost for a host, which may still be starting (`host()` undefined until it listens).
 * @example new HostServer({ ..., dashboard: dashboardRoutes(() => started) });
 */
export function dashboardRoutes(host: () => DashboardHost | undefined): DashboardHandler {
  return async (req, res, url) => {
    req.resume(); // no route takes a body
    const seg = segmentsOf(url);
    const method = (req.method ?? 'GET').toUpperCase();
    const route = seg.join('/');
    const h = host();
    if (!h) throw new HostError('NotFound', 'devhost is still starting; reload in a moment.');
    if (seg.length === 0) {
      allow(method, 'GET');
      return sendPage(res);
    }
    if (route === 'api/host') {
      allow(method, 'GET');
      return sendJson(res, { taskHub: h.taskHub, store: h.store.kind, clock: clockJson(h) });
    }
    if (route === 'api/timers') {
      allow(method, 'GET');
      const metas = await h.store.list({ runtimeStatus: [...ACTIVE] });
      const timers = metas.flatMap(pendingTimers).sort((a, b) => a.fireAt.localeCompare(b.fireAt) || a.instanceId.localeCompare(b.instanceId));
      return sendJson(res, { timers });
    }
    if (route === 'api/clock/next-timer') {
      allow(method, 'POST');
      sameOrigin(req);
      if (h.clock.kind !== 'virtual') throw new HostError('Conflict', 'The host runs on the real clock, so timers fire on their own; start it with --clock virtual (or clock: "virtual") to jump to the next timer.');
      const jumpedTo = await h.skipToNextTimer();
      if (jumpedTo === undefined) throw new HostError('Conflict', 'No timer is pending, so there is nothing to jump to.');
      return sendJson(res, { jumpedTo: new Date(jumpedTo).toISOString(), clock: clockJson(h) });
    }
    if (seg[0] === 'api' && seg[1] === 'instances' && seg.length === 3) {
      allow(method, 'GET');
      return sendJson(res, await instanceView(h, seg[2]));
    }
    throw new HostError('NotFound', `No devhost route matches ${method} ${url.pathname}; there are ${ROUTES}.`);
  };
}

/** The engine's view of one instance: the timers it waits on, the events it waits for, the messages not yet taken. */
async function instanceView(h: DashboardHost, id: string): Promise<Record<string, unknown>> {
  if (!parseEntityId(id)) validateInstanceId(id); // as the management API: entities ("@name@key") are instances too
  const stored = await h.store.load(id);
  if (!stored) throw new HostError('NotFound', `No instance with ID '${id}' found.`);
  const { meta } = stored;
  const active = (ACTIVE as readonly string[]).includes(meta.status);
  return {
    instanceId: meta.instanceId,
    runtimeStatus: meta.status,
    waitingFor: active && !parseEntityId(id) ? waitingFor(stored.actions, stored.history) : [],
    timers: pendingTimers(meta),
    queued: queuedMessages(stored.inbox),
  };
}

function clockJson(h: DashboardHost): { kind: string; now: string; nextTimer: string | null } {
  const next = h.scheduler.nextDue({ foreground: true });
  return { kind: h.clock.kind, now: new Date(h.clock.now()).toISOString(), nextTimer: next === undefined ? null : new Date(next).toISOString() };
}

function segmentsOf(url: URL): string[] {
  return url.pathname
    .slice(DASHBOARD_BASE.length)
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw new HostError('InvalidArgument', `The path segment '${s}' is not valid percent-encoding.`);
      }
    });
}

function allow(method: string, allowed: string): void {
  if (method !== allowed) throw new HostError('MethodNotAllowed', `${method} is not allowed here; use ${allowed}.`, { Allow: allowed });
}

/** A page on another site may not post here (a form post needs no preflight): a browser's Origin must be this host. */
function sameOrigin(req: http.IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return; // not a browser (curl, tests)
  let host = '';
  try {
    host = new URL(origin).host;
  } catch {
    /* "null" and other opaque origins */
  }
  if (host !== req.headers.host) throw new HostError('InvalidArgument', `Origin '${origin}' is not this host (${req.headers.host ?? 'no Host header'}); the dashboard's operations take requests from its own page only.`);
}

function sendJson(res: http.ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendPage(res: http.ServerResponse): void {
  const file = PAGE_CANDIDATES.find((f) => fs.existsSync(f));
  if (!file) throw new HostError('Internal', `The dashboard page is missing: none of ${PAGE_CANDIDATES.join(', ')} exists.`);
  // Read on every request: the page is small, and an edit to it shows at the next reload.
  const html = fs.readFileSync(file, 'utf8');
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Content-Security-Policy': contentSecurityPolicy(html),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  res.end(html);
}

/**
 * The page's Content-Security-Policy: only its own inline <script> and <style> (by SHA-256 hash) run, it fetches
 * from this origin only, and Trusted Types are required, so even a stray `innerHTML = text` throws instead of
 * parsing markup.
 * @example contentSecurityPolicy('<style>p{}</style><script>go()</script>') // "default-src 'none'; script-src 'sha256-…'; …"
 */
export function contentSecurityPolicy(html: string): string {
  const hashes = (tag: 'script' | 'style') =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}'`).join(' ') || "'none'";
  return [
    "default-src 'none'",
    `script-src ${hashes('script')}`,
    `style-src ${hashes('style')}`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

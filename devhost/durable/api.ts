// The Durable extension's HTTP API, served both as the RPC endpoint the durable client calls (rpcBaseUrl)
// and as the public management API under /runtime/webhooks/durabletask/: same routes, codes and JSON.
import { HostError, messageOf } from '../errors';
import { allPages, decodeContinuation, encodeContinuation, MAX_PAGE } from '../store/pages';
import { InstanceQuery, RuntimeStatus, TERMINAL_STATUSES } from '../store/types';
import { Engine, validateInstanceId } from './engine';
import { parseEntityId } from './entity-ids';
import { StatusJson, statusTime, toStatusJson } from './status';

export const WEBHOOK_BASE = '/runtime/webhooks/durabletask';

export interface ApiRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const RUNTIME_STATUSES: RuntimeStatus[] = ['Pending', 'Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Suspended'];
const ACTIVE: RuntimeStatus[] = ['Pending', 'Running', 'ContinuedAsNew', 'Suspended'];
/** Deepest JSON body taken (start input, event data): deeper values break JSON.stringify in the host and the SDK. */
const MAX_JSON_DEPTH = 1000;
/** Longest instance id, hence the longest id prefix that can match anything. */
const MAX_PREFIX = 256;
/** Longest wait of `?timeout=` on start (seconds): a day. */
const MAX_TIMEOUT_SECONDS = 86_400;

/** Longest orchestration version accepted at start. */
const MAX_VERSION = 256;

/**
 * The management URLs of an instance, as the extension builds them.
 * @example managementUrls('http://localhost:7071', 'MyHub', 'abc').statusQueryGetUri
 */
export function managementUrls(origin: string, hub: string, rawId: string): Record<string, string> {
  const base = `${origin}${WEBHOOK_BASE}`;
  // Percent-encoded so that ids with spaces, '%' or non-ASCII letters give URLs (and Location headers) that work.
  const id = rawId === 'INSTANCEID' ? rawId : encodeURIComponent(rawId);
  const q = `taskHub=${hub}&connection=Storage`;
  return {
    id: rawId,
    statusQueryGetUri: `${base}/instances/${id}?${q}`,
    sendEventPostUri: `${base}/instances/${id}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${base}/instances/${id}/terminate?reason={text}&${q}`,
    rewindPostUri: `${base}/instances/${id}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${base}/instances/${id}?${q}`,
    restartPostUri: `${base}/instances/${id}/restart?${q}`,
    suspendPostUri: `${base}/instances/${id}/suspend?reason={text}&${q}`,
    resumePostUri: `${base}/instances/${id}/resume?reason={text}&${q}`,
  };
}

/**
 * The durable client binding JSON the extension hands to `df.getClient(context)`.
 * @example clientBinding('http://127.0.0.1:7071', 'MyHub')
 */
export function clientBinding(origin: string, hub: string): Record<string, unknown> {
  const base = `${origin}${WEBHOOK_BASE}`;
  const q = `taskHub=${hub}&connection=Storage`;
  return {
    taskHubName: hub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${q}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    managementUrls: managementUrls(origin, hub, 'INSTANCEID'),
    baseUrl: base,
    requiredQueryStringParameters: q,
    rpcBaseUrl: `${base}/`,
    connectionName: 'Storage',
    httpBaseUrl: null,
  };
}

function parseJsonBody(req: ApiRequest, what: string): string | null {
  if (req.body.length === 0) return null;
  const text = req.body.toString('utf8');
  try {
    JSON.parse(text);
  } catch (err) {
    throw new HostError('InvalidJson', `Invalid JSON content in the ${what} body: ${messageOf(err)}. Send a JSON value (a string must be quoted).`);
  }
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new HostError('InvalidJson', `The ${what} body is JSON nested ${depth} levels deep; the limit is ${MAX_JSON_DEPTH} (deeper values cannot be serialized again by the host or the durable-functions SDK).`);
  }
  return text;
}

/**
 * How deeply arrays and objects nest in valid JSON text, counted without recursion.
 * @example jsonDepth('[1,{"a":[]}]') // 3
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * A whole number in decimal digits only (no sign, exponent, hex or spaces: what .NET's int.Parse takes for
 * these parameters, without its leniencies), within `max`; undefined when the parameter is absent or empty.
 */
function intParam(url: URL, name: string, max: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[0-9]{1,10}$/.test(v) || Number(v) > max) {
    throw new HostError('InvalidArgument', `Query parameter '${name}' is '${clip(v)}'; use a whole number of decimal digits from 0 to ${max}.`);
  }
  return Number(v);
}

/** A value shortened for an error message. */
function clip(v: string): string {
  return v.length > 64 ? `${v.slice(0, 64)}... (${v.length} characters)` : v;
}

/**
 * A signal's input as the extension reads it: no body is no input; a JSON content type is parsed (400 when it is
 * not JSON) and passed on compact; any other content is the text, as a JSON string.
 */
function entityInput(req: ApiRequest): string | undefined {
  if (req.body.length === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const text = req.body.toString('utf8');
  if (!type.includes('json')) return JSON.stringify(text);
  try {
    return JSON.stringify(JSON.parse(text));
  } catch (err) {
    throw new HostError('InvalidJson', `Could not parse JSON content: ${messageOf(err)}.`);
  }
}

function segmentsOf(url: URL): string[] {
  const rest = url.pathname.slice(WEBHOOK_BASE.length).replace(/^\/+/, '').replace(/\/+$/, '');
  if (rest === '') return [];
  return rest.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new HostError('InvalidArgument', `The path segment '${s}' is not valid percent-encoding.`);
    }
  });
}

function boolParam(url: URL, name: string, dflt: boolean): boolean {
  const v = url.searchParams.get(name);
  if (v === null || v === '') return dflt;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  throw new HostError('InvalidArgument', `Query parameter '${name}' is '${v}'; use true or false.`);
}

/** ISO-8601 dates and date-times (what the Durable client sends: `Date.toISOString()`). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

function timeParam(url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name);
  if (!v) return undefined;
  const t = ISO_TIME.test(v) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new HostError('InvalidArgument', `Query parameter '${name}' is '${clip(v)}', which is not a date-time; use ISO-8601 like 2026-01-31T12:00:00Z.`);
  return new Date(t).toISOString();
}

function statusesParam(url: URL): RuntimeStatus[] | undefined {
  const v = url.searchParams.get('runtimeStatus');
  if (!v) return undefined;
  return v.split(',').map((s) => {
    const found = RUNTIME_STATUSES.find((r) => r.toLowerCase() === s.trim().toLowerCase());
    if (!found) throw new HostError('InvalidArgument', `runtimeStatus '${clip(s)}' is not one of ${RUNTIME_STATUSES.join(', ')}.`);
    return found;
  });
}

/** Serves the Durable HTTP API for one engine. */
export class DurableApi {
  constructor(private readonly engine: Engine, private readonly hub: string) {}

  /** Handle a request whose path starts with WEBHOOK_BASE. */
  async handle(req: ApiRequest): Promise<ApiResponse> {
    const seg = segmentsOf(req.url);
    const m = req.method.toUpperCase();
    const origin = req.url.origin;
    const [head, id, verb, extra] = seg;

    if (head === 'orchestrators' && seg.length >= 2 && seg.length <= 3) {
      if (m !== 'POST') throw methodNotAllowed(m, 'POST');
      return this.start(req, seg[1], seg[2], origin);
    }
    if (head === 'instances' && seg.length <= 1) {
      if (m === 'GET') return this.list(req);
      if (m === 'DELETE') return this.purgeBy(req);
      throw methodNotAllowed(m, 'GET, DELETE');
    }
    if (head === 'instances' && seg.length === 2) {
      // Entities are instances too: their status reads and their purge work on "@name@key" (as on Azure Storage).
      if (!parseEntityId(id)) validateInstanceId(id);
      if (m === 'GET') return this.status(req, id);
      if (m === 'DELETE') return this.purge(id);
      throw methodNotAllowed(m, 'GET, DELETE');
    }
    if (head === 'instances' && seg.length >= 3) {
      if (parseEntityId(id)) throw new HostError('InvalidArgument', `'${id}' is an entity: signal it with POST ${WEBHOOK_BASE}/entities/{name}/{key}?op=<operation>.`);
      validateInstanceId(id);
      if (m !== 'POST') throw methodNotAllowed(m, 'POST');
      const reason = req.url.searchParams.get('reason');
      switch (verb) {
        case 'raiseEvent':
          if (seg.length !== 4 || !extra) throw new HostError('NotFound', 'Use POST .../instances/{instanceId}/raiseEvent/{eventName}.');
          return this.raise(req, id, extra);
        case 'terminate':
          return this.control(id, () => this.engine.terminate(id, reason));
        case 'suspend':
          return this.control(id, () => this.engine.suspend(id, reason));
        case 'resume':
          return this.control(id, () => this.engine.resume(id, reason));
        case 'restart':
          return this.restart(req, id, origin);
        case 'rewind':
          if (seg.length !== 3) throw new HostError('NotFound', 'Use POST .../instances/{instanceId}/rewind?reason={text}.');
          return this.control(id, () => this.engine.rewind(id, reason ?? ''));
        default:
          throw new HostError('NotFound', `Unknown instance operation '${verb}'; use raiseEvent, terminate, suspend, resume, restart, rewind.`);
      }
    }
    if (head === 'entities') return this.entity(req, m, seg.slice(1));
    throw new HostError('NotFound', `No Durable API route matches ${m} ${req.url.pathname}.`);
  }

  /**
   * entities/{name}/{key}: GET reads the state ("$" is the empty key), POST signals `?op=`, DELETE signals
   * "delete"; GET entities[/{name}] lists them (EXT HttpApiHandler: HandleGetEntityRequestAsync and friends).
   */
  private async entity(req: ApiRequest, m: string, rest: string[]): Promise<ApiResponse> {
    if (rest.length > 2) throw new HostError('NotFound', `Use ${WEBHOOK_BASE}/entities/{name}/{key}: '${rest.slice(1).join('/')}' is not one entity key.`);
    const [name, key] = rest;
    if (m === 'GET' && key === undefined) return this.listEntities(req, name);
    if (!name) throw new HostError('InvalidArgument', 'Name the entity: entities/{name}/{key}.');
    if (m === 'GET') {
      const state = await this.engine.readEntity(name, key === '$' ? '' : key);
      if (state === undefined) throw new HostError('NotFound', `Entity '@${name.toLowerCase()}@${key}' does not exist or has no state.`);
      return { status: 200, body: JSON.parse(state) };
    }
    if (m !== 'POST' && m !== 'DELETE') throw methodNotAllowed(m, 'GET, POST, DELETE');
    const op = m === 'DELETE' ? 'delete' : (req.url.searchParams.get('op') ?? '');
    await this.engine.signalEntity(name, key ?? '', op, entityInput(req));
    return { status: 202 };
  }

  private async listEntities(req: ApiRequest, name: string | undefined): Promise<ApiResponse> {
    const fetchState = boolParam(req.url, 'fetchState', false);
    const all = await this.engine.listEntities(name, { from: timeParam(req.url, 'lastOperationTimeFrom'), to: timeParam(req.url, 'lastOperationTimeTo'), fetchState });
    const topText = req.url.searchParams.get('top');
    const top = topText === null ? 100 : Number(topText);
    if (!/^\d+$/.test(topText ?? '100') || top < 1) throw new HostError('InvalidArgument', `top is '${topText}'; use a whole number of entities per page, 1 or more.`);
    const token = req.headers['x-ms-continuation-token'];
    const offset = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
    if (!Number.isInteger(offset) || offset < 0 || (token && Buffer.from(String(offset)).toString('base64') !== token)) throw new HostError('InvalidArgument', 'x-ms-continuation-token is not one this host issued.');
    const headers: Record<string, string> = {};
    if (offset + top < all.length) headers['x-ms-continuation-token'] = Buffer.from(String(offset + top)).toString('base64');
    return { status: 200, headers, body: all.slice(offset, offset + top).map((e) => ({ ...e, lastOperationTime: statusTime(e.lastOperationTime) })) };
  }

  private async start(req: ApiRequest, name: string, instanceId: string | undefined, origin: string): Promise<ApiResponse> {
    if (instanceId !== undefined) validateInstanceId(instanceId);
    const input = parseJsonBody(req, 'orchestration input');
    // The client's startNew({ version }) sends ?version= (durable-functions DurableClient.startNew).
    const version = req.url.searchParams.get('version') ?? undefined;
    if (version !== undefined && version.length > MAX_VERSION) throw new HostError('InvalidArgument', `The version is ${version.length} characters long; the limit is ${MAX_VERSION}.`);
    const timeout = intParam(req.url, 'timeout', MAX_TIMEOUT_SECONDS);
    intParam(req.url, 'pollingInterval', MAX_TIMEOUT_SECONDS); // checked like timeout; the wait follows changes, not a poll
    const id = await this.engine.start(name, instanceId, input, undefined, version);
    if (timeout) {
      const done = await this.waitForCompletion(id, timeout * 1000);
      // As waitForCompletionOrCreateCheckStatusResponse: the output when Completed, the status object otherwise (500 when Failed).
      if (done) return { status: done.runtimeStatus === 'Failed' ? 500 : 200, body: done.runtimeStatus === 'Completed' ? done.output : done };
    }
    const urls = managementUrls(origin, this.hub, id);
    delete urls.rewindPostUri;
    return { status: 202, headers: { Location: urls.statusQueryGetUri, 'Retry-After': '10' }, body: urls };
  }

  private async waitForCompletion(id: string, ms: number): Promise<StatusJson | undefined> {
    const deadline = Date.now() + (Number.isFinite(ms) ? ms : 0);
    for (;;) {
      const meta = await this.engine.getMeta(id);
      if (meta && TERMINAL_STATUSES.includes(meta.status)) return toStatusJson(meta);
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await this.engine.nextChange(Math.min(left, 1000));
    }
  }

  private async status(req: ApiRequest, id: string): Promise<ApiResponse> {
    const meta = await this.engine.getMeta(id);
    if (!meta) throw new HostError('NotFound', `No instance with ID '${id}' found.`);
    const showHistory = boolParam(req.url, 'showHistory', false);
    const history = showHistory ? await this.engine.getHistory(id) : undefined;
    const body = toStatusJson(meta, { showInput: boolParam(req.url, 'showInput', true), history, showHistoryOutput: boolParam(req.url, 'showHistoryOutput', false) });
    if (ACTIVE.includes(meta.status)) {
      return { status: 202, headers: { Location: req.url.toString(), 'Retry-After': '5' }, body };
    }
    if (meta.status === 'Failed' && boolParam(req.url, 'returnInternalServerErrorOnFailure', false)) return { status: 500, body };
    return { status: 200, body };
  }

  /**
   * One page in instance-id order (the order of the Azure Storage provider's Instances table): `top` instances
   * (at most MAX_PAGE; without `top`, MAX_PAGE), and `x-ms-continuation-token` when more may follow.
   */
  private async list(req: ApiRequest): Promise<ApiResponse> {
    const prefix = req.url.searchParams.get('instanceIdPrefix') ?? undefined;
    if (prefix !== undefined && prefix.length > MAX_PREFIX) {
      throw new HostError('InvalidArgument', `instanceIdPrefix is ${prefix.length} characters long; instance ids have at most ${MAX_PREFIX}, so it could match nothing.`);
    }
    const query: InstanceQuery = {
      createdTimeFrom: timeParam(req.url, 'createdTimeFrom'),
      createdTimeTo: timeParam(req.url, 'createdTimeTo'),
      runtimeStatus: statusesParam(req.url),
      instanceIdPrefix: prefix || undefined,
    };
    const showInput = boolParam(req.url, 'showInput', true);
    const top = intParam(req.url, 'top', 2 ** 31 - 1);
    if (top === 0) throw new HostError('InvalidArgument', `Query parameter 'top' is '0'; use a whole number from 1, or leave it out for pages of ${MAX_PAGE}.`);
    const token = req.headers['x-ms-continuation-token'];
    const after = token ? decodeContinuation(token) : undefined;
    if (token && after === undefined) {
      throw new HostError('InvalidArgument', `The x-ms-continuation-token header '${clip(token)}' is not one this host issued; send the token of the previous page unchanged, or none for the first page.`);
    }
    const page = await this.engine.listMetas(query, { top: Math.min(top ?? MAX_PAGE, MAX_PAGE), after });
    const headers: Record<string, string> = {};
    if (page.next !== undefined) headers['x-ms-continuation-token'] = encodeContinuation(page.next);
    return { status: 200, headers, body: page.items.map((meta) => toStatusJson(meta, { showInput })) };
  }

  private async purge(id: string): Promise<ApiResponse> {
    const deleted = await this.engine.purge(id);
    if (!deleted) throw new HostError('NotFound', `No instance with ID '${id}' found.`);
    return { status: 200, body: { instancesDeleted: 1 } };
  }

  private async purgeBy(req: ApiRequest): Promise<ApiResponse> {
    const from = timeParam(req.url, 'createdTimeFrom');
    if (!from) throw new HostError('InvalidArgument', 'Purging by filter needs createdTimeFrom (ISO-8601), for example ?createdTimeFrom=2026-01-01T00:00:00Z.');
    const query: InstanceQuery = { createdTimeFrom: from, createdTimeTo: timeParam(req.url, 'createdTimeTo'), runtimeStatus: statusesParam(req.url) ?? [...TERMINAL_STATUSES] };
    const metas = (await allPages((after) => this.engine.listMetas(query, { top: MAX_PAGE, after }))).filter((m) => TERMINAL_STATUSES.includes(m.status));
    let n = 0;
    for (const meta of metas) if (await this.engine.purge(meta.instanceId)) n++;
    if (n === 0) throw new HostError('NotFound', 'No instances matched the purge filter.');
    return { status: 200, body: { instancesDeleted: n } };
  }

  private async raise(req: ApiRequest, id: string, eventName: string): Promise<ApiResponse> {
    // As the extension (HttpApiHandler.HandleRaiseEventRequestAsync): JSON content only, and a body that is JSON;
    // an empty body is no JSON (send `null` for an event without data).
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) {
      throw new HostError('InvalidContentType', `raiseEvent needs Content-Type: application/json; got '${type || 'none'}'. Only application/json request content is supported.`);
    }
    if (req.body.length === 0) throw new HostError('InvalidJson', 'Invalid JSON content: the raiseEvent body is empty; send the event data as JSON (null for none).');
    const input = parseJsonBody(req, 'event');
    await this.engine.raiseEvent(id, eventName, input);
    return { status: 202 };
  }

  private async control(id: string, op: () => Promise<void>): Promise<ApiResponse> {
    await op();
    return { status: 202 };
  }

  private async restart(req: ApiRequest, id: string, origin: string): Promise<ApiResponse> {
    const meta = await this.engine.getMeta(id);
    if (!meta) throw new HostError('NotFound', `No instance with ID '${id}' found.`);
    const newId = boolParam(req.url, 'restartWithNewInstanceId', true) ? undefined : id;
    const started = await this.engine.start(meta.name, newId, meta.input, undefined, meta.version);
    const urls = managementUrls(origin, this.hub, started);
    delete urls.rewindPostUri;
    return { status: 202, headers: { Location: urls.statusQueryGetUri, 'Retry-After': '10' }, body: urls };
  }
}

function methodNotAllowed(method: string, allow: string): HostError {
  return new HostError('MethodNotAllowed', `${method} is not allowed here; use ${allow}.`, { Allow: allow });
}

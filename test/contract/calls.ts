// The HTTP calls the contract's scenarios make (through the app's starter and the Durable management API), waiting
// by polling with a real-time deadline (the same code works on a real host), and the checks of error answers, which
// are where devhost and the extension differ on purpose: devhost always answers `{"error":{"code","message"}}`, the
// extension an empty body (404, 410) or ASP.NET's `{"Message": ...}` (400, 500).
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Target } from './target';

/** The public management API's base path. */
export const MGMT = '/runtime/webhooks/durabletask';

/** Status times as the extension writes them: yyyy-MM-ddTHH:mm:ssZ (`ToString("s") + "Z"`). */
export const STATUS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Every runtimeStatus string the extension uses (OrchestrationRuntimeStatus). */
export const RUNTIME_STATUSES = ['Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Pending', 'Suspended'];

const TERMINAL = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** The Durable status JSON (StatusResponsePayload). */
export interface StatusJson {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  version?: string;
  historyEvents?: Array<Record<string, unknown> & { EventType: string }>;
}

/** A fresh instance id or entity key that says which scenario made it (letters, digits and '-': safe in any URL). */
export function uid(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The status line and body of a response, for assertion messages. */
export async function peek(res: Response): Promise<string> {
  return `${res.status} ${await res.clone().text()}`;
}

/** POST a JSON body (or none, still as application/json) to a path of the target. */
export function postJson(t: Target, path: string, body?: unknown): Promise<Response> {
  return t.fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** The check-status response of a start, parsed. */
export interface Started {
  id: string;
  res: Response;
  body: Record<string, string>;
}

/**
 * Starts an orchestration through the app's HTTP starter (the SDK client's startNew, then createCheckStatusResponse).
 * @example const { id } = await startViaApp(t, 'hello');
 */
export async function startViaApp(t: Target, name: string, opts: { id?: string; input?: unknown; version?: string } = {}): Promise<Started> {
  const res = await postJson(t, `/api/orchestrators/${name}${opts.id ? `/${opts.id}` : ''}${opts.version ? `?version=${encodeURIComponent(opts.version)}` : ''}`, opts.input);
  expect(res.status, await peek(res)).toBe(202);
  const body = (await res.json()) as Record<string, string>;
  return { id: body.id, res, body };
}

/** Starts an orchestration through the management API (POST orchestrators/{name}[/{id}]) and returns its id. */
export async function startViaMgmt(t: Target, name: string, input?: unknown, id?: string): Promise<string> {
  const res = await postJson(t, `${MGMT}/orchestrators/${name}${id ? `/${encodeURIComponent(id)}` : ''}`, input);
  expect(res.status, await peek(res)).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** GET instances/{id}: code, parsed body (undefined when empty) and the response. */
export async function readStatus(t: Target, id: string, query = ''): Promise<{ code: number; body: StatusJson; res: Response }> {
  const res = await t.fetch(`${MGMT}/instances/${encodeURIComponent(id)}${query}`);
  const text = await res.text();
  return { code: res.status, body: (text ? JSON.parse(text) : undefined) as StatusJson, res };
}

/**
 * Polls `read` until it returns a value (not undefined), or fails after the target's patience, naming `what`.
 * @example const s = await poll(t, 'hello to finish', async () => ...);
 */
export async function poll<T>(t: Target, what: string | (() => string), read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + t.patienceMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${t.name}: gave up after ${t.patienceMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, t.pollMs));
  }
}

/** Waits until the instance's status satisfies `ok`; returns that status. */
export function waitForStatus(t: Target, id: string, what: string, ok: (s: StatusJson) => boolean): Promise<StatusJson> {
  let last = 'no status yet';
  return poll(t, () => `${id} ${what} (last seen: ${last})`, async () => {
    const { code, body } = await readStatus(t, id);
    if (code === 404) return undefined; // a real host may answer before the instance row exists
    last = `${body.runtimeStatus} ${JSON.stringify(body.output)}`;
    return ok(body) ? body : undefined;
  });
}

/** Waits until the instance has finished (Completed, Failed, Terminated). */
export function waitForEnd(t: Target, id: string): Promise<StatusJson> {
  return waitForStatus(t, id, 'to finish', (s) => TERMINAL.includes(s.runtimeStatus));
}

/** Waits until the instance runs (its first episode is done) or has finished. */
export function waitForStart(t: Target, id: string): Promise<StatusJson> {
  return waitForStatus(t, id, 'to start', (s) => s.runtimeStatus !== 'Pending');
}

/** Raises an event through the management API and expects 202. */
export async function raise(t: Target, id: string, name: string, value: unknown): Promise<void> {
  const res = await postJson(t, `${MGMT}/instances/${encodeURIComponent(id)}/raiseEvent/${name}`, value);
  expect(res.status, await peek(res)).toBe(202);
}

/**
 * Checks an error answer's body on either kind of host. devhost: `{"error":{"code","message"}}` whose message
 * matches `devhost`. The extension: an empty body when `func` is null, ASP.NET's `{"Message": ...}` containing `func`
 * when it is a string, or exactly the JSON value `func.json` (README, differences table: "errors").
 * @example await expectErrorBody(t, res, { devhost: /already exists/, func: 'Something went wrong' });
 */
export async function expectErrorBody(t: Target, res: Response, expected: { devhost?: string | RegExp; func: string | null | { json: unknown } }): Promise<void> {
  const text = await res.text();
  if (t.kind === 'devhost') {
    expect(res.headers.get('content-type') ?? '', text).toMatch(/application\/json/);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    expect(typeof body.error?.code, text).toBe('string');
    expect(typeof body.error?.message, text).toBe('string');
    if (expected.devhost !== undefined) expect(body.error?.message).toMatch(expected.devhost);
    return;
  }
  if (expected.func === null) {
    expect(text).toBe('');
    return;
  }
  if (typeof expected.func === 'object') {
    expect(JSON.parse(text)).toEqual(expected.func.json);
    return;
  }
  const body = JSON.parse(text) as { Message?: unknown };
  expect(typeof body.Message, text).toBe('string');
  expect(body.Message as string).toContain(expected.func);
}

// A player's tasks are the Durable instances whose ids start with `<player>.delay.` or `<player>.async.`
// (names.ts): ownership is read from the id, and the list comes from the Durable client's instance query by id
// prefix, so starting a task costs no write besides the start itself.
import { createHash } from 'node:crypto';
import type { DurableClient } from 'durable-functions';
import { GameError } from './errors';
import { instanceId, type InstanceKind } from './names';
import type { TaskKind } from './tasks';

/** What the app reads of an instance's status (the SDK's DurableOrchestrationStatus or the RPC list's JSON). */
export interface InstanceStatus {
  instanceId: string;
  runtimeStatus: string;
  createdTime: Date | string;
  lastUpdatedTime?: Date | string;
  input?: unknown;
  customStatus?: unknown;
  output?: unknown;
}

/**
 * The Durable extension's local RPC endpoint from the client's binding (the SDK keeps it, but not in its types),
 * or undefined with an older extension. The app calls it where the SDK falls short (prefix lists, raise results).
 *
 * @example
 * const base = rpcBaseUrlOf(client); // "http://127.0.0.1:7071/durabletask/"
 */
export function rpcBaseUrlOf(client: DurableClient): string | undefined {
  return (client as unknown as { clientData?: { rpcBaseUrl?: string } }).clientData?.rpcBaseUrl;
}

const TASK_ID = /^([a-z0-9_-]{2,32})\.(delay|async)\.[A-Za-z0-9-]{1,200}$/;

/**
 * The kind of task `id` names when it is one of `player`'s, else undefined (another player's id, an interactive
 * command's instance, or not an id the app makes).
 *
 * @example
 * taskKindOf('alice', 'alice.delay.0b6f') // "delay"
 * taskKindOf('bob', 'alice.delay.0b6f')   // undefined
 */
export function taskKindOf(player: string, id: string): TaskKind | undefined {
  const m = TASK_ID.exec(id);
  return m && m[1] === player ? (m[2] as TaskKind) : undefined;
}

/** Most instances one list query reads (pages of 500). */
export const LIST_SCAN_LIMIT = 2000;
/** Finished tasks stay in the list this long after they finished... */
export const FINISHED_LISTED_MS = 24 * 3600_000;
/** ... when they were created within this long (the query filters by creation time). */
export const FINISHED_SCAN_MS = 30 * 24 * 3600_000;
/** Runtime statuses of an instance that has not finished. */
export const LIVE_STATUSES = ['Pending', 'Running', 'Suspended', 'ContinuedAsNew'];
const FINISHED_STATUSES = ['Completed', 'Failed', 'Terminated', 'Canceled'];

/** A filter of the Durable instance query. */
export interface InstanceFilter {
  runtimeStatus?: string[];
  createdTimeFrom?: Date;
  /** Include each instance's input (default true; counting needs none). */
  showInput?: boolean;
}

/** One page of an instance listing, and the token of the next page (undefined on the last). */
export interface InstancePage {
  items: InstanceStatus[];
  next?: string;
}

/**
 * One page of the Durable instance query through the client's local RPC endpoint (the SDK's getStatusBy has neither
 * a prefix filter nor paging): at most `top` instances whose id starts with `prefix` (all ids when it is empty) and
 * match `filter`, after the page `token` names. Throws GameError('storage_unavailable') when the extension does not
 * answer, and `badToken` (when given) for a token it refuses.
 *
 * @example
 * const { items, next } = await listPage(rpcBaseUrl, 'alice.', { runtimeStatus: LIVE_STATUSES }, 100);
 */
export async function listPage(rpcBaseUrl: string, prefix: string, filter: InstanceFilter, top: number, token?: string, badToken?: () => Error): Promise<InstancePage> {
  const url = new URL('instances/', rpcBaseUrl);
  if (prefix) url.searchParams.set('instanceIdPrefix', prefix);
  url.searchParams.set('showInput', String(filter.showInput ?? true));
  url.searchParams.set('top', String(top));
  if (filter.runtimeStatus) url.searchParams.set('runtimeStatus', filter.runtimeStatus.join(','));
  if (filter.createdTimeFrom) url.searchParams.set('createdTimeFrom', filter.createdTimeFrom.toISOString());
  let page: InstanceStatus[];
  let res: Response;
  try {
    res = await fetch(url, { headers: token ? { 'x-ms-continuation-token': token } : {}, signal: AbortSignal.timeout(30_000) });
    if (res.status !== 200) {
      await res.arrayBuffer();
      if (token && badToken && res.status === 400) throw badToken();
      throw new Error(`it answered HTTP ${res.status}`);
    }
    page = (await res.json()) as InstanceStatus[];
  } catch (err) {
    if (err instanceof GameError) throw err;
    // The Durable extension did not answer (or not as expected): a 503 the player may retry, not a bug.
    throw new GameError('storage_unavailable', `Listing tasks failed (${err instanceof Error ? err.message : String(err)}); try again in a moment.`, { cause: err });
  }
  let next = res.headers.get('x-ms-continuation-token') ?? undefined;
  // Old extensions end with the token "bnVsbA==" (base64 "null").
  if (next === 'bnVsbA==' || next === token) next = undefined;
  return { items: page.filter((s) => typeof s?.instanceId === 'string' && s.instanceId.startsWith(prefix)), next };
}

/**
 * The statuses (with inputs) of the instances whose id starts with `prefix` (and match `filter`), at most
 * LIST_SCAN_LIMIT. Uses the client's local RPC endpoint, which filters by prefix (the SDK's getStatusBy has no
 * prefix filter); without one it lists by the filter and keeps the prefix.
 *
 * @example
 * const live = await listByPrefix(client, 'alice.delay.', { runtimeStatus: ['Running', 'Pending'] });
 */
export async function listByPrefix(client: DurableClient, prefix: string, filter: InstanceFilter = {}): Promise<InstanceStatus[]> {
  const rpcBaseUrl = rpcBaseUrlOf(client);
  if (!rpcBaseUrl) {
    const all = await client.getStatusBy({ runtimeStatus: filter.runtimeStatus as never, createdTimeFrom: filter.createdTimeFrom });
    return all.filter((s) => s.instanceId.startsWith(prefix)).slice(0, LIST_SCAN_LIMIT) as InstanceStatus[];
  }
  const out = new Map<string, InstanceStatus>();
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await listPage(rpcBaseUrl, prefix, filter, 500, token);
    for (const s of page.items) out.set(s.instanceId, s);
    seen.add(token ?? '');
    token = page.next;
    // Never ask for the same page twice.
    if (token !== undefined && seen.has(token)) token = undefined;
  } while (token && out.size < LIST_SCAN_LIMIT);
  return [...out.values()];
}

/**
 * A player's tasks of one kind: every live one, and those that finished within FINISHED_LISTED_MS (of the ones
 * created within FINISHED_SCAN_MS).
 *
 * @example
 * const delays = await listTasksOf(client, 'alice', 'delay', Date.now());
 */
export async function listTasksOf(client: DurableClient, player: string, kind: TaskKind, nowMs: number): Promise<InstanceStatus[]> {
  const prefix = `${player}.${kind}.`;
  const [live, finished] = await Promise.all([
    listByPrefix(client, prefix, { runtimeStatus: LIVE_STATUSES }),
    listByPrefix(client, prefix, { runtimeStatus: FINISHED_STATUSES, createdTimeFrom: new Date(nowMs - FINISHED_SCAN_MS) }),
  ]);
  const recent = finished.filter((s) => new Date(s.lastUpdatedTime ?? s.createdTime).getTime() >= nowMs - FINISHED_LISTED_MS);
  const byId = new Map<string, InstanceStatus>();
  for (const s of [...live, ...recent]) byId.set(s.instanceId, s);
  return [...byId.values()];
}

/**
 * The instance id a step derives from `base` (something unique to one execution: a callback attempt, a request with an
 * Idempotency-Key) and its position `n` among that execution's starts: the same on every re-run, so a re-run finds
 * the instance its earlier run started instead of starting a second one. Keeps the ownership format
 * `<player>.<kind>.<uuid-shaped hash>`; the player is part of the id and of every base, so ids of two players never
 * meet, and bases are never reused (they embed an instance id or a first-seen time), so neither are ids.
 *
 * @example
 * derivedInstanceId('alice', 'delay', 'alice.delay.0b6f.fire', 0) // "alice.delay.5f0c2a9e-…"
 */
export function derivedInstanceId(player: string, kind: InstanceKind, base: string, n: number): string {
  const h = createHash('sha256').update(`${base}\u0000${n}`).digest('hex');
  return instanceId(player, kind, `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`);
}

/**
 * How many of `player`'s instances whose id starts with `<player>.<kind>.` have not finished, for each kind, summed.
 *
 * @example
 * const live = await countLive(client, 'alice', ['delay', 'async']);
 */
export async function countLive(client: DurableClient, player: string, kinds: InstanceKind[]): Promise<number> {
  const lists = await Promise.all(kinds.map((kind) => listByPrefix(client, `${player}.${kind}.`, { runtimeStatus: LIVE_STATUSES, showInput: false })));
  return lists.reduce((n, list) => n + list.length, 0);
}

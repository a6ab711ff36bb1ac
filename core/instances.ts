// A player's tasks are the Durable instances whose ids start with `<player>.delay.` or `<player>.async.`
// (names.ts): ownership is read from the id, and the list comes from the Durable client's instance query by id
// prefix, so starting a task costs no write besides the start itself.
import type { DurableClient } from 'durable-functions';
import type { TaskKind } from './tasks';

/** What the app reads of an instance's status (the SDK's DurableOrchestrationStatus or the RPC list's JSON). */
export interface InstanceStatus {
  instanceId: string;
  runtimeStatus: string;
  createdTime: Date | string;
  input?: unknown;
  customStatus?: unknown;
  output?: unknown;
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

/** Most instances one list reads (pages of 500): a longer history is cut there (purge old instances to keep lists fast). */
export const LIST_SCAN_LIMIT = 5000;

/**
 * The statuses (with inputs) of all instances whose id starts with `prefix`. Uses the client's local RPC endpoint,
 * which filters by prefix (the SDK's getStatusBy has no prefix filter); without one it lists everything and filters.
 *
 * @example
 * const mine = await listByPrefix(client, 'alice.');
 */
export async function listByPrefix(client: DurableClient, prefix: string): Promise<InstanceStatus[]> {
  const rpcBaseUrl = (client as unknown as { clientData?: { rpcBaseUrl?: string } }).clientData?.rpcBaseUrl;
  if (!rpcBaseUrl) {
    return (await client.getStatusAll()).filter((s) => s.instanceId.startsWith(prefix)) as InstanceStatus[];
  }
  const out: InstanceStatus[] = [];
  let token: string | undefined;
  do {
    const url = new URL('instances/', rpcBaseUrl);
    url.searchParams.set('instanceIdPrefix', prefix);
    url.searchParams.set('showInput', 'true');
    url.searchParams.set('top', '500');
    const res = await fetch(url, { headers: token ? { 'x-ms-continuation-token': token } : {} });
    if (res.status !== 200) {
      await res.arrayBuffer();
      throw new Error(`listing instances with prefix ${prefix} answered HTTP ${res.status}`);
    }
    const page = (await res.json()) as InstanceStatus[];
    out.push(...page.filter((s) => typeof s?.instanceId === 'string' && s.instanceId.startsWith(prefix)));
    token = res.headers.get('x-ms-continuation-token') ?? undefined;
  } while (token && out.length < LIST_SCAN_LIMIT);
  return out;
}

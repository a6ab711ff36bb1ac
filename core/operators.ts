// Operators: Evennia's @tasks across all players, behind GAME_OPERATOR_KEY. The key check does the same constant-time
// work whatever is sent; the lists page through the Durable instance query (live instances, by id prefix when a
// player is given) and read prompts and progress only for the players on the page; every action is logged with the
// operator's note, to the function log and to the Operators table the operator page shows.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { odata } from '@azure/data-tables';
import type { DurableClient } from 'durable-functions';
import { addProgress, ClientRuntime, describeTask, isNotFound, type ControlResult } from './clientRuntime';
import { GameError, isGameError } from './errors';
import { LIVE_STATUSES, listPage, rpcBaseUrlOf, type InstanceStatus } from './instances';
import type { ControlOp } from './names';
import { listPrompts, type Prompt } from './prompts';
import { operatorKey } from './settings';
import { storageError, table } from './tables';
import type { TaskInfo, TaskKind, TaskState } from './tasks';

/** A random key of this process: both sides of a comparison are HMACed with it, so it takes the same time whatever they are. */
const COMPARE_KEY = randomBytes(32);
const digest = (value: string): Buffer => createHmac('sha256', COMPARE_KEY).update(value, 'utf8').digest();

/**
 * Checks `Authorization: Bearer <GAME_OPERATOR_KEY>` and throws the refusal: 401 missing_operator_key without the
 * header, 403 wrong_operator_key with another value (a player's token too), 403 operators_disabled when the app has no
 * key. Every request pays the same HMAC and constant-time comparison first, so timing tells nothing.
 *
 * @example
 * verifyOperator(req.headers.get('authorization'));
 */
export function verifyOperator(authorization: string | null): void {
  const key = operatorKey();
  const m = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  const given = m?.[1] ?? '';
  const matches = timingSafeEqual(digest(given), digest(key ?? `\u0000${given}`));
  if (key === undefined) {
    throw new GameError(
      'operators_disabled',
      'Operator routes are off: this app has no GAME_OPERATOR_KEY. Locally, add `"GAME_OPERATOR_KEY": "<random-secret>"` to the Values of local.settings.json and run `npm start` (devhost fills it in); on Azure, infra/ sets it from Key Vault.',
    );
  }
  if (!m) throw new GameError('missing_operator_key', 'Operator routes need "Authorization: Bearer <operator key>" (the app setting GAME_OPERATOR_KEY).');
  if (!matches) throw new GameError('wrong_operator_key', 'That is not the operator key (GAME_OPERATOR_KEY); a player token does not open operator routes.');
}

const TASK_ID = /^([a-z0-9_-]{2,32})\.(delay|async|cmd)\.[A-Za-z0-9-]{1,200}$/;

/** The owner and kind an instance id names, or undefined for ids the app does not make. */
function ownerOf(id: string): { player: string; kind: 'delay' | 'async' | 'cmd' } | undefined {
  const m = TASK_ID.exec(id);
  return m ? { player: m[1], kind: m[2] as 'delay' | 'async' | 'cmd' } : undefined;
}

/** A task as the operator list shows it: the player's view, plus its owner and arguments. */
export interface OperatorTask extends TaskInfo {
  player: string;
  /** The callback's arguments as JSON, cut at 200 characters. */
  args: string;
}

/** An open prompt as the operator list shows it (never the answer a line may have claimed it with). */
export interface OperatorPrompt {
  player: string;
  promptId: string;
  instanceId: string;
  /** The interactive command that asks. */
  command: string;
  question: string;
  openedAt: string;
  timeoutAt?: string;
  state: Prompt['state'];
}

/** Filters of the operator task list. */
export interface TaskFilter {
  player?: string;
  callback?: string;
  state?: Extract<TaskState, 'waiting' | 'paused' | 'running'>;
  kind?: TaskKind;
}

/** A page of a list, and the cursor of the next one (absent on the last). */
export interface Page<T> {
  items: T[];
  next?: string;
}

/** Instances read from the Durable query per request of the instance store: a page of the operator list costs at most MAX_SCAN / SCAN_PAGE of them. */
const SCAN_PAGE = 100;
const MAX_SCAN = 1000;

interface Cursor {
  /** The Durable continuation token of the page to read (none: the first). */
  t?: string;
  /** Instances of that page already shown. */
  s: number;
}

const badCursor = (): GameError => new GameError('invalid_query', 'cursor is not one this server returned; leave it out to start from the first page.');

function decodeCursor(cursor: string | undefined): Cursor {
  if (!cursor) return { s: 0 };
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Cursor>;
    if ((c.t === undefined || (typeof c.t === 'string' && c.t.length <= 4000)) && Number.isSafeInteger(c.s) && (c.s as number) >= 0 && (c.s as number) < SCAN_PAGE) return { t: c.t, s: c.s as number };
  } catch {
    // below
  }
  throw badCursor();
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c)).toString('base64url');

/**
 * Pages through the live instances whose ids start with `prefix`, turning each page of instances into entries with
 * `expand` (which reads what the page needs in one go), until `limit` entries are found or MAX_SCAN instances were
 * read. The cursor names the instance query's page and how many of its instances were shown already, so the next
 * request goes on where this one stopped. A list that changes meanwhile may show an entry twice or miss one.
 */
async function scan<T>(client: DurableClient, prefix: string, limit: number, cursor: string | undefined, expand: (items: InstanceStatus[]) => Promise<T[][]>): Promise<Page<T>> {
  const rpcBaseUrl = rpcBaseUrlOf(client);
  if (!rpcBaseUrl) throw new GameError('storage_unavailable', 'The Durable extension gave no local endpoint to list instances with; operator lists need Durable Functions 2.x or later.');
  let at = decodeCursor(cursor);
  const out: T[] = [];
  let read = 0;
  for (;;) {
    const page = await listPage(rpcBaseUrl, prefix, { runtimeStatus: LIVE_STATUSES }, SCAN_PAGE, at.t, badCursor);
    const entries = await expand(page.items.slice(at.s));
    for (const [i, found] of entries.entries()) {
      out.push(...found);
      read++;
      if (out.length >= limit) {
        const shown = at.s + i + 1;
        const next = shown < page.items.length ? { t: at.t, s: shown } : page.next ? { s: 0, t: page.next } : undefined;
        return next ? { items: out, next: encodeCursor(next) } : { items: out };
      }
    }
    if (!page.next) return { items: out };
    at = { t: page.next, s: 0 };
    if (read >= MAX_SCAN) return { items: out, next: encodeCursor(at) };
  }
}

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Every live task (delays and background jobs) across players, with owner, callback, fire time, remaining time and
 * progress, filtered by player, callback (case-insensitive), state and kind; `limit` per page.
 *
 * @example
 * const { items, next } = await listAllTasks(client, { callback: 'remind' }, 50);
 */
export async function listAllTasks(client: DurableClient, filter: TaskFilter, limit: number, cursor?: string, nowMs = Date.now()): Promise<Page<OperatorTask>> {
  const prefix = filter.player ? `${filter.player}.${filter.kind ? `${filter.kind}.` : ''}` : '';
  return scan(client, prefix, limit, cursor, async (items) => {
    const byPlayer = new Map<string, { info: TaskInfo; status: InstanceStatus }[]>();
    const found = items.map((status) => {
      const owner = ownerOf(status.instanceId);
      if (!owner || owner.kind === 'cmd' || (filter.kind && owner.kind !== filter.kind)) return [];
      const info = describeTask(owner.kind, status, nowMs);
      if (filter.callback && info.callback.toLowerCase() !== filter.callback.toLowerCase()) return [];
      if (filter.state && info.state !== filter.state) return [];
      const args = (status.input as { args?: unknown } | undefined)?.args;
      const task: OperatorTask = { ...info, player: owner.player, args: clip(JSON.stringify(args ?? []), 200) };
      const group = byPlayer.get(owner.player) ?? [];
      group.push({ info: task, status });
      byPlayer.set(owner.player, group);
      return [task];
    });
    // Progress: one query per player on the page with a running background job.
    await Promise.all([...byPlayer].map(([player, group]) => addProgress(player, group)));
    return found;
  });
}

/**
 * Open prompts across players: the live interactive commands of the page, and for their players one query each of
 * the prompt rows in Messages (never a scan of the whole table). With a player, just that player's rows.
 *
 * @example
 * const { items } = await listAllPrompts(client, {}, 50);
 */
export async function listAllPrompts(client: DurableClient, filter: { player?: string }, limit: number, cursor?: string): Promise<Page<OperatorPrompt>> {
  return scan(client, filter.player ? `${filter.player}.cmd.` : '', limit, cursor, async (items) => {
    const commands = items.map((s) => ({ status: s, owner: ownerOf(s.instanceId) })).filter((c) => c.owner?.kind === 'cmd');
    const players = [...new Set(commands.map((c) => c.owner!.player))];
    const rows = new Map<string, Prompt[]>(await Promise.all(players.map(async (p) => [p, await listPrompts(p)] as const)));
    return items.map((status) => {
      const owner = ownerOf(status.instanceId);
      if (owner?.kind !== 'cmd') return [];
      const command = String((status.input as { key?: unknown } | undefined)?.key ?? '');
      return (rows.get(owner.player) ?? [])
        .filter((p) => p.instanceId === status.instanceId)
        .map((p): OperatorPrompt => {
          const entry: OperatorPrompt = { player: p.player, promptId: p.promptId, instanceId: p.instanceId, command, question: p.question, openedAt: new Date(p.openedAt).toISOString(), state: p.state };
          if (p.timeoutAt !== undefined) entry.timeoutAt = new Date(p.timeoutAt).toISOString();
          return entry;
        });
    });
  });
}

/** An operator action as the log keeps it. */
export interface OperatorAction {
  at: string;
  action: ControlOp;
  taskId: string;
  player: string;
  note: string;
  /** sent, noop (already so), finished, not_found, or the refusal's code. */
  outcome: string;
  /** The client address (first hop of X-Forwarded-For), if known. */
  from: string;
}

/** Sorts the log newest first: row keys count down from the year 2286. */
const logKey = (ms: number): string => `${String(9_999_999_999_999 - ms).padStart(13, '0')}.${randomUUID().slice(0, 8)}`;
const LOG_PARTITION = 'log';

/**
 * Acts on any player's task as its owner could (cancel, pause, unpause, fire, call), and logs the action with the
 * operator's note, whatever came of it. Throws task_not_found, task_finished (409) or task_not_controllable (409).
 *
 * @example
 * await operatorAct(client, 'alice.delay.0b6f', 'cancel', 'stuck reminder, ticket 42', '203.0.113.7', (m) => context.log(m));
 */
export async function operatorAct(client: DurableClient, id: string, action: ControlOp, note: string, from: string, log: (message: string) => void): Promise<{ player: string; result: ControlResult }> {
  const owner = ownerOf(id);
  const player = owner?.player ?? '';
  let outcome = 'not_found';
  try {
    if (!owner || owner.kind === 'cmd') throw new GameError('task_not_found', `No task has the id ${JSON.stringify(id.slice(0, 80))}; GET /api/operator/tasks lists them.`);
    const result = await new ClientRuntime(client).control(owner.player, id, action).catch((err: unknown) => {
      if (isGameError(err, 'task_not_found') || isNotFound(err)) throw new GameError('task_not_found', `No task has the id ${JSON.stringify(id.slice(0, 80))}; GET /api/operator/tasks lists them.`);
      throw err;
    });
    outcome = result;
    if (result === 'finished') throw new GameError('task_finished', `Task ${id} has already finished; it cannot be ${action === 'fire' ? 'fired' : action === 'call' ? 'called' : `${action}d`}.`);
    return { player: owner.player, result };
  } catch (err) {
    if (isGameError(err) && outcome !== 'finished') outcome = err.code;
    throw err;
  } finally {
    log(`operator ${action} of task ${id} (player ${player || 'unknown'}) from ${from || 'unknown'}: ${outcome}; note: ${JSON.stringify(note)}`);
    await recordAction({ at: new Date().toISOString(), action, taskId: id, player, note, outcome, from }, log);
  }
}

/** Adds an action to the Operators table; a failure is logged (the function log has the action), never thrown over the action's own answer. */
async function recordAction(a: OperatorAction, log: (message: string) => void): Promise<void> {
  try {
    const client = await table('Operators');
    await client.createEntity({ partitionKey: LOG_PARTITION, rowKey: logKey(Date.parse(a.at)), ...a });
  } catch (err) {
    log(`operator action on ${a.taskId} not kept in the Operators table: ${storageError(err, 'log an operator action').message}`);
  }
}

/**
 * The latest operator actions, newest first.
 *
 * @example
 * const recent = await recentActions(20);
 */
export async function recentActions(limit: number): Promise<OperatorAction[]> {
  const client = await table('Operators');
  const out: OperatorAction[] = [];
  try {
    const pages = client.listEntities<OperatorAction>({ queryOptions: { filter: odata`PartitionKey eq ${LOG_PARTITION}` } }).byPage({ maxPageSize: limit });
    for await (const page of pages) {
      for (const row of page) {
        out.push({ at: row.at, action: row.action, taskId: row.taskId, player: row.player, note: row.note, outcome: row.outcome, from: row.from });
        if (out.length >= limit) return out;
      }
    }
  } catch (err) {
    throw storageError(err, 'read the operator log');
  }
  return out;
}

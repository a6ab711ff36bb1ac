// Runs steps where I/O is allowed (HTTP functions and activities) through the Durable client: starts delay and
// runAsync instances (within the player's limits), sends them control events, and reads their status as TaskInfo.
import { randomUUID } from 'node:crypto';
import type { DurableClient } from 'durable-functions';
import { GameError } from './errors';
import type { Json } from './json';
import { admitStart, checkWaits } from './limits';
import { fn, instanceId, type ControlOp, type InstanceKind } from './names';
import { findCommand } from './registry';
import type { Runtime, StepSpec, TaskStart } from './steps';
import { derivedInstanceId, listTasksOf, taskKindOf, type InstanceStatus } from './instances';
import { readProgress } from './progress';
import type { TaskInfo, TaskKind, TaskState } from './tasks';

/** True when a Durable client error means "no such instance". */
export function isNotFound(err: unknown): boolean {
  return err instanceof Error && /\b404\b|No instance with ID/.test(err.message);
}

/** What a control operation did. */
export type ControlResult = 'sent' | 'noop' | 'finished';

interface DelayStatus {
  state?: 'waiting' | 'paused';
  fireAt?: string;
  remainingMs?: number;
}

interface Outcome {
  state?: TaskState;
  result?: Json;
  error?: string;
}

/**
 * Where the ids of the instances a runtime starts come from. Without one, ids are random (a plain request run once).
 * With one, the n-th start of the run gets derivedInstanceId(player, kind, base, n): a re-run of the same execution
 * (a callback activity run again, a request retried with its Idempotency-Key) finds what its earlier run started.
 */
export interface IdPlan {
  /** Unique to one execution and never reused: a callback's batch key, a request's key and first-seen time. */
  base: string;
  /** True when no earlier run of this base can have started anything, so no start needs to look first. */
  fresh: boolean;
}

/**
 * The Runtime of HTTP functions and activities.
 *
 * @example
 * const runtime = new ClientRuntime(df.getClient(context));
 * const { id } = await runtime.start({ kind: 'delay', player, command: 'remind', callback: 'remind', args: ['tea'], ms: 60_000 });
 */
export class ClientRuntime implements Runtime {
  readonly where = 'client' as const;

  private readonly getClient: () => DurableClient;
  private cached: DurableClient | undefined;
  private starts = 0;

  /** `client` may be a factory, so code paths that never touch a task never need the binding. */
  constructor(
    client: DurableClient | (() => DurableClient),
    private readonly now: () => number = () => Date.now(),
    private readonly ids?: IdPlan,
  ) {
    this.getClient = typeof client === 'function' ? client : () => client;
  }

  /** The id of the next instance this runtime starts, and whether an earlier run may have started it already. */
  private nextId(player: string, kind: InstanceKind): { id: string; fresh: boolean } {
    if (!this.ids) return { id: instanceId(player, kind, randomUUID()), fresh: true };
    return { id: derivedInstanceId(player, kind, this.ids.base, this.starts++), fresh: this.ids.fresh };
  }

  /** True when an instance with this id exists (running or finished). */
  private async exists(id: string): Promise<boolean> {
    try {
      await this.client.getStatus(id);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Starts an orchestration under the player's cap, unless (for an id an earlier run may have used) it exists. A start
   * that fails because a racing re-run created it first counts as done.
   */
  private async startOnce(player: string, cap: 'task' | 'command', orchestrator: string, planned: { id: string; fresh: boolean }, input: unknown, check?: () => void): Promise<void> {
    if (!planned.fresh && (await this.exists(planned.id))) return;
    check?.();
    const created = await admitStart(this.client, player, cap);
    try {
      await this.client.startNew(orchestrator, { instanceId: planned.id, input });
    } catch (err) {
      if (!planned.fresh && (await this.exists(planned.id).catch(() => false))) return;
      throw err;
    } finally {
      created();
    }
  }

  private get client(): DurableClient {
    this.cached ??= this.getClient();
    return this.cached;
  }

  run(spec: StepSpec): Promise<unknown> {
    switch (spec.kind) {
      case 'start':
        return this.start(spec.task);
      case 'control':
        return this.control(spec.player, spec.id, spec.op);
      case 'info':
        return this.info(spec.player, spec.id);
      case 'list':
        return this.list(spec.player, spec.limit);
      case 'command':
        return this.startCommand(spec.player, spec.key, spec.args);
      default:
        throw new GameError('wrong_context', `${spec.kind}() only works inside interactive(); yield it from a generator command.`);
    }
  }

  /**
   * Starts a task, within the player's limits (GameError too_many_tasks, delay_too_long). With an id (from an
   * orchestration, deterministic) a second call is a no-op, so a retried activity never starts the same task twice.
   */
  async start(task: TaskStart, id?: string): Promise<{ id: string }> {
    const planned = id !== undefined ? { id, fresh: false } : this.nextId(task.player, task.kind);
    await this.startOnce(task.player, 'task', task.kind === 'delay' ? fn.delayOrchestrator : fn.runAsyncOrchestrator, planned, task, () => checkWaits(task));
    return { id: planned.id };
  }

  /**
   * Starts an interactive (or loop) command for `player`, as if they had typed it; returns its instance id. Within the
   * player's cap (GameError too_many_commands). With an id (from an orchestration) a second call is a no-op.
   */
  async startCommand(player: string, key: string, args: string, id?: string): Promise<string> {
    const def = findCommand(key);
    if (!def) throw new GameError('unknown_command', `startCommand(): no command '${key}' is registered.`);
    if (typeof def.func === 'function') {
      throw new GameError('wrong_context', `startCommand(): '${def.key}' is a plain command; call its function directly instead.`);
    }
    const planned = id !== undefined ? { id, fresh: false } : this.nextId(player, 'cmd');
    await this.startOnce(player, 'command', fn.commandOrchestrator, planned, { player, key: def.key, args });
    return planned.id;
  }

  /** Status of one of `player`'s tasks, with a running job's progress; GameError('task_not_found') for unknown ids and other players' tasks. */
  async info(player: string, id: string): Promise<TaskInfo> {
    const [info] = await addProgress(player, [await this.describe(player, id)]);
    return info;
  }

  /** The task without its progress (what control() needs: no read of the progress rows). */
  private async describe(player: string, id: string): Promise<Described> {
    const kind = taskKindOf(player, id);
    const notFound = () => new GameError('task_not_found', `You have no task with id ${JSON.stringify(id.slice(0, 80))}; GET /api/tasks lists yours.`);
    if (!kind) throw notFound();
    let status: InstanceStatus;
    try {
      status = await this.client.getStatus(id, { showInput: true });
    } catch (err) {
      if (isNotFound(err)) throw notFound();
      throw err;
    }
    return { info: describeTask(kind, status, this.now()), status };
  }

  /** `player`'s live tasks and those finished within a day, newest first, at most `limit`. */
  async list(player: string, limit = 50): Promise<TaskInfo[]> {
    const found: Described[] = [];
    const kinds: TaskKind[] = ['delay', 'async'];
    const lists = await Promise.all(kinds.map((kind) => listTasksOf(this.client, player, kind, this.now())));
    for (const status of lists.flat()) {
      const kind = taskKindOf(player, status.instanceId);
      if (kind) found.push({ info: describeTask(kind, status, this.now()), status });
    }
    found.sort((a, b) => (a.info.createdAt < b.info.createdAt ? 1 : a.info.createdAt > b.info.createdAt ? -1 : a.info.id < b.info.id ? 1 : -1));
    return addProgress(player, found.slice(0, limit));
  }

  /**
   * Sends a control operation to one of `player`'s tasks: 'sent', 'noop' (already in that state, or a delay
   * already firing) or 'finished'. Throws task_not_found / task_not_controllable.
   */
  async control(player: string, id: string, op: ControlOp): Promise<ControlResult> {
    const { info } = await this.describe(player, id);
    if (info.kind === 'async' && op !== 'cancel') {
      throw new GameError('task_not_controllable', `Task ${id} is a background job (runAsync): it can be cancelled, but not paused, unpaused, fired or called.`);
    }
    if (!['waiting', 'paused', 'running'].includes(info.state)) return 'finished';
    if (info.kind === 'delay' && info.state === 'running') return 'noop';
    // The status may not show a pause or unpause sent a moment ago, so both are always sent (the delay ignores
    // one that changes nothing); 'noop' only reports that, as far as the status shows, nothing changes.
    const noChange = (op === 'pause' && info.state === 'paused') || (op === 'unpause' && info.state !== 'paused');
    try {
      if (info.kind === 'async') await this.client.terminate(id, 'cancelled');
      else await this.client.raiseEvent(id, op, null);
    } catch (err) {
      if (isNotFound(err)) return 'finished';
      throw err;
    }
    return noChange ? 'noop' : 'sent';
  }
}

/** A task and the status it was described from. */
export interface Described {
  info: TaskInfo;
  status: InstanceStatus;
}

/**
 * A task as /api/tasks shows it, from its instance status: state, fire time and remaining seconds (from `nowMs`),
 * result or error.
 *
 * @example
 * const info = describeTask('delay', await client.getStatus(id, { showInput: true }), Date.now());
 */
export function describeTask(kind: TaskKind, status: InstanceStatus, nowMs: number): TaskInfo {
  const input = (status.input ?? {}) as Partial<{ command: string; callback: string; fn: string; ms: number }>;
  const createdMs = new Date(status.createdTime).getTime();
  const info: TaskInfo = {
    id: status.instanceId,
    kind,
    callback: String((kind === 'delay' ? input.callback : input.fn) ?? ''),
    command: String(input.command ?? ''),
    state: 'unknown',
    createdAt: new Date(Number.isFinite(createdMs) ? createdMs : 0).toISOString(),
  };
  const custom = (status.customStatus ?? {}) as DelayStatus;
  switch (status.runtimeStatus) {
    case 'Pending':
    case 'Running':
    case 'ContinuedAsNew':
    case 'Suspended':
      if (kind === 'async' || (custom as { state?: string }).state === 'firing') {
        info.state = 'running';
      } else if (custom.state === 'paused' || status.runtimeStatus === 'Suspended') {
        info.state = 'paused';
        if (custom.remainingMs !== undefined) info.remaining = custom.remainingMs / 1000;
      } else {
        info.state = 'waiting';
        const fireAt = custom.fireAt ? Date.parse(custom.fireAt) : typeof input.ms === 'number' && Number.isFinite(createdMs) ? createdMs + input.ms : undefined;
        if (fireAt !== undefined) {
          info.fireAt = new Date(fireAt).toISOString();
          info.remaining = Math.max(0, fireAt - nowMs) / 1000;
        }
      }
      break;
    case 'Completed': {
      const out = (status.output ?? {}) as Outcome;
      info.state = out.state ?? 'completed';
      if (out.result !== undefined) info.result = out.result;
      if (out.error !== undefined) info.error = out.error;
      break;
    }
    case 'Failed':
      info.state = 'failed';
      info.error = typeof status.output === 'string' ? status.output : JSON.stringify(status.output);
      break;
    case 'Terminated':
    case 'Canceled':
      info.state = status.output === 'cancelled' ? 'cancelled' : 'terminated';
      break;
    default:
      break;
  }
  return info;
}

/**
 * Adds the progress of `player`'s running background jobs (one query of the player's progress rows, only when one
 * runs). A row of an earlier attempt than the one the job's status names is not shown: a retry starts over.
 *
 * @example
 * const infos = await addProgress('alice', [{ info: describeTask('async', status, Date.now()), status }]);
 */
export async function addProgress(player: string, tasks: Described[]): Promise<TaskInfo[]> {
  const running = tasks.filter((t) => t.info.kind === 'async' && t.info.state === 'running');
  if (running.length > 0) {
    const rows = await readProgress(player);
    for (const t of running) {
      const row = rows.get(t.info.id);
      const attempt = (t.status.customStatus as { attempt?: unknown } | null | undefined)?.attempt;
      if (row && (attempt === undefined || attempt === row.attempt)) t.info.progress = row.progress;
    }
  }
  return tasks.map((t) => t.info);
}

// Durable entities, beside the orchestration engine: an entity is an instance "@name@key" whose inbox holds operation
// requests; it runs them in batches, one batch at a time, through the app's entity function (one invocation per
// batch, as the extension does for out-of-process apps), stores the state the function returns, then answers the
// calls, sends the signals the operations made, and hands critical-section locks on. Read from the extension
// (TaskEntityShim, SchedulerState, EntityTriggerAttributeBindingProvider, RequestMessage/ResponseMessage) and the
// SDK (durable-functions entities/Entity.js); see README "Entities".
import { randomUUID } from 'node:crypto';
import { messageOf } from '../errors';
import { Invoker } from '../invoke';
import { Registry } from '../registry';
import { HistoryEvent, InboxMessage, InstanceMeta } from '../store/types';
import { entityInstanceId, parseEntityId } from './entity-ids';
import { iso } from './history';
import { outgoing } from './sends';
import { cloneState, EngineState, emptyState, Live, Outgoing } from './state';

/** Operations one invocation takes at most (the extension's maxEntityOperationBatchSize off Consumption). */
export const MAX_ENTITY_BATCH = 5000;
/** Request keys an entity remembers, to skip a message delivered twice after a crash. */
const DONE_KEPT = 256;

/** What the extension keeps of an entity (its SchedulerState): existence, state text and the lock holder. */
export interface SchedulerState {
  exists: boolean;
  /** JSON text of the state, or null. */
  state: string | null;
  lockedBy?: string;
}

/** A request in an entity's inbox (the extension's RequestMessage, or a ReleaseMessage when the event is 'release'). */
export interface RequestMessage {
  op?: string;
  signal?: boolean;
  /** JSON text. */
  input?: string;
  id: string;
  parent?: string | null;
  parentExecution?: string | null;
  lockset?: { name: string; key: string }[];
  pos?: number;
}

/** What the SDK's entity wrapper returns (durable-functions EntityState). */
interface EntityResult {
  entityExists?: boolean;
  entityState?: string;
  results?: { isError?: boolean; result?: string }[];
  signals?: { target?: { name?: string; key?: string }; name?: string; input?: string }[];
}

/** What processing a batch needs of the engine. */
export interface EntityHost {
  now(): number;
  commitEntity(live: Live, meta: InstanceMeta, consumed: InboxMessage[], st: EngineState): Promise<void>;
  report(functionName: string, reason: string, invocationId: string, started: number, result: string): void;
}

/** The scheduler state of a loaded entity. */
export function schedulerState(meta: InstanceMeta): SchedulerState {
  return meta.input ? (JSON.parse(meta.input) as SchedulerState) : { exists: false, state: null };
}

/** The meta of an entity that receives its first message. */
export function newEntityMeta(instanceId: string, now: number): InstanceMeta {
  const ts = iso(now);
  return { instanceId, name: instanceId, executionId: randomUUID().replace(/-/g, ''), status: 'Running', input: JSON.stringify({ exists: false, state: null }), output: null, customStatus: JSON.stringify({}), createdTime: ts, lastUpdatedTime: ts, parent: null, engine: emptyState() };
}

/**
 * Runs entity batches.
 * @example const entities = new EntityRunner(engine, registry, invoker); const batch = entities.pick(live); if (batch) await entities.process(live, batch);
 */
export class EntityRunner {
  constructor(
    private readonly host: EntityHost,
    private readonly registry: Registry,
    private readonly invoker: Invoker,
  ) {}

  /**
   * The next batch: waiting messages in arrival order, up to MAX_ENTITY_BATCH operations. While a critical section
   * holds the entity only its holder's messages are taken (the rest wait); a lock request or a release ends a batch.
   */
  pick(live: Live): InboxMessage[] | undefined {
    const { lockedBy } = schedulerState(live.meta);
    const batch: InboxMessage[] = [];
    for (const m of live.inbox) {
      const req = request(m);
      if (lockedBy !== undefined && req && req.parent !== lockedBy) continue;
      batch.push(m);
      if (!req || m.event.Name === 'release' || req.lockset || batch.length >= MAX_ENTITY_BATCH) break;
    }
    return batch.length > 0 ? batch : undefined;
  }

  /** Runs one batch: the operations in one invocation, then the lock request or release that ended it. */
  async process(live: Live, batch: InboxMessage[]): Promise<void> {
    const now = this.host.now();
    const ref = parseEntityId(live.meta.instanceId)!;
    const sched = schedulerState(live.meta);
    const st = cloneState(live.state);
    const done = new Set(st.done ?? []);
    const ops: { req: RequestMessage }[] = [];
    let lock: RequestMessage | undefined;
    for (const m of batch) {
      const req = request(m);
      const key = req ? `${String(m.event.Name)}:${req.id}` : undefined;
      if (!req || done.has(key!)) continue; // unreadable, or a repeat of a message already processed
      done.add(key!);
      if (m.event.Name === 'release') {
        if (sched.lockedBy === req.parent) sched.lockedBy = undefined;
      } else if (req.lockset) {
        lock = req;
      } else {
        ops.push({ req });
      }
    }

    if (ops.length > 0) {
      const results = await this.run(ref, sched, ops.map((o) => o.req), st, now);
      // One reply per call, in batch order (signals get none), then the signals the operations sent.
      ops.forEach(({ req }, i) => {
        if (req.signal || !req.parent) return;
        const r = results[i];
        const reply = { ...(typeof r?.result === 'string' ? { result: r.result } : {}), ...(r?.isError ? { exceptionType: 'Error' } : {}) };
        st.outbox.push(outgoing(now, req.parent, req.id, reply, req.parentExecution ?? undefined));
      });
    }
    if (lock) {
      // Locked for the holder, then on to the next entity of the set; the last one tells the orchestration.
      sched.lockedBy = lock.parent ?? undefined;
      const pos = (lock.pos ?? 0) + 1;
      const set = lock.lockset ?? [];
      if (pos < set.length) st.outbox.push(outgoing(now, entityInstanceId(set[pos].name, set[pos].key), 'op', { ...lock, pos }));
      else if (lock.parent) st.outbox.push(outgoing(now, lock.parent, lock.id, { result: 'Lock Acquisition Completed' }, lock.parentExecution ?? undefined));
    }

    st.done = [...done].slice(-DONE_KEPT);
    const meta: InstanceMeta = {
      ...live.meta,
      lastUpdatedTime: iso(now),
      input: JSON.stringify(sched),
      customStatus: JSON.stringify({ ...(sched.exists ? { entityExists: true } : {}), ...(sched.lockedBy ? { lockedBy: sched.lockedBy } : {}) }),
    };
    await this.host.commitEntity(live, meta, batch, st);
  }

  /** Invokes the entity function once for the operations; updates `sched` and queues the signals; returns one result per operation. */
  private async run(ref: { name: string; key: string }, sched: SchedulerState, ops: RequestMessage[], st: EngineState, now: number): Promise<{ isError?: boolean; result?: string }[]> {
    const fail = (message: string) => ops.map(() => ({ isError: true, result: JSON.stringify(message) }));
    const fn = this.registry.get(ref.name, 'entity');
    if (!fn) return fail(`The function '${ref.name}' doesn't exist, is disabled, or is not an entity function.`);
    const payload = { self: { name: ref.name, key: ref.key }, exists: sched.exists, state: sched.state, batch: ops.map((o) => ({ name: o.op ?? '', input: o.input ?? null, isSignal: !!o.signal })) };
    const started = Date.now();
    let out: EntityResult;
    try {
      const r = await this.invoker.invoke(fn, payload, { triggerMetadata: { entityId: payload.self } });
      this.host.report(fn.name, 'EntityTrigger', r.invocationId, started, 'Succeeded');
      out = (r.result ?? {}) as EntityResult;
    } catch (err) {
      this.host.report(fn.name, 'EntityTrigger', '', started, `Failed: ${messageOf(err)}`);
      return fail(messageOf(err));
    }
    const results = Array.isArray(out.results) ? out.results : [];
    if (results.length !== ops.length) return fail(`The entity function '${fn.name}' returned ${results.length} results for ${ops.length} operations.`);
    // The state as the function left it: a failed operation's changes stay, as on Azure for JavaScript apps.
    sched.exists = !!out.entityExists;
    sched.state = typeof out.entityState === 'string' ? out.entityState : null;
    const self = entityInstanceId(ref.name, ref.key);
    for (const s of Array.isArray(out.signals) ? out.signals : []) {
      if (typeof s?.target?.name !== 'string' || typeof s.target.key !== 'string' || typeof s.name !== 'string') continue;
      // Lower-cased, so the signal reaches the entity clients and orchestrations address (Azure keeps the case: durable-js#170).
      const to = entityInstanceId(s.target.name, s.target.key);
      st.outbox.push(outgoing(now, to, 'op', { op: s.name, signal: true, ...(s.input ? { input: s.input } : {}), id: randomUUID(), parent: self }));
    }
    return results;
  }
}

/** An entity as the HTTP API lists it (DurableEntityStatus). */
export interface EntityStatus {
  entityId: { name: string; key: string };
  lastOperationTime: string;
  state: unknown;
}

/** Filters of the entity list: last operation from/to (ISO times), and whether to include the state. */
export interface EntityListQuery {
  from?: string;
  to?: string;
  fetchState: boolean;
}

/**
 * The entities among instance metas that have state (what the extension lists), oldest operation first.
 * @example entityStatuses(await store.list({ instanceIdPrefix: '@counter@' }), { fetchState: true })
 */
export function entityStatuses(metas: InstanceMeta[], q: EntityListQuery): EntityStatus[] {
  const out: EntityStatus[] = [];
  for (const m of metas) {
    const ref = parseEntityId(m.instanceId);
    const sched = schedulerState(m);
    if (!ref || sched.state === null) continue;
    if ((q.from && m.lastUpdatedTime < q.from) || (q.to && m.lastUpdatedTime > q.to)) continue;
    out.push({ entityId: ref, lastOperationTime: m.lastUpdatedTime, state: q.fetchState ? JSON.parse(sched.state) : null });
  }
  return out.sort((a, b) => a.lastOperationTime.localeCompare(b.lastOperationTime) || a.entityId.key.localeCompare(b.entityId.key));
}

/**
 * The request a client signal carries (no parent: clients get no reply).
 * @example clientSignal('add', '5') // { op: 'add', signal: true, input: '5', id: '…', parent: null }
 */
export function clientSignal(op: string, inputJson: string | undefined): RequestMessage {
  return { op, signal: true, ...(inputJson !== undefined ? { input: inputJson } : {}), id: randomUUID(), parent: null };
}

/** The request a message carries, or undefined when it is not one. */
function request(m: InboxMessage): RequestMessage | undefined {
  const ev: HistoryEvent = m.event;
  if (typeof ev.Input !== 'string') return undefined;
  try {
    const r = JSON.parse(ev.Input) as RequestMessage;
    return r && typeof r === 'object' && typeof r.id === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

export type { Outgoing };

// An orchestration's episodes: what one batch of messages, or one control message (terminate, suspend, resume),
// turns into: the events it adds, the state it leaves, the effects to run, the continue-as-new hand-over and the
// version check. The engine forms the batches and commits what this decides.
import { randomUUID } from 'node:crypto';
import { Scheduler } from '../clock';
import { messageOf } from '../errors';
import { Invoker, LogSink } from '../invoke';
import { Registry, RegisteredFunction } from '../registry';
import { HistoryEvent, InboxMessage, InstanceMeta } from '../store/types';
import { ActionType, actionTypeOf, toJsonText } from './actions';
import { allocatesIds, applyActions, EpisodeOutcome, followUp, releaseLocks, runOrchestrator } from './episode';
import { event, EventType, iso, OrchestrationStatusCode } from './history';
import { parkForRewind } from './rewind';
import { cloneState, Effect, EngineState, emptyState, isTerminal, Live, Plan } from './state';
import { PlanOptions } from './timers';
import { MAX_REJECT_WAIT_MS, mayRun, VERSION_MISMATCH, Versioning } from './versioning';

/** Terminate, suspend and resume: they act on their own, ahead of other messages. */
export const CONTROL_EVENTS = new Set<number>([EventType.ExecutionTerminated, EventType.ExecutionSuspended, EventType.ExecutionResumed]);

/** What one episode (or control message) writes, atomically. */
export interface EpisodeCommit {
  meta: InstanceMeta;
  append: HistoryEvent[];
  /** Action signatures this episode recorded. */
  actions?: string[];
  /** Batch messages this episode used up (all but the events carried into a new execution). */
  consumed: InboxMessage[];
  st: EngineState;
  effects: Effect[];
  /** Continue-as-new: the old execution whose history goes. */
  dropExecution?: string;
  /** Continue-as-new: the new execution's ExecutionStarted. */
  enqueue?: InboxMessage[];
  /** Rewind: `append` and `actions` are the execution's whole new history and action list. */
  replaceHistory?: boolean;
}

/** True when the orchestrator's answer ends this execution with continue-as-new. */
function continuesAsNew(o: EpisodeOutcome): boolean {
  const actions = o.state?.actions?.[0] ?? [];
  return o.error === undefined && !!o.state?.isDone && actions.some((a) => actionTypeOf(a) === ActionType.ContinueAsNew);
}

/** OrchestratorStarted, then the events of the first `count` messages: what an episode adds before its decisions. */
function episodeEvents(ts: string, taken: InboxMessage[], count: number): HistoryEvent[] {
  const events = [event(EventType.OrchestratorStarted, ts)];
  for (let i = 0; i < count; i++) events.push(taken[i].event);
  return events;
}

/** Clear pending work of a finished execution; the parent hears about it. */
export function finish(live: Live, st: EngineState, effects: Effect[], notify = true): void {
  for (const id of Object.keys(st.timers)) effects.push({ kind: 'cancelTimer', id: Number(id) });
  parkForRewind(st);
  st.timers = {};
  st.activities = {};
  st.children = {};
  st.retries = {};
  if (notify && live.meta.parent) effects.push({ kind: 'notifyParent' });
}


/** What the episodes need of the engine. */
export interface OrchestrationHost {
  now(): number;
  commit(live: Live, c: EpisodeCommit): Promise<void>;
  kick(live: Live): void;
  message(ev: HistoryEvent, executionId?: string): InboxMessage;
  executionStarted(meta: InstanceMeta, ts: string): HistoryEvent;
  report(functionName: string, reason: string, invocationId: string, started: number, result: string): void;
}

export interface OrchestrationRunnerOptions {
  registry: Registry;
  invoker: Invoker;
  scheduler: Scheduler;
  log: LogSink;
  limits: PlanOptions;
  versioning: Versioning;
}

/**
 * Runs orchestration episodes for the engine.
 * @example const orchestrations = new OrchestrationRunner(engine, { registry, invoker, scheduler, log, limits, versioning }); await orchestrations.process(live, batch);
 */
export class OrchestrationRunner {
  constructor(
    private readonly host: OrchestrationHost,
    private readonly o: OrchestrationRunnerOptions,
  ) {}

  /**
   * One episode over a batch (DTFx TaskOrchestrationDispatcher): OrchestratorStarted, then each message's event
   * in batch order; messages for an older execution, a second ExecutionStarted and completions nobody waits for
   * any more are dropped, as DTFx drops them.
   */
  async process(live: Live, batch: InboxMessage[]): Promise<void> {
    const now = this.host.now();
    const ts = iso(now);
    const meta = live.meta;
    if (CONTROL_EVENTS.has(batch[0].event.EventType)) return this.control(live, batch[0], ts);
    const plan: Plan = { live, st: cloneState(live.state), now, decisions: [], effects: [], actions: [] };
    const taken: InboxMessage[] = [];
    if (!isTerminal(meta.status)) {
      for (let i = 0; i < batch.length; i++) {
        const msg = batch[i];
        const ev = msg.event;
        if (taken.length > 0 && allocatesIds(plan.st, ev, now)) {
          batch = batch.slice(0, i); // it opens the next episode (allocatesIds says why)
          break;
        }
        // Messages addressed to an older execution are dropped (DTFx "eat up any events for previous executions");
        // events raised from outside carry no execution and reach the current one.
        const stale = msg.executionId !== undefined && msg.executionId !== meta.executionId;
        const secondStart = ev.EventType === EventType.ExecutionStarted && (live.history.length > 0 || taken.length > 0);
        if (!stale && !secondStart && followUp(plan, ev, this.o.limits)) taken.push(msg);
      }
    }
    // Nothing to run: every message was stale, or (DTFx: "invalid orchestration") the execution has not started.
    if (taken.length === 0 || (live.history.length === 0 && taken[0].event.EventType !== EventType.ExecutionStarted)) {
      return this.host.commit(live, { meta: { ...meta }, append: [], consumed: batch, st: live.state, effects: [] });
    }

    if (!mayRun(this.o.versioning, meta.version ?? '')) return this.versionMismatch(live, plan, batch, taken);
    live.rejections = 0;
    live.rejectedUntil = undefined;

    const fn = this.o.registry.get(meta.name, 'orchestration');
    let newEvents = episodeEvents(ts, taken, taken.length);
    let outcome: EpisodeOutcome = fn
      ? await this.runEpisode(fn, live, newEvents)
      : { error: `The function '${meta.name}' doesn't exist, is disabled, or is not an orchestrator function.` };
    let carried: InboxMessage[] = [];
    if (fn && taken.length > 1 && continuesAsNew(outcome)) {
      // DTFx hands the events after the one that made the orchestrator continue as new to the new execution
      // (EventRaised only; the rest belonged to the old one). The SDK stops reading history at that point, so
      // the shortest prefix of the batch that already continues as new finds it.
      for (let k = 1; k < taken.length; k++) {
        const prefix = episodeEvents(ts, taken, k);
        const probe = await this.runEpisode(fn, live, prefix, false);
        if (!continuesAsNew(probe)) continue;
        outcome = probe;
        newEvents = prefix;
        carried = taken.slice(k).filter((m) => m.event.EventType === EventType.EventRaised);
        break;
      }
    }

    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts };
    if (next.status === 'Pending') next.status = 'Running';
    const state = outcome.state;
    if (state && state.customStatus !== undefined && state.customStatus !== null) next.customStatus = toJsonText(state.customStatus);

    let failure = outcome.error;
    let continueInput: string | undefined;
    if (state && failure === undefined) {
      try {
        continueInput = applyActions(plan, state, this.o.limits);
      } catch (err) {
        failure = messageOf(err);
      }
    }

    const consumed = carried.length === 0 ? batch : batch.filter((m) => !carried.includes(m));
    // DTFx writes the execution's end as the episode's last decision, then OrchestratorCompleted.
    const tail: HistoryEvent[] = [];
    if (failure !== undefined) {
      next.status = 'Failed';
      next.output = toJsonText(`Orchestrator function '${meta.name}' failed: ${failure}`);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: next.output, FailureDetails: outcome.failureDetails ?? null }));
      finish(live, plan.st, plan.effects);
    } else if (state?.isDone && continueInput !== undefined) {
      // The new execution starts with ExecutionStarted, then the carried events (still in the inbox), in one commit.
      next.input = continueInput;
      next.executionId = randomUUID().replace(/-/g, '');
      next.status = 'Running';
      releaseLocks(plan, false); // the extension releases a critical section when the execution continues as new or completes
      finish(live, plan.st, plan.effects, false);
      const start = this.host.message(this.host.executionStarted(next, ts), next.executionId);
      const st = { ...emptyState(), outbox: plan.st.outbox };
      return this.host.commit(live, { meta: next, append: [], consumed, st, effects: plan.effects, dropExecution: meta.executionId, enqueue: [start] });
    } else if (state?.isDone) {
      next.status = 'Completed';
      next.output = toJsonText(state.output);
      releaseLocks(plan, false);
      tail.push(event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Completed, Result: next.output }));
      finish(live, plan.st, plan.effects);
    }
    tail.push(event(EventType.OrchestratorCompleted, ts));
    await this.host.commit(live, { meta: next, append: newEvents.concat(plan.decisions, tail), actions: plan.actions, consumed, st: plan.st, effects: plan.effects });
  }

  /**
   * This worker may not run the instance's version. Reject (the default): leave the messages where they are and
   * try again after 2, 4, 8 ... s (at most 10 min), as the Azure Storage provider abandons a work item; a worker
   * with a newer defaultVersion (the next deployment) runs them. Fail: the instance fails without running user
   * code, with DTFx's VersionMismatch failure, which a parent sees as the sub-orchestration's error.
   */
  private async versionMismatch(live: Live, plan: Plan, batch: InboxMessage[], taken: InboxMessage[]): Promise<void> {
    const { meta } = live;
    const ts = iso(plan.now);
    const worker = `worker version '${this.o.versioning.defaultVersion}', ${this.o.versioning.match}`;
    if (this.o.versioning.failure === 'Reject') {
      live.rejections = (live.rejections ?? 0) + 1;
      const wait = Math.min(MAX_REJECT_WAIT_MS, 1000 * 2 ** live.rejections);
      live.rejectedUntil = plan.now + wait;
      this.o.log({ level: 'warning', message: `Instance '${meta.instanceId}' has version '${meta.version ?? ''}', which this worker does not run (${worker}); its messages wait, next try in ${wait / 1000} s.` });
      this.o.scheduler.at(live.rejectedUntil, () => this.host.kick(live), { background: true });
      return;
    }
    this.o.log({ level: 'warning', message: `Instance '${meta.instanceId}' has version '${meta.version ?? ''}', which this worker does not run (${worker}): failing it (versionFailureStrategy Fail).` });
    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts, status: 'Failed', output: toJsonText(`${VERSION_MISMATCH.ErrorType}: ${VERSION_MISMATCH.ErrorMessage}`), failureDetails: VERSION_MISMATCH };
    finish(live, plan.st, plan.effects);
    const append = [
      event(EventType.OrchestratorStarted, ts),
      ...taken.map((m) => m.event),
      event(EventType.ExecutionCompleted, ts, { OrchestrationStatus: OrchestrationStatusCode.Failed, Result: null, FailureDetails: VERSION_MISMATCH }),
      event(EventType.OrchestratorCompleted, ts),
    ];
    await this.host.commit(live, { meta: next, append, consumed: batch, st: plan.st, effects: plan.effects });
  }

  /** Runs the orchestrator over the history plus `newEvents`; `reported` false for a probe that is not the episode of record. */
  private runEpisode(fn: RegisteredFunction, live: Live, newEvents: HistoryEvent[], reported = true): Promise<EpisodeOutcome> {
    const report = reported ? (reason: string, invocationId: string, started: number, result: string) => this.host.report(fn.name, reason, invocationId, started, result) : () => undefined;
    return runOrchestrator(this.o.invoker, fn, live, newEvents, this.o.limits, report);
  }

  async control(live: Live, msg: InboxMessage, ts: string): Promise<void> {
    const meta = live.meta;
    const ev = msg.event;
    const next: InstanceMeta = { ...meta, lastUpdatedTime: ts };
    const st = cloneState(live.state);
    const effects: Effect[] = [];
    const append: HistoryEvent[] = [];
    if (isTerminal(meta.status)) {
      // Finished meanwhile: nothing to do.
    } else if (ev.EventType === EventType.ExecutionTerminated) {
      next.status = 'Terminated';
      next.output = toJsonText(ev.Input ?? '');
      append.push({ ...ev, Timestamp: ts });
      finish(live, st, effects);
    } else if (ev.EventType === EventType.ExecutionSuspended && meta.status !== 'Suspended') {
      next.status = 'Suspended';
      append.push({ ...ev, Timestamp: ts });
    } else if (ev.EventType === EventType.ExecutionResumed && meta.status === 'Suspended') {
      next.status = live.history.length === 0 ? 'Pending' : 'Running';
      append.push({ ...ev, Timestamp: ts });
    }
    await this.host.commit(live, { meta: next, append, consumed: [msg], st, effects });
  }
}

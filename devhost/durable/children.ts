// Sub-orchestrations: starting a child an episode scheduled (or finding it already started, after a restart), and
// telling the parent when a child ends, as SubOrchestrationInstanceCompleted / Failed.
import { messageOf } from '../errors';
import { HistoryEvent, InstanceMeta } from '../store/types';
import { event, EventType, iso } from './history';
import { isTerminal, Live } from './state';

/** What child handling needs of the engine. */
export interface ChildHost {
  readonly closed: boolean;
  now(): number;
  track<T>(work: () => Promise<T>): Promise<T>;
  getMeta(instanceId: string): Promise<InstanceMeta | undefined>;
  start(name: string, instanceId: string, inputJson: string, parent: NonNullable<InstanceMeta['parent']>, version: string): Promise<string>;
  deliverResult(instanceId: string, ev: HistoryEvent, executionId: string): Promise<void>;
}

/**
 * Starts child `id` of a live parent. After a restart the child may already exist: then a finished one is reported
 * again and a running one is left alone. A child that cannot start fails the parent's task.
 */
export function startChild(host: ChildHost, live: Live, id: number): Promise<void> {
  const c = live.state.children[id];
  if (!c) return Promise.resolve();
  const parent = { instanceId: live.meta.instanceId, executionId: live.meta.executionId, taskId: id };
  return host.track(async () => {
    if (host.closed) return; // stopping: recovery starts (or re-checks) the child after a restart
    const existing = await host.getMeta(c.instanceId);
    if (existing?.parent && existing.parent.instanceId === parent.instanceId && existing.parent.taskId === id && existing.parent.executionId === parent.executionId) {
      if (isTerminal(existing.status)) await notifyParent(host, existing); // recovery: it finished while we were down
      return;
    }
    try {
      await host.start(c.name, c.instanceId, c.input, parent, c.version ?? '');
    } catch (err) {
      const failed = event(EventType.SubOrchestrationInstanceFailed, iso(host.now()), {
        TaskScheduledId: id,
        Reason: messageOf(err),
        Details: JSON.stringify({ message: messageOf(err) }),
        FailureDetails: null,
      });
      await host.deliverResult(parent.instanceId, failed, parent.executionId);
    }
  });
}

/** Tells the parent of a finished child how it ended. */
export function notifyParent(host: ChildHost, meta: InstanceMeta): Promise<void> {
  const p = meta.parent;
  if (!p) return Promise.resolve();
  const ts = iso(host.now());
  const ev =
    meta.status === 'Completed'
      ? event(EventType.SubOrchestrationInstanceCompleted, ts, { TaskScheduledId: p.taskId, Result: meta.output ?? 'null' })
      : meta.failureDetails
        ? event(EventType.SubOrchestrationInstanceFailed, ts, { TaskScheduledId: p.taskId, Reason: null, Details: null, FailureDetails: meta.failureDetails })
        : event(EventType.SubOrchestrationInstanceFailed, ts, {
          TaskScheduledId: p.taskId,
          Reason: meta.status === 'Failed' ? String(JSON.parse(meta.output ?? '""')) : `Orchestrator function '${meta.name}' was ${meta.status.toLowerCase()}: ${meta.output ?? ''}`,
          Details: JSON.stringify({ instanceId: meta.instanceId, status: meta.status }),
          FailureDetails: null,
        });
  return host.deliverResult(p.instanceId, ev, p.executionId);
}

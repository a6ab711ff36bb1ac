// Runs activity functions for the engine: a bounded number at once (maxConcurrentActivityFunctions), each
// result or failure handed back to its instance as TaskCompleted / TaskFailed, shaped as the extension shapes them.
import { Clock } from '../clock';
import { messageOf } from '../errors';
import { Invoker } from '../invoke';
import { Registry } from '../registry';
import { HistoryEvent } from '../store/types';
import { toJsonText } from './actions';
import { event, EventType, iso } from './history';
import { ActivityState } from './state';
import { HTTP_ACTIVITY, runHttpActivity } from './http-activity';
import { faultPoint } from '../faults';

/** What the activity runner needs of the engine. */
export interface ActivityHost {
  readonly closed: boolean;
  track<T>(work: () => Promise<T>): Promise<T>;
  /** Hands a result to the instance (volatile: stored with the episode that consumes it). */
  deliverResult(instanceId: string, ev: HistoryEvent, executionId: string): Promise<void>;
  report(functionName: string, reason: string, invocationId: string, started: number, result: string): void;
}

export interface ActivityRunnerOptions {
  registry: Registry;
  invoker: Invoker;
  clock: Clock;
  maxConcurrent: number;
  /** Durable client binding JSON handed to activities that declare a durableClient input. */
  clientBinding?: () => unknown;
}

/**
 * @example
 * const activities = new ActivityRunner(engine, { registry, invoker, clock, maxConcurrent: 100 });
 * void activities.run('inst1', 'exec1', 0, { name: 'Hello', input: '"Tokyo"' });
 */
export class ActivityRunner {
  private slots: number;
  private queue: (() => void)[] = [];

  constructor(
    private readonly host: ActivityHost,
    private readonly o: ActivityRunnerOptions,
  ) {
    this.slots = o.maxConcurrent;
  }

  /** Runs activity `id` of an execution and delivers its outcome. A stopping host leaves it scheduled for the next start. */
  async run(instanceId: string, executionId: string, id: number, a: ActivityState | undefined): Promise<void> {
    if (!a) return;
    await this.host.track(async () => {
      let ev: HistoryEvent;
      const fn = this.o.registry.get(a.name, 'activity');
      if (a.skipped) {
        // Past the retry timeout DTFx stops retrying and rethrows the last failure; the JS SDK still
        // counts attempts, so the remaining ones "fail" at once with that same failure.
        ev = event(EventType.TaskFailed, iso(this.o.clock.now()), { TaskScheduledId: id, Reason: a.skipped.reason, Details: a.skipped.details, FailureDetails: null });
      } else if (!fn && a.name === HTTP_ACTIVITY) {
        // callHttp: the extension's built-in activity, in an activity slot like any other.
        const wait = this.slot();
        if (wait) await wait;
        if (this.host.closed) return this.release();
        ev = await runHttpActivity(id, a.input, () => this.o.clock.now()).finally(() => this.release());
      } else if (!fn) {
        ev = this.taskFailed(id, a.name, `The function '${a.name}' doesn't exist, is disabled, or is not an activity function.`, undefined);
      } else {
        const wait = this.slot();
        if (wait) await wait;
        if (this.host.closed) {
          // Stopping: an activity not yet started stays scheduled in the stored state and runs after a restart.
          this.release();
          return;
        }
        const started = Date.now();
        try {
          const r = await this.o.invoker.invoke(fn, JSON.parse(a.input), { triggerMetadata: { instanceId }, clientBinding: this.o.clientBinding });
          ev = event(EventType.TaskCompleted, iso(this.o.clock.now()), { TaskScheduledId: id, Result: toJsonText(r.result) });
          this.host.report(fn.name, 'ActivityTrigger', r.invocationId, started, 'Succeeded');
        } catch (err) {
          ev = this.taskFailed(id, fn.name, messageOf(err), err);
          this.host.report(fn.name, 'ActivityTrigger', '', started, `Failed: ${messageOf(err)}`);
        } finally {
          this.release();
        }
      }
      faultPoint('activity.done', a.name);
      await this.host.deliverResult(instanceId, ev, executionId);
    });
  }

  /** TaskFailed as the extension writes it; structured FailureDetails when the SDK's exception-properties provider sent them. */
  private taskFailed(id: number, name: string, message: string, err: unknown): HistoryEvent {
    let failureDetails: unknown = null;
    try {
      const p = JSON.parse(message) as { errorType?: string; errorMessage?: string; stackTrace?: string; isNonRetriable?: boolean; properties?: unknown };
      if (p && typeof p === 'object' && typeof p.errorType === 'string' && typeof p.errorMessage === 'string') {
        failureDetails = { ErrorType: p.errorType, ErrorMessage: p.errorMessage, StackTrace: p.stackTrace ?? null, IsNonRetriable: !!p.isNonRetriable, Properties: p.properties ?? null, InnerFailure: null };
      }
    } catch {
      /* a plain message */
    }
    const e = err instanceof Error ? err : undefined;
    return event(EventType.TaskFailed, iso(this.o.clock.now()), {
      TaskScheduledId: id,
      Reason: `Activity function '${name}' failed: ${message}`,
      Details: JSON.stringify({ name: e?.name ?? 'Error', message, stack: e?.stack ?? null }),
      FailureDetails: failureDetails,
    });
  }

  /** Takes a free slot at once (undefined), or a promise of the next one released. */
  private slot(): Promise<void> | undefined {
    if (this.slots > 0) {
      this.slots--;
      return undefined;
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.slots++;
  }
}

// Idle hints: each index row says until when its instance needs nothing from a host unless a message reaches it
// (`idleUntil`: its earliest timer, or only a message, as the engine reports with each commit), so recovery at
// start-up loads only the instances that need the host now and leaves the others in the store until their time
// (10,000 instances waiting on timers: no read each at start-up).
//
// The index row is a write beside the instance's own transaction, so the hint is kept on the safe side at every
// moment, crash or not: it never says "idle until T" while the stored instance needs a host before T.
//   * lowering (a message is about to be stored, or a commit gives the instance work sooner than its row says):
//     the row first, then the instance; a row that says "idle until T" with T past needs nothing, since
//     recovery loads it at once;
//   * raising (the instance went idle): only after its commit is stored, only once it stayed quiet for a while
//     (`quietMs`: a prompt answered within seconds costs no index write) and only in the version of the row this
//     host last saw (ETag), so a raise can never land after a lowering it did not see.
// Hints are raised only while the host holds the hub's lease (it then knows every row it wrote: the mirror); a store
// without the lease lowers before every message, since it cannot know what a holder wrote before.
import { IndexRow } from './index-mirror';
import { InstanceIndex, isActive } from './table-index';

export interface IdleHintsOptions {
  /** How long an instance stays quiet before its hint is raised. */
  quietMs: number;
  /** Receives the failure of a background raise (the hint then stays low: safe). */
  onError: (err: Error) => void;
  /** Throws when this host may not write (it lost the hub's lease): raises are background writes, checked each time. */
  mayWrite?: () => void;
  /** Injected for tests; default the real clock. */
  now?: () => number;
}

/**
 * Raises and lowers the idle hints of one task hub's index rows.
 * @example const hints = new IdleHints(index, { quietMs: 30_000, onError: console.warn }); await hints.lower(id); hints.idle(id, fireAt);
 */
export class IdleHints {
  /** Raises waiting for their instance to stay quiet: in the order they are due (quietMs is fixed). */
  private readonly pending = new Map<string, { until: number; due: number }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly index: InstanceIndex, private readonly o: IdleHintsOptions) {
    this.now = o.now ?? Date.now;
  }

  /**
   * The instance's commit is stored and leaves it idle until `until` (undefined: it needs a host now). Its row is
   * raised to that once the instance stayed quiet for quietMs, unless it says as much already, or the time is
   * so near that recovery may as well load it.
   */
  idle(instanceId: string, until: number | undefined): void {
    this.pending.delete(instanceId);
    const row = this.index.mirror?.get(instanceId);
    if (until === undefined || !row || !isActive(row.status) || hintOf(row) >= until) return;
    const due = this.now() + this.o.quietMs;
    if (until < due + this.o.quietMs) return;
    this.pending.set(instanceId, { until, due });
    this.arm();
  }

  /**
   * Before something is stored that gives the instance work before its row's hint (a message: `until` undefined;
   * a commit: its new hint): forgets a raise not yet sent and, when the row is known to say later (or is not known
   * and `ifUnknown`), lowers the row to `until` whatever its version. Resolves once the row is written.
   */
  async lower(instanceId: string, until: number | undefined, ifUnknown: boolean): Promise<void> {
    this.pending.delete(instanceId);
    const row = this.index.mirror?.get(instanceId);
    if (row ? hintOf(row) <= Math.max(this.now(), until ?? -Infinity) : !ifUnknown) return;
    await this.index.mergeIdle(instanceId, until, '*');
  }

  /** Forgets a raise not yet sent (the row is about to be written whole, or deleted). */
  forget(instanceId: string): void {
    this.pending.delete(instanceId);
  }

  /** Stops raising (what is pending stays low: safe). */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending.clear();
  }

  private arm(): void {
    if (this.timer || this.flushing || this.closed) return;
    const first = this.pending.values().next();
    if (first.done) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(0, first.value.due - this.now()));
    this.timer.unref();
  }

  /** Sends the raises that are due, one at a time (background work: the host's own writes come first). */
  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      for (const [id, p] of this.pending) {
        if (this.closed || p.due > this.now()) break;
        this.pending.delete(id);
        try {
          await this.raise(id, p.until);
        } catch (err) {
          this.o.onError(new Error(`the idle hint of instance '${id}' could not be raised (recovery loads it at start-up): ${err instanceof Error ? err.message : String(err)}`));
        }
      }
    } finally {
      this.flushing = false;
      this.arm();
    }
  }

  private async raise(instanceId: string, until: number): Promise<void> {
    const mirror = this.index.mirror;
    const row = mirror?.get(instanceId);
    if (!mirror || !row?.etag || !isActive(row.status) || hintOf(row) >= until) return;
    this.o.mayWrite?.();
    // From the moment it is sent the row may say `until`: a message stored meanwhile must lower it again.
    mirror.update(instanceId, { idleUntil: until });
    if (!(await this.index.mergeIdle(instanceId, until, row.etag)) && mirror.get(instanceId)?.etag === row.etag) {
      mirror.update(instanceId, { etag: undefined }); // changed by a write whose answer is lost: no raise until the next one
    }
  }
}

/** The time a row's hint says, -Infinity when it says "needs a host now". */
function hintOf(row: IndexRow): number {
  return row.idleUntil ?? -Infinity;
}

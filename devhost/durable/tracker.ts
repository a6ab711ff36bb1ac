// Counts the engine's work in flight (episodes, activities, store writes) so callers can wait for idle, and
// wakes whoever waits for the next state change of any instance.

/**
 * @example
 * const work = new WorkTracker();
 * await work.track(() => store.commit(...));
 * await work.idle();
 */
export class WorkTracker {
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private changeWaiters: (() => void)[] = [];

  /**
   * Runs `work`, counting it as in flight until it settles. Not an async function: every episode, activity and
   * delivery goes through here, and one `then` with handlers made once costs less than an async frame per call.
   */
  track<T>(work: () => Promise<T>): Promise<T> {
    this.pending++;
    let running: Promise<T>;
    try {
      running = work();
    } catch (err) {
      this.settled();
      return Promise.reject(err);
    }
    return running.then(this.onValue as (v: T) => T, this.onError);
  }

  private readonly onValue = <T>(value: T): T => {
    this.settled();
    return value;
  };

  private readonly onError = (err: unknown): never => {
    this.settled();
    throw err;
  };

  private settled(): void {
    this.pending--;
    if (this.pending === 0) this.checkIdle();
  }

  /** Resolves when no tracked work is in flight. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  /**
   * Resolves on the next state change, or after `timeoutMs` when given. A timed-out wait removes its waiter and
   * a change clears the timer, so a polling loop holds one waiter and no stray timer.
   */
  nextChange(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const onChange = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.changeWaiters.push(onChange);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const i = this.changeWaiters.indexOf(onChange);
              if (i >= 0) this.changeWaiters.splice(i, 1);
              resolve();
            }, timeoutMs);
    });
  }

  /** Wakes every nextChange() waiter. */
  changed(): void {
    const w = this.changeWaiters;
    this.changeWaiters = [];
    w.forEach((f) => f());
  }

  /** Waiters of nextChange() (tests check that polling does not pile them up). */
  get changeWaiterCount(): number {
    return this.changeWaiters.length;
  }

  private checkIdle(): void {
    if (this.pending !== 0 || this.idleWaiters.length === 0) return;
    // Let the microtasks that follow the last piece of work start new work before declaring idle.
    setImmediate(() => {
      if (this.pending !== 0) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    });
  }
}

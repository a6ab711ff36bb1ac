// Time for the devhost: a real clock or a virtual one that tests move by hand, plus the timer
// scheduler that fires due timers in order. Nothing else in the host reads Date.now().

/** Milliseconds since the epoch, as the host sees them. */
export interface Clock {
  readonly kind: 'real' | 'virtual';
  now(): number;
}

export class RealClock implements Clock {
  readonly kind = 'real' as const;
  now(): number {
    return Date.now();
  }
}

/** A clock that only moves when told to. Starts at the real time of creation. */
export class VirtualClock implements Clock {
  readonly kind = 'virtual' as const;
  private t: number;
  constructor(start = Date.now()) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  /** Move to `t` (never backwards). */
  set(t: number): void {
    if (t > this.t) this.t = t;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of a duration given as a number (ms) or a string like '250ms', '5s', '10m', '3h', '7d', '1h30m'.
 * @example parseDuration('1m30s') // 90000
 */
export function parseDuration(d: number | string): number {
  if (typeof d === 'number') {
    if (!Number.isFinite(d) || d < 0) throw new RangeError(`Invalid duration ${d}: use a non-negative number of milliseconds.`);
    return d;
  }
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(d); m; m = re.exec(d)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== d.length) {
    throw new RangeError(`Invalid duration '${d}': use a number of ms or a string like '250ms', '5s', '10m', '3h', '7d'.`);
  }
  return total;
}

interface Entry {
  at: number;
  seq: number;
  fire: () => void;
  cancelled: boolean;
  /** A background timer: it fires when time gets there, but does not draw idle time to it (see nextDue). */
  background?: boolean;
}

/** Handle to a scheduled timer. */
export interface TimerHandle {
  cancel(): void;
}

// setTimeout's delay is a signed 32-bit number of ms; longer waits are re-armed.
const MAX_SET_TIMEOUT = 2 ** 31 - 1;

/**
 * A min-heap of timers. With a real clock it arms one setTimeout for the earliest timer;
 * with a virtual clock nothing fires until `fireDue()` is called after the clock moved.
 * @example const s = new Scheduler(clock); s.at(clock.now() + 5000, () => console.log('5 s'));
 */
export class Scheduler {
  private heap: Entry[] = [];
  private seq = 0;
  /** Background timers in the heap (not yet fired or dropped). */
  private background = 0;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private closed = false;

  constructor(readonly clock: Clock) {}

  /**
   * Call `fire` once the clock reaches `at` (ms). A `background` timer (a retry of work the host itself put off)
   * fires when time passes it, but waitFor and the CLI's idle skipping do not jump the virtual clock to it: a
   * timer that re-arms itself would otherwise make virtual time run away.
   */
  at(at: number, fire: () => void, opts: { background?: boolean } = {}): TimerHandle {
    const e: Entry = { at, seq: this.seq++, fire, cancelled: false, background: opts.background };
    if (e.background) this.background++;
    this.push(e);
    this.arm();
    return {
      cancel: () => {
        e.cancelled = true;
      },
    };
  }

  /**
   * Time of the earliest pending timer, or undefined. `foreground` leaves out background timers: the time an idle
   * host may jump to.
   */
  nextDue(opts: { foreground?: boolean } = {}): number | undefined {
    this.dropCancelled();
    if (!opts.foreground || this.background === 0) return this.heap[0]?.at;
    let min: number | undefined;
    for (const e of this.heap) if (!e.cancelled && !e.background && (min === undefined || e.at < min)) min = e.at;
    return min;
  }

  /** Number of pending (not cancelled) timers. */
  get size(): number {
    return this.heap.filter((e) => !e.cancelled).length;
  }

  /** Fire every timer due at the clock's current time, earliest first. Returns how many fired. */
  fireDue(): number {
    const now = this.clock.now();
    let n = 0;
    for (;;) {
      this.dropCancelled();
      const top = this.heap[0];
      if (!top || top.at > now) break;
      this.pop();
      if (top.background) this.background--;
      n++;
      top.fire();
    }
    return n;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap = [];
    this.background = 0;
  }

  private arm(): void {
    if (this.clock.kind !== 'real' || this.closed) return;
    const next = this.nextDue();
    if (next === undefined || next >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = next;
    const delay = Math.min(Math.max(0, next - this.clock.now()), MAX_SET_TIMEOUT);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.armedFor = Infinity;
      this.fireDue();
      this.arm();
    }, delay);
    this.timer.unref?.();
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].cancelled) {
      if (this.pop()?.background) this.background--;
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Entry): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

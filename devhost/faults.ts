// Fault points for crash tests: named places in the engine, the store and the HTTP server where a test can make the
// host process die as a power cut would (SIGKILL, nothing flushed, no handler run) at a chosen pass. Inert unless
// the DEVHOST_FAULTS environment variable arms them: then a pass costs a counter, else one comparison.
import fs from 'node:fs';

/** The fault points, and what has and has not happened when the process dies at each. */
export const FAULT_POINTS = {
  /** Mid-episode: the orchestrator has answered (or a control message, entity batch or rewind is decided); nothing of it is stored. */
  'episode.commit': 'an episode has run but nothing of it is stored yet',
  /** Mid-activity: the activity function returned or threw (its side effects are done); its result has not reached the instance. */
  'activity.done': 'an activity ran but its result has not reached the instance',
  /** Mid-commit, before: the index row may already say "unfinished"; the episode's transaction has not been sent. */
  'store.commit.before': "the episode's transaction has not been sent",
  /** Mid-commit, after: the episode's transaction landed; the store's cursor, a finished instance's index row and the clean-up of old rows have not. */
  'store.commit.after': "the episode's transaction landed, its bookkeeping has not",
  /** An HTTP function answered (what it did is done); the response has not been sent, so the client sees the connection drop. */
  'http.response': 'an HTTP function answered but the response was not sent',
} as const;

/** The name of a fault point. */
export type FaultPoint = keyof typeof FAULT_POINTS;

/** One armed fault: die at the `at`-th pass of `point` whose detail equals `detail` (any detail when undefined). */
export interface Fault {
  point: FaultPoint;
  detail?: string;
  at: number;
}

const SPEC = /^([a-z.]+)(?::([^@,]+))?@([1-9]\d{0,8})$/;

/**
 * Parses a DEVHOST_FAULTS value: comma-separated `<point>[:<detail>]@<n>`, e.g.
 * `activity.done:cb_remind@2,store.commit.after@40` (die at the 2nd completed `cb_remind` activity, or at the 40th
 * landed commit, whichever comes first). The detail is the orchestrator or function name. Throws naming the bad part.
 *
 * @example
 * parseFaults('episode.commit:delay@3') // [{ point: 'episode.commit', detail: 'delay', at: 3 }]
 */
export function parseFaults(spec: string | undefined): Fault[] {
  if (spec === undefined || spec.trim() === '') return [];
  return spec.split(',').map((part) => {
    const m = SPEC.exec(part.trim());
    if (!m || !Object.hasOwn(FAULT_POINTS, m[1])) {
      throw new Error(
        `DEVHOST_FAULTS: '${part}' is not <point>[:<detail>]@<n> with n from 1 and a point among ${Object.keys(FAULT_POINTS).join(', ')} ` +
          `(e.g. "activity.done:cb_remind@2"). Unset DEVHOST_FAULTS to run without faults.`,
      );
    }
    return { point: m[1] as FaultPoint, detail: m[2], at: Number(m[3]) };
  });
}

/**
 * Counts passes of the armed faults. `pass` answers the fault that is due now, if any.
 *
 * @example
 * const faults = new FaultCounter(parseFaults('activity.done@2'));
 * faults.pass('activity.done', 'Hello'); // undefined
 * faults.pass('activity.done', 'Hello'); // { point: 'activity.done', at: 2 }
 */
export class FaultCounter {
  private readonly passes: number[];

  constructor(readonly faults: Fault[]) {
    this.passes = faults.map(() => 0);
  }

  pass(point: FaultPoint, detail: string): Fault | undefined {
    for (const [i, f] of this.faults.entries()) {
      if (f.point !== point || (f.detail !== undefined && f.detail !== detail)) continue;
      if (++this.passes[i] === f.at) return f;
    }
    return undefined;
  }
}

// Read once: a host process is armed for its whole life (a test arms a process by starting it with the variable).
const armed = parseFaults(process.env.DEVHOST_FAULTS);
const counter = armed.length > 0 ? new FaultCounter(armed) : undefined;

/**
 * A fault point: when DEVHOST_FAULTS arms it and this is the chosen pass, says so on stderr and kills this process
 * with SIGKILL at once (no handler, no flush, no lease release); otherwise does nothing. `detail` is the orchestrator
 * or function name the pass is about.
 *
 * @example
 * faultPoint('activity.done', fn.name); // inert unless DEVHOST_FAULTS="activity.done:<name>@<n>"
 */
export function faultPoint(point: FaultPoint, detail = ''): void {
  if (!counter) return;
  const due = counter.pass(point, detail);
  if (!due) return;
  // Synchronous: the line must be out before the signal; a test checks that the process died here and not elsewhere.
  fs.writeSync(2, `devhost: fault ${point}${due.detail ? `:${due.detail}` : ''}@${due.at} reached (${FAULT_POINTS[point]}): SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
}

/**
 * The faults this process is armed with (none unless DEVHOST_FAULTS is set); a malformed value has already thrown at load.
 * @example if (armedFaults().length > 0) log('fault points armed');
 */
export function armedFaults(): readonly Fault[] {
  return armed;
}

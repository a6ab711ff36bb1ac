// Progress of background work: ctx.progress(fraction, note) inside a runAsync function keeps the latest value in a row
// `g<taskId>` of the player's partition of Messages. Only the orchestrator can set a Durable custom status, and an
// event to it would cost an episode and a history entry per update; a row costs one write, at most one a second per
// task, and readers fetch a player's rows with one partition query (only when a background job is running).
import { odata } from '@azure/data-tables';
import { GameError } from './errors';
import { statusOf, storageError, table } from './tables';

/** A running background job's progress, as /api/tasks and the operator list show it. */
export interface TaskProgress {
  /** From 0 to 1. */
  fraction: number;
  /** What the job said it is doing, if anything. */
  note?: string;
  /** When it was reported. */
  updatedAt: string;
}

/** Progress with the attempt (the runAsync call's batch key) that reported it, to tell a retry from the attempt before. */
export interface StoredProgress {
  attempt: string;
  progress: TaskProgress;
}

/** The row key of a task's progress (messages are 'm…', markers 'x…', prompts 'p…', limits 'q…', keys 'k…'). */
const rowKey = (taskId: string): string => `g${taskId}`;
const FROM = 'g';
const TO = 'h';

/** Longest note, in characters (the task panel shows one line). */
export const MAX_PROGRESS_NOTE = 200;
/** Least time between two writes of one task's progress; the latest value in between is written when it is up. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Checks the arguments of ctx.progress(); throws GameError('bad_progress') naming the value and the allowed range.
 *
 * @example
 * checkProgress(0.5, 'halfway') // { fraction: 0.5, note: 'halfway' }
 */
export function checkProgress(fraction: unknown, note: unknown): { fraction: number; note?: string } {
  if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new GameError('bad_progress', `ctx.progress() takes a fraction from 0 to 1 (0.25 is a quarter done), got ${JSON.stringify(fraction) ?? String(fraction)}.`);
  }
  if (note !== undefined && typeof note !== 'string') throw new GameError('bad_progress', `ctx.progress() takes its note as a string, got ${note === null ? 'null' : typeof note}.`);
  if (note !== undefined && note.length > MAX_PROGRESS_NOTE) {
    throw new GameError('bad_progress', `A progress note of ${note.length} characters is over the ${MAX_PROGRESS_NOTE} limit; say it in caller.msg() instead.`);
  }
  return note === undefined || note === '' ? { fraction } : { fraction, note };
}

/**
 * Keeps the latest progress of `taskId` (overwrites the row).
 *
 * @example
 * await writeProgress('alice', 'alice.async.0b6f', 'alice.async.0b6f.fn', { fraction: 0.5 }, Date.now());
 */
export async function writeProgress(player: string, taskId: string, attempt: string, value: { fraction: number; note?: string }, nowMs: number): Promise<void> {
  const client = await table('Messages');
  try {
    await client.upsertEntity({ partitionKey: player, rowKey: rowKey(taskId), attempt, fraction: value.fraction, note: value.note ?? '', at: nowMs }, 'Replace');
  } catch (err) {
    throw storageError(err, `record the progress of ${taskId}`);
  }
}

interface Row {
  rowKey?: string;
  attempt?: string;
  fraction?: number;
  note?: string;
  at?: number;
}

function fromRow(row: Row): StoredProgress | undefined {
  if (typeof row.attempt !== 'string' || typeof row.fraction !== 'number' || typeof row.at !== 'number') return undefined;
  const progress: TaskProgress = { fraction: row.fraction, updatedAt: new Date(row.at).toISOString() };
  if (row.note) progress.note = row.note;
  return { attempt: row.attempt, progress };
}

/**
 * The progress rows of one player, by task id (one partition query).
 *
 * @example
 * const byTask = await readProgress('alice');
 */
export async function readProgress(player: string): Promise<Map<string, StoredProgress>> {
  const client = await table('Messages');
  const out = new Map<string, StoredProgress>();
  try {
    const rows = client.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${player} and RowKey ge ${FROM} and RowKey lt ${TO}` } });
    for await (const row of rows) {
      const stored = fromRow(row);
      if (stored && row.rowKey) out.set(row.rowKey.slice(1), stored);
    }
  } catch (err) {
    if (statusOf(err) === 404) return out;
    throw storageError(err, `read the progress of ${player}'s tasks`);
  }
  return out;
}

/**
 * Sends a runAsync function's progress at most once per PROGRESS_INTERVAL_MS: the first report at once, later ones
 * when the interval is up (only the latest is written), the last one when the function returns (flush). A write that
 * fails is logged and dropped: progress is a view, never a reason to fail the job.
 *
 * @example
 * const reporter = new ProgressReporter('alice', taskId, batch, (m) => context.log(m));
 * reporter.report(0.5, 'halfway');
 * await reporter.flush();
 */
export class ProgressReporter {
  private latest: { fraction: number; note?: string } | undefined;
  private written: { fraction: number; note?: string } | undefined;
  private lastWriteAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly player: string,
    private readonly taskId: string,
    private readonly attempt: string,
    private readonly log: (message: string) => void,
    private readonly now: () => number = () => Date.now(),
    private readonly store: typeof writeProgress = writeProgress,
  ) {}

  /** Records `fraction` (0 to 1) and an optional note; throws GameError('bad_progress') for values out of range. */
  report(fraction: unknown, note?: unknown): void {
    this.latest = checkProgress(fraction, note);
    if (this.timer) return; // the write already scheduled takes the latest value
    const wait = this.lastWriteAt + PROGRESS_INTERVAL_MS - this.now();
    if (wait <= 0) this.send();
    else this.timer = setTimeout(() => this.send(), wait);
  }

  /** Writes what is not written yet and waits for every write. */
  async flush(): Promise<void> {
    if (this.timer) this.send();
    await this.writing;
  }

  private send(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const value = this.latest;
    if (!value || (value.fraction === this.written?.fraction && value.note === this.written?.note)) return;
    this.written = value;
    this.lastWriteAt = this.now();
    const at = this.lastWriteAt;
    this.writing = this.writing.then(() =>
      this.store(this.player, this.taskId, this.attempt, value, at).catch((err: unknown) => this.log(`progress of task ${this.taskId} not recorded: ${err instanceof Error ? err.message : String(err)}`)),
    );
  }
}

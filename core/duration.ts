// Durations: a number of seconds or a string like "500ms", "10s", "5m", "2h", "7d", normalised once to milliseconds.
import { GameError } from './errors';

/** Seconds as a number, or a string with a unit: ms, s, m, h, d. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Longest duration (100 years): a durable timer must fire at a time a Date (and the Durable host) can hold. */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/**
 * Converts a Duration to milliseconds, or throws GameError('bad_duration') naming the value.
 *
 * @example
 * toMillis(5)      // 5000
 * toMillis('2m')   // 120000
 */
export function toMillis(duration: unknown, what = 'duration'): number {
  if (typeof duration === 'number' && Number.isFinite(duration) && duration >= 0 && duration * 1000 <= MAX_DURATION_MS) {
    return Math.round(duration * 1000);
  }
  if (typeof duration === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/i.exec(duration);
    const ms = m ? Math.round(Number(m[1]) * (UNITS[m[2].toLowerCase()] ?? 1000)) : NaN;
    if (ms <= MAX_DURATION_MS) return ms;
  }
  const shown = typeof duration === 'string' ? JSON.stringify(duration) : String(duration);
  throw new GameError(
    'bad_duration',
    `${what} ${shown} is not a duration: use a number of seconds >= 0 (e.g. 10) or a string like "500ms", "10s", "5m", "2h", "7d", at most 100 years`,
  );
}

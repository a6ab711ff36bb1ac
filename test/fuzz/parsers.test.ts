// Property-based tests (fast-check) of the parsers behind /api/input: the line check and split (core/router.ts) and
// durations (core/duration.ts), each against a plain statement of what it accepts, over tens of thousands of inputs:
// printable and control characters, every Unicode plane, 4 KiB boundaries, and numbers in every notation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, toMillis } from '../../core/duration';
import { isGameError } from '../../core/errors';
import { checkLine, MAX_LINE_BYTES, parseLine } from '../../core/router';

const RUNS = 10_000;
const SEED = 20261201;

/** The error code a call throws (a GameError's), or 'ok'; anything else thrown fails the property. */
function outcome(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (!isGameError(err)) throw err;
    return err.code;
  }
}

// Lines: mostly printable, some control characters (C0, DEL, C1), whitespace of every kind, lone surrogates, long runs.
const lineChar = fc.oneof(
  { arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), weight: 10 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), weight: 3 },
  { arbitrary: fc.constantFrom(' ', '\t', '\u00a0', '\u2003', '\u3000', '\ufeff', '\u2028'), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 0x9f }).filter((c) => c < 0x20 || c >= 0x7f).map((c) => String.fromCharCode(c)), weight: 1 },
  { arbitrary: fc.constantFrom('\ud800', '\udfff', '😀', 'é', 'e\u0301'), weight: 1 },
);
const line = fc.oneof(
  { arbitrary: fc.array(lineChar, { maxLength: 60 }).map((a) => a.join('')), weight: 8 },
  { arbitrary: fc.tuple(fc.constantFrom('a', 'é', '😀', ' '), fc.integer({ min: 1000, max: 4200 })).map(([c, n]) => c.repeat(n)), weight: 1 },
  { arbitrary: fc.integer({ min: MAX_LINE_BYTES - 3, max: MAX_LINE_BYTES + 3 }).map((n) => 'x'.repeat(n)), weight: 1 },
);
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

describe('the input line', () => {
  it('is accepted exactly when it is at most 4 KiB of UTF-8, has no control character but tab, and is not blank', () => {
    fc.assert(
      fc.property(line, (text) => {
        const bytes = Buffer.byteLength(text, 'utf8');
        const want = bytes > MAX_LINE_BYTES ? 'line_too_long' : CONTROL.test(text) ? 'control_character' : text.trim() === '' ? 'empty_line' : 'ok';
        expect(outcome(() => checkLine(text)), JSON.stringify(text.slice(0, 80))).toBe(want);
        if (want === 'ok') expect(checkLine(text)).toBe(text.trimEnd());
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('splits into a key without spaces and the rest, trimmed, losing nothing but the whitespace between them', () => {
    fc.assert(
      fc.property(line, (text) => {
        const { key, args } = parseLine(text);
        const trimmed = text.trim();
        expect(/\s/.test(key)).toBe(false);
        expect(key.length > 0).toBe(trimmed.length > 0);
        expect(trimmed.startsWith(key)).toBe(true);
        expect(args).toBe(trimmed.slice(key.length).trim());
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const unit = fc.constantFrom<Unit>('ms', 's', 'm', 'h', 'd');
const caseOf = (u: string, upper: boolean[]): string => [...u].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join('');

describe('durations', () => {
  it('a decimal number of a unit (ms, s, m, h, d, any case, spaces around) is that many milliseconds, rounded, up to 100 years', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^\d{1,12}$/),
        fc.option(fc.stringMatching(/^\d{1,6}$/), { nil: undefined }),
        unit,
        fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
        fc.constantFrom('', ' ', '  ', '\t'),
        (whole, frac, u, upper, pad) => {
          const number = frac === undefined ? whole : `${whole}.${frac}`;
          const text = `${pad}${number}${pad}${caseOf(u, upper)}${pad}`;
          const ms = Math.round(Number(number) * UNIT_MS[u]);
          expect(outcome(() => toMillis(text)), text).toBe(ms <= MAX_DURATION_MS ? 'ok' : 'bad_duration');
          if (ms <= MAX_DURATION_MS) expect(toMillis(text)).toBe(ms);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('a number is seconds when finite, not negative and at most 100 years', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -0, 1e-9, MAX_DURATION_MS / 1000, MAX_DURATION_MS / 1000 + 0.001, Number.MAX_VALUE, -Number.MIN_VALUE)), (n) => {
        const ok = Number.isFinite(n) && n >= 0 && n * 1000 <= MAX_DURATION_MS;
        expect(outcome(() => toMillis(n)), String(n)).toBe(ok ? 'ok' : 'bad_duration');
        if (ok) expect(toMillis(n)).toBe(Math.round(n * 1000));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('anything else is bad_duration: other notations (hex, exponent, sign, comma, other digits), no unit, other units, other types', () => {
    const notDecimal = fc.oneof(
      fc.tuple(fc.constantFrom('0x10', '0X1A', '0b1', '0o7', '1e3', '1E-2', '+5', '-5', '-0', '.5', '5.', '1,5', '1_000', '١٢', '１２', 'Infinity', 'NaN', '', ' '), unit).map(([n, u]) => `${n}${u}`),
      fc.tuple(fc.stringMatching(/^\d{1,6}$/), fc.constantFrom('', 'sec', 'mins', 'w', 'y', 'us', 'µs', 'ss', 's s', 'm1')).map(([n, u]) => `${n}${u}`),
      fc.string({ maxLength: 30 }).filter((s) => !/^\s*\d+(\.\d+)?\s*(ms|s|m|h|d)\s*$/i.test(s)),
      fc.constantFrom(null, undefined, true, {}, [], [5], () => 5, 5n, Symbol('5'), new Date(0)),
    );
    fc.assert(
      fc.property(notDecimal, (d) => {
        expect(outcome(() => toMillis(d)), String(typeof d === 'symbol' ? 'symbol' : d)).toBe('bad_duration');
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

// The .NET TryParse calls ASP.NET Core's route constraints make (invariant culture), ported to check route
// values the way the Functions host does: int/long (NumberStyles.Integer), decimal (Number), double/float
// (Float | AllowThousands), bool, Guid (N/D/B/P/X) and DateTime (the common forms; see isDotnetDateTime).

/** .NET's white space for number styles: U+0009-U+000D and U+0020 (TryParse also ignores trailing NULs). */
const WS = '[\\t\\n\\v\\f\\r ]*';
const TRAILING = '[\\t\\n\\v\\f\\r \\0]*';
const INT_RE = new RegExp(`^${WS}([+-]?)(\\d+)${TRAILING}$`);
// Group separators may follow any digit of the integer part; a decimal point needs a digit on one side.
const NUMBER_BODY = '(?:\\d[\\d,]*(?:\\.\\d*)?|\\.\\d+)';
const DECIMAL_RE = new RegExp(`^${WS}([+-]?)(${NUMBER_BODY})([+-]?)${TRAILING}$`);
const FLOAT_RE = new RegExp(`^${WS}[+-]?${NUMBER_BODY}(?:[eE][+-]?\\d+)?${TRAILING}$`);
const FLOAT_SYMBOL_RE = new RegExp(`^${WS}[+-]?(?:infinity|nan)${TRAILING}$`, 'i');

const INT32: readonly [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
const INT64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const DECIMAL_MAX = 79228162514264337593543950335n;

/**
 * `long.TryParse(value, NumberStyles.Integer, InvariantCulture)` as a bigint, or undefined.
 * @example parseDotnetInteger(' -42 ') // -42n
 */
export function parseDotnetInteger(value: string, bits: 32 | 64 = 64): bigint | undefined {
  const m = INT_RE.exec(value);
  if (!m) return undefined;
  const n = BigInt(m[1] + m[2]);
  const [min, max] = bits === 32 ? INT32 : INT64;
  return n >= min && n <= max ? n : undefined;
}

/**
 * `decimal.TryParse(value, NumberStyles.Number, InvariantCulture)`: signs before or after, thousands, a point.
 * @example isDotnetDecimal('1,000.50') // true
 */
export function isDotnetDecimal(value: string): boolean {
  const m = DECIMAL_RE.exec(value);
  if (!m || (m[1] && m[3])) return false;
  const whole = m[2].split('.')[0].replace(/,/g, '').replace(/^0+/, '') || '0';
  return BigInt(whole) <= DECIMAL_MAX;
}

/**
 * `double.TryParse` / `float.TryParse(value, NumberStyles.Float | NumberStyles.AllowThousands, InvariantCulture)`.
 * Since .NET Core 3.0 a value too large becomes infinity instead of failing, so only the form is checked.
 * @example isDotnetFloat('1.5e3') // true
 */
export function isDotnetFloat(value: string): boolean {
  return FLOAT_RE.test(value) || FLOAT_SYMBOL_RE.test(value);
}

/**
 * `bool.TryParse`: "true" or "false" in any case, white space and NULs around them ignored.
 * @example isDotnetBool('True') // true
 */
export function isDotnetBool(value: string): boolean {
  return /^[\s\0]*(true|false)[\s\0]*$/i.test(value);
}

const H = '[0-9a-fA-F]';
const GUID_D = `${H}{8}-${H}{4}-${H}{4}-${H}{4}-${H}{12}`;
const GUID_RE = new RegExp(`^(?:${H}{32}|${GUID_D}|\\{${GUID_D}\\}|\\(${GUID_D}\\))$`);
const HEX = (n: number) => `0[xX]${H}{1,${n}}`;
const GUID_X_RE = new RegExp(`^\\{${HEX(8)},${HEX(4)},${HEX(4)},\\{${HEX(2)}(?:,${HEX(2)}){7}\\}\\}$`);

/**
 * `Guid.TryParse`: the N, D, B, P and X formats, with white space around (and, in X, inside) ignored.
 * @example isDotnetGuid('{6f9619ff-8b86-d011-b42d-00cf4fc964ff}') // true
 */
export function isDotnetGuid(value: string): boolean {
  const v = value.trim();
  return GUID_RE.test(v) || GUID_X_RE.test(v.replace(/\s+/g, ''));
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = `(${MONTHS.join('|')})[a-z]*\\.?`;
const DAY_NAME = '(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\\.?,?\\s+)?';
const TIME = '(\\d{1,2}):(\\d{2})(?::(\\d{2})(?:\\.\\d{1,7})?)?(?:\\s*([ap])\\.?m\\.?)?';
const ZONE = '(?:\\s*(?:z|gmt|utc|[+-]\\d{2}(?::?\\d{2})?))?';
const WITH_TIME = `(?:(?:t|\\s+)${TIME}${ZONE})?`;
const DATE_FORMS: ReadonlyArray<{ re: RegExp; ymd: (m: RegExpExecArray) => [string, string, string] }> = [
  // 2024-01-15, 2024/1/5, with a time (T or space) and a zone: ISO 8601 and the invariant sortable forms.
  { re: new RegExp(`^(\\d{4})[-/.](\\d{1,2})[-/.](\\d{1,2})${WITH_TIME}$`, 'i'), ymd: (m) => [m[1], m[2], m[3]] },
  // 1/15/2024 and 1-15-24: the invariant culture reads numbers as month, day, year.
  { re: new RegExp(`^(\\d{1,2})[-/](\\d{1,2})[-/](\\d{4}|\\d{2})${WITH_TIME.replace('t|', '')}$`, 'i'), ymd: (m) => [m[3], m[1], m[2]] },
  // 15 January 2024, Mon, 15 Jan 2024 10:00:00 GMT (RFC 1123).
  { re: new RegExp(`^${DAY_NAME}(\\d{1,2})[\\s-]+${MONTH}[\\s-]+(\\d{4})${WITH_TIME.replace('t|', '')}$`, 'i'), ymd: (m) => [m[3], monthNumber(m[2]), m[1]] },
  // January 15, 2024 and Jan 15 2024.
  { re: new RegExp(`^${DAY_NAME}${MONTH}\\s+(\\d{1,2}),?\\s+(\\d{4})${WITH_TIME.replace('t|', '')}$`, 'i'), ymd: (m) => [m[3], monthNumber(m[1]), m[2]] },
];
const TIME_ONLY_RE = new RegExp(`^${TIME}${ZONE}$`, 'i');

/**
 * `DateTime.TryParse(value, InvariantCulture, DateTimeStyles.None)` for the forms people put in URLs: ISO 8601
 * dates and date-times (with zone), M/d/yyyy, "15 Jan 2024", "January 15, 2024", RFC 1123, and a time alone.
 * Calendar dates and clock times are checked (no 2024-02-30, no 25:00). .NET accepts some rarer forms too;
 * devhost refuses those (the README says so).
 * @example isDotnetDateTime('2024-02-29T10:30:00Z') // true
 */
export function isDotnetDateTime(value: string): boolean {
  const v = value.trim();
  const timeOnly = TIME_ONLY_RE.exec(v);
  if (timeOnly) return validTime(timeOnly[1], timeOnly[2], timeOnly[3], timeOnly[4]);
  for (const form of DATE_FORMS) {
    const m = form.re.exec(v);
    if (!m) continue;
    const [y, mo, d] = form.ymd(m).map(Number);
    const year = y < 100 ? 2000 + y - (2000 + y > 2049 ? 100 : 0) : y; // two-digit years: .NET's 2049 cutoff
    // The time groups are the four after the date's three.
    const t = m.slice(4, 8);
    return validDate(year, mo, d) && (t[0] === undefined || validTime(t[0], t[1], t[2], t[3]));
  }
  return false;
}

function monthNumber(name: string): string {
  return String(MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1);
}

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= days[m - 1];
}

function validTime(h: string, min: string, s: string | undefined, ampm: string | undefined): boolean {
  const hour = Number(h);
  if (ampm !== undefined ? hour < 1 || hour > 12 : hour > 23) return false;
  return Number(min) <= 59 && (s === undefined || Number(s) <= 59);
}

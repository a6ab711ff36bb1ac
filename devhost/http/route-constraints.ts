// The inline route constraints of ASP.NET Core's DefaultInlineConstraintResolver (RouteOptions' default map,
// names case-insensitive), built from their text the way ParameterPolicyActivator builds them: `key(args)`,
// arguments split at ',' and trimmed (regex takes the whole text), checked as the constructors check them.
import { isDotnetBool, isDotnetDateTime, isDotnetDecimal, isDotnetFloat, isDotnetGuid, parseDotnetInteger } from './dotnet-parse';
import { dotnetRegex, DotnetRegexError } from './dotnet-regex';

/**
 * Whether a route value passes a constraint: the decoded path segment, the default, or undefined when the
 * request gave none (a catch-all with nothing left). Optional parameters skip their checks when absent.
 */
export type ConstraintCheck = (value: string | undefined) => boolean;

/** A constraint ASP.NET Core would refuse to build, or one devhost cannot honour. */
export class RouteConstraintError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RouteConstraintError';
  }
}

type Factory = (args: string[]) => ConstraintCheck;

/** Every ASP.NET Core constraint but one fails on a missing value. */
const present =
  (test: (v: string) => boolean): ConstraintCheck =>
  (v) =>
    v !== undefined && test(v);

/** Constraints without arguments. */
const PLAIN: Record<string, ConstraintCheck> = {
  int: present((v) => parseDotnetInteger(v, 32) !== undefined),
  long: present((v) => parseDotnetInteger(v, 64) !== undefined),
  bool: present(isDotnetBool),
  datetime: present(isDotnetDateTime),
  decimal: present(isDotnetDecimal),
  double: present(isDotnetFloat),
  float: present(isDotnetFloat),
  guid: present(isDotnetGuid),
  // AlphaRouteConstraint's ^[A-Za-z]*$ (its $ also matches before a final newline, as every .NET $ does).
  alpha: present((v) => /^[A-Za-z]*\n?$/.test(v)),
  // "In routing the empty string is equivalent to null" (RequiredRouteConstraint.cs).
  required: present((v) => v.length > 0),
  file: present(isFileName),
  // NonFileNameRouteConstraint lets a missing value through: it exists to keep file names out ({*path:nonfile}).
  nonfile: (v) => v === undefined || !isFileName(v),
};

/** Constraints with arguments, by the argument counts their constructors take. */
const WITH_ARGS: Record<string, Partial<Record<number, Factory>>> = {
  minlength: { 1: ([n]) => lengthIn(count(n, 'minLength'), Infinity) },
  maxlength: { 1: ([n]) => lengthIn(0, count(n, 'maxLength')) },
  length: {
    1: ([n]) => {
      const len = count(n, 'length');
      return lengthIn(len, len);
    },
    2: ([a, b]) => lengthIn(...ordered(count(a, 'minLength'), count(b, 'maxLength'), 'minLength', 'maxLength')),
  },
  min: { 1: ([n]) => inRange(int64(n), undefined) },
  max: { 1: ([n]) => inRange(undefined, int64(n)) },
  range: { 2: ([a, b]) => inRange(...ordered(int64(a), int64(b), 'min', 'max')) },
};

/**
 * Build the check for one inline constraint, e.g. `int`, `min(1)`, `length(2,5)`, `regex(^(a|b)$)`.
 * Throws RouteConstraintError saying why (unknown name, wrong arguments, a regex devhost cannot translate).
 * @example compileConstraint('range(1,10)')('7') // true
 */
export function compileConstraint(text: string): ConstraintCheck {
  const open = text.indexOf('(');
  const hasArgs = open >= 0 && text.endsWith(')');
  const key = (hasArgs ? text.slice(0, open) : text).toLowerCase();
  const argText = hasArgs ? text.slice(open + 1, -1) : undefined;
  if (key === 'regex') {
    // RegexInlineRouteConstraint has one constructor with one parameter: the whole text, commas included.
    if (argText === undefined) throw new RouteConstraintError("'regex' needs a pattern: regex(^[a-z]+$)");
    try {
      const re = dotnetRegex(argText);
      return present((v) => re.test(v));
    } catch (err) {
      if (err instanceof DotnetRegexError) throw new RouteConstraintError(`the pattern '${argText}' cannot be used: ${err.reason}`);
      throw err;
    }
  }
  const args = argText === undefined ? [] : argText.split(',').map((a) => a.trim());
  const plain = PLAIN[key];
  if (plain) {
    if (args.length > 0) throw new RouteConstraintError(`'${key}' takes no arguments, got ${args.length} ('${argText}')`);
    return plain;
  }
  const factories = WITH_ARGS[key];
  if (!factories) {
    throw new RouteConstraintError(`'${text}' is not a constraint the Functions host knows (ASP.NET Core's DefaultInlineConstraintResolver could not resolve it); use one of ${[...Object.keys(PLAIN), ...Object.keys(WITH_ARGS), 'regex'].join(', ')}`);
  }
  const make = factories[args.length];
  if (!make) {
    const counts = Object.keys(factories).join(' or ');
    throw new RouteConstraintError(`'${key}' takes ${counts} argument${counts === '1' ? '' : 's'}, got ${args.length}${argText === undefined ? '' : ` ('${argText}')`}`);
  }
  return make(args);
}

function lengthIn(min: number, max: number): ConstraintCheck {
  return present((v) => v.length >= min && v.length <= max);
}

function inRange(min: bigint | undefined, max: bigint | undefined): ConstraintCheck {
  return present((v) => {
    const n = parseDotnetInteger(v, 64);
    return n !== undefined && (min === undefined || n >= min) && (max === undefined || n <= max);
  });
}

/** An Int32 argument that must not be negative (the length constraints' constructors). */
function count(arg: string, what: string): number {
  const n = parseDotnetInteger(arg, 32);
  if (n === undefined) throw new RouteConstraintError(`the argument '${arg}' is not a 32-bit integer`);
  if (n < 0n) throw new RouteConstraintError(`${what} must be greater than or equal to 0, got ${arg}`);
  return Number(n);
}

function int64(arg: string): bigint {
  const n = parseDotnetInteger(arg, 64);
  if (n === undefined) throw new RouteConstraintError(`the argument '${arg}' is not a 64-bit integer`);
  return n;
}

function ordered<T extends number | bigint>(min: T, max: T, minName: string, maxName: string): [T, T] {
  if (min > max) throw new RouteConstraintError(`${minName} (${min}) must be less than or equal to ${maxName} (${max})`);
  return [min, max];
}

/** FileNameRouteConstraint.IsFileName: the last '/'-segment holds a '.' followed by a character other than '.'. */
function isFileName(value: string): boolean {
  const last = value.slice(value.lastIndexOf('/') + 1);
  const dot = last.indexOf('.');
  return dot >= 0 && /[^.]/.test(last.slice(dot + 1));
}

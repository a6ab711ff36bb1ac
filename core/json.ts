// Plain-JSON checks for values that must survive a Durable boundary (callback arguments, kwargs, results):
// we refuse at the call site what Evennia silently drops when it cannot pickle it.
import { GameError } from './errors';

/** A value that survives JSON.stringify/JSON.parse unchanged. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function${value.name ? ` (${value.name})` : ''}`;
  if (typeof value === 'symbol') return `a symbol (${String(value)})`;
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `an instance of ${ctor}` : 'an object with a custom prototype';
  }
  return typeof value;
}

/**
 * Returns why `value` is not plain JSON (with the path to the offending part), or undefined when it is.
 *
 * @example
 * whyNotJson({ at: new Date() }, 'args') // "args.at is an instance of Date"
 */
export function whyNotJson(value: unknown, path = 'value', seen: Set<object> = new Set()): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${describeValue(value)}`;
    case 'object': {
      if (value === null) return undefined;
      if (seen.has(value)) return `${path} is a circular reference`;
      seen.add(value);
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) {
            if (!(i in value)) return `${path}[${i}] is a hole in a sparse array`;
            const why = whyNotJson(value[i], `${path}[${i}]`, seen);
            if (why) return why;
          }
          return undefined;
        }
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return `${path} is ${describeValue(value)}`;
        for (const [key, item] of Object.entries(value)) {
          const why = whyNotJson(item, `${path}.${key}`, seen);
          if (why) return why;
        }
        if (Object.getOwnPropertySymbols(value).length > 0) return `${path} has symbol keys`;
        return undefined;
      } finally {
        seen.delete(value);
      }
    }
    default:
      return `${path} is ${describeValue(value)}`;
  }
}

/**
 * Throws GameError('not_plain_json') naming the offending part unless `value` is plain JSON.
 *
 * @example
 * assertJson([caller.player, 3], 'delay() args', 'testdelay'); // ok
 * assertJson([() => 1], 'delay() args');                         // throws: "delay() args[0] is a function ..."
 */
export function assertJson(value: unknown, what: string, where?: string): asserts value is Json {
  const why = whyNotJson(value, what);
  if (why) {
    throw new GameError(
      'not_plain_json',
      `${why}${where ? ` (in ${where})` : ''}: only plain JSON (null, booleans, finite numbers, strings, arrays, plain objects) ` +
        `can be stored with a durable task. Pass ids or plain data instead, e.g. the player's name rather than an object.`,
    );
  }
}

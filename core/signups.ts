// The sign-up limit per client address: creating an account costs a password hash, so each address may create at
// most GAME_SIGNUPS_PER_HOUR accounts an hour (a token bucket of that size, refilled evenly), counted in the Players
// table (partition `@signups`, which no player id can be) before any hashing.
import { isIP } from 'node:net';
import { remember } from './bounded';
import { GameError } from './errors';
import { serially } from './serial';
import { settings } from './settings';
import { statusOf, storageError, table } from './tables';

const PARTITION = '@signups';
const HOUR_MS = 3_600_000;

/**
 * Buckets seen empty, with when their next sign-up is due: a shortcut that refuses a burst without reading the table
 * each time. Exact, not a guess: a bucket only refills with time, and other instances can only take from it.
 */
const emptyUntil = new Map<string, number>();
const EMPTY_MAX = 10_000;

interface BucketRow {
  tokens: number;
  updatedAt: number;
}

/**
 * The key a client address is limited by, from the first hop of X-Forwarded-For (on Azure the platform's front end
 * puts the client there; devhost puts the socket's address there): an IPv4 address, or the /64 of an IPv6 address
 * (one subscriber usually holds a whole /64). A port (`1.2.3.4:5678`, `[2001:db8::1]:5678`) is dropped; a missing
 * or malformed value is `unknown`, one bucket shared by all such requests.
 *
 * @example
 * addressKey('203.0.113.7:51234, 10.0.0.1') // "v4:203.0.113.7"
 * addressKey('2001:db8:1:2:3:4:5:6')        // "v6:2001:db8:1:2"
 */
export function addressKey(forwardedFor: string | null | undefined): string {
  let hop = (forwardedFor ?? '').split(',')[0].trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) hop = bracketed[1];
  else if (/^[\d.]+:\d+$/.test(hop)) hop = hop.slice(0, hop.lastIndexOf(':'));
  hop = hop.replace(/%.*$/, ''); // an IPv6 zone id
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(hop);
  if (mapped) hop = mapped[1];
  const kind = isIP(hop);
  if (kind === 4) return `v4:${hop}`;
  if (kind === 6) return `v6:${expandV6(hop).slice(0, 4).join(':')}`;
  return 'unknown';
}

/** The eight hextets of an IPv6 address, without leading zeros. */
function expandV6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((h) => parseInt(h || '0', 16).toString(16));
}

/**
 * Takes one sign-up from the address's bucket, or throws GameError('too_many_signups') with the seconds until the
 * next one is free. Call it before hashing the new account's password.
 *
 * @example
 * await takeSignup(addressKey(req.headers.get('x-forwarded-for')));
 */
export async function takeSignup(address: string, nowMs = Date.now()): Promise<void> {
  const perHour = settings.signupsPerHour();
  const key = `${settings.storageConnection()}\u0000${settings.tablePrefix()}\u0000${perHour}\u0000${address}`;
  const refuseIfEmpty = (): void => {
    const until = emptyUntil.get(key);
    if (until !== undefined && nowMs < until) throw refusal(perHour, (until - nowMs) / 1000);
  };
  refuseIfEmpty();
  await serially(`signup:${key}`, () => {
    refuseIfEmpty(); // a burst queued behind the request that found the bucket empty
    return take(key, address, perHour, nowMs);
  });
}

function refusal(perHour: number, waitSeconds: number): GameError {
  const seconds = Math.max(1, Math.ceil(waitSeconds - 1e-6)); // (no 1201 s from rounding)
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} min` : `${seconds} s`;
  return new GameError('too_many_signups', `Too many new accounts from your address: at most ${perHour} an hour. Try again in ${wait}, or sign in to an account you already have.`, {
    retryAfterSeconds: seconds,
  });
}

async function take(key: string, address: string, perHour: number, nowMs: number): Promise<void> {
  const perMs = perHour / HOUR_MS;
  const client = await table('Players');
  for (;;) {
    let row: (BucketRow & { etag: string }) | undefined;
    try {
      row = await client.getEntity<BucketRow>(PARTITION, address);
    } catch (err) {
      if (statusOf(err) !== 404) throw storageError(err, `read the sign-up count of ${address}`);
    }
    const tokens = row ? Math.min(perHour, row.tokens + Math.max(0, nowMs - row.updatedAt) * perMs) : perHour;
    if (tokens < 1) {
      const waitMs = (1 - tokens) / perMs;
      remember(emptyUntil, key, nowMs + waitMs, EMPTY_MAX);
      throw refusal(perHour, waitMs / 1000);
    }
    const next = { partitionKey: PARTITION, rowKey: address, tokens: tokens - 1, updatedAt: nowMs };
    try {
      if (row) await client.updateEntity(next, 'Replace', { etag: row.etag });
      else await client.createEntity(next);
      return;
    } catch (err) {
      const status = statusOf(err);
      if (status !== 412 && status !== 409) throw storageError(err, `count a sign-up from ${address}`);
      // another instance counted one first: read again
    }
  }
}

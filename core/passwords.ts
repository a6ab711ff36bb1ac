// Password hashing: salted scrypt at N=2^GAME_PASSWORD_COST (17 by default, OWASP's minimum), r=8, p=1, stored as
// `scrypt$N$r$p$salt$hash` so older hashes are recognised and upgraded at the next successful sign-in. Each hash takes
// 128 MiB at N=2^17, so a process runs at most MAX_CONCURRENT_HASHES at once and refuses beyond a bounded queue.
import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { remember } from './bounded';
import { GameError } from './errors';
import { settings } from './settings';

const R = 8;
const P = 1;
const KEYLEN = 32;
/** Stored parameters beyond these are not ours (a corrupt row): refused rather than letting one row take gigabytes. */
const MAX_STORED_N = 2 ** 20;
const MAX_STORED_R = 32;
const MAX_STORED_P = 16;

/** Hashes running at once in this process: 2 × 128 MiB at the default cost, whatever the number of sign-ins. */
export const MAX_CONCURRENT_HASHES = 2;
/** Hashes waiting for a slot; one more is refused (server_busy, 503 with Retry-After) instead of piling up. */
export const MAX_QUEUED_HASHES = 64;

let running = 0;
const queue: (() => void)[] = [];

/** Runs `work` when one of the MAX_CONCURRENT_HASHES slots is free. */
async function withHashSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT_HASHES) {
    if (queue.length >= MAX_QUEUED_HASHES) {
      throw new GameError('server_busy', `The server is checking ${running + queue.length} passwords already; try again in a moment.`, { retryAfterSeconds: 1 });
    }
    await new Promise<void>((resolve) => queue.push(resolve));
  } else {
    running++;
  }
  try {
    return await work();
  } finally {
    const next = queue.shift();
    if (next) next(); // hand the slot over
    else running--;
  }
}

/** How long a password that just matched is recognised without scrypt, for a burst of parallel sign-ins. */
export const RECENT_MATCH_MS = 60_000;
const RECENT_MAX = 10_000;
/** A key of this process only: what the map holds is useless without it, and it never leaves memory. */
const recentKey = randomBytes(32);
const recent = new Map<string, number>();

function recentTag(account: string, stored: string, password: string): string {
  return createHmac('sha256', recentKey).update(`${account}\u0000${stored}\u0000${password}`).digest('base64url');
}

/**
 * Remembers, for RECENT_MATCH_MS, that `password` matched `stored` (as a keyed hash in this process's memory), so the
 * same sign-in sent again in parallel (several tabs, a client retrying) is recognised without another scrypt.
 *
 * @example
 * if (await verifyPassword(password, row.passwordHash)) rememberMatch(player, row.passwordHash, password, Date.now());
 */
export function rememberMatch(account: string, stored: string, password: string, nowMs: number): void {
  remember(recent, recentTag(account, stored, password), nowMs + RECENT_MATCH_MS, RECENT_MAX);
}

/**
 * True when rememberMatch saw this password match this stored hash less than RECENT_MATCH_MS ago, in this process.
 *
 * @example
 * const ok = recentMatch(player, row.passwordHash, password, Date.now()) || (await verifyPassword(password, row.passwordHash));
 */
export function recentMatch(account: string, stored: string, password: string, nowMs: number): boolean {
  const tag = recentTag(account, stored, password);
  const until = recent.get(tag);
  if (until === undefined) return false;
  if (until > nowMs) return true;
  recent.delete(tag);
  return false;
}

function scrypt(password: string, salt: Buffer, opts: ScryptOptions & { N: number; r: number }): Promise<Buffer> {
  // Node refuses more than 32 MiB by default; scrypt needs 128 * N * r bytes.
  const maxmem = 2 * 128 * opts.N * opts.r;
  return withHashSlot(
    () =>
      new Promise((resolve, reject) => {
        scryptCb(password, salt, KEYLEN, { ...opts, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

interface Params {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parse(stored: string): Params | undefined {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  const params = { n: Number(n), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !salt || !hash || rest.length > 0) return undefined;
  if (!Number.isInteger(params.n) || params.n < 2 || params.n > MAX_STORED_N || (params.n & (params.n - 1)) !== 0) return undefined;
  if (!Number.isInteger(params.r) || params.r < 1 || params.r > MAX_STORED_R || !Number.isInteger(params.p) || params.p < 1 || params.p > MAX_STORED_P) return undefined;
  return { ...params, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

/**
 * Hashes a password with a fresh random salt at N = 2^cost (default GAME_PASSWORD_COST, 17).
 *
 * @example
 * const stored = await hashPassword('hunter2'); // "scrypt$131072$8$1$..."
 */
export async function hashPassword(password: string, cost = settings.passwordCost()): Promise<string> {
  const salt = randomBytes(16);
  const N = 2 ** cost;
  const key = await scrypt(password, salt, { N, r: R, p: P });
  return ['scrypt', N, R, P, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/**
 * True when `password` matches a hash made by hashPassword, at whatever cost it was made (constant-time compare).
 *
 * @example
 * if (!(await verifyPassword(given, row.passwordHash))) throw ...
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const params = parse(stored);
  if (!params) return false;
  const key = await scrypt(password, params.salt, { N: params.n, r: params.r, p: params.p });
  return key.length === params.hash.length && timingSafeEqual(key, params.hash);
}

/**
 * True when a stored hash was made with weaker parameters than hashPassword uses now (an account from before the
 * cost was raised): sign-in then stores a new hash of the password it just checked.
 *
 * @example
 * if (needsRehash(row.passwordHash)) await save(await hashPassword(password));
 */
export function needsRehash(stored: string, cost = settings.passwordCost()): boolean {
  const params = parse(stored);
  return !params || params.n < 2 ** cost || params.r < R;
}

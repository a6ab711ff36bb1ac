// Player accounts on Table Storage (table Players, partition = player id): created on first sign-in (within the
// sign-up limit of the client's address), salted scrypt hash, and the wrong-password lockout.
import { GameError } from './errors';
import { playerId } from './names';
import { hashPassword, needsRehash, recentMatch, rememberMatch, verifyPassword } from './passwords';
import { serially } from './serial';
import { takeSignup } from './signups';
import { statusOf, storageError, table } from './tables';

interface AccountRow {
  name: string;
  passwordHash: string;
  createdAt: number;
  /** Wrong passwords since the last success (less one per QUIET_MS without an attempt or a lock). */
  failures?: number;
  /** Attempts counted whose password is still being checked. */
  pending?: number;
  /** When the newest pending attempt was counted: after PENDING_STALE_MS its checks are taken as dead (a crash). */
  pendingSince?: number;
  /** While later than now, sign-in answers too_many_attempts without checking the password. */
  lockedUntil?: number;
  /** When the last attempt was counted. */
  lastAttemptAt?: number;
}

type Stored = AccountRow & { etag: string };

/** Wrong passwords allowed in a row; the one that reaches this number locks sign-in for FIRST_LOCK_MS. */
export const FREE_ATTEMPTS = 5;
/** The first wait; each further wrong password doubles it, up to MAX_LOCK_MS. */
export const FIRST_LOCK_MS = 30_000;
export const MAX_LOCK_MS = 15 * 60_000;
/**
 * Each full QUIET_MS without an attempt, counted from the later of the last attempt and the end of the lock, forgets
 * one wrong password: an old run of typos fades, but waiting out a lock never resets the count (so an attacker
 * gets no more guesses than the longest wait allows, about 4 an hour).
 */
export const QUIET_MS = 15 * 60_000;
/** A pending check older than this is taken as dead (its process crashed): it no longer holds a place. */
export const PENDING_STALE_MS = 60_000;
/** How long an attempt waits for the attempts already being checked before answering too_many_attempts. */
export const PENDING_WAIT_MS = 60_000;
/** How often a waiting attempt re-reads the account for attempts settled by other instances. */
const PENDING_POLL_MS = 250;

/** The account's counters as they stand at `now`: decay and dead pending checks applied. */
function effective(row: AccountRow, now: number): { failures: number; pending: number; lockedUntil: number } {
  const lockedUntil = row.lockedUntil ?? 0;
  const quietFor = now - Math.max(row.lastAttemptAt ?? 0, lockedUntil);
  const failures = Math.max(0, (row.failures ?? 0) - Math.max(0, Math.floor(quietFor / QUIET_MS)));
  const pending = now - (row.pendingSince ?? 0) < PENDING_STALE_MS ? Math.max(0, row.pending ?? 0) : 0;
  return { failures, pending, lockedUntil };
}

/** How many attempts may be checked at once: the free ones left, then one after each lock. */
function allowed(failures: number): number {
  return failures < FREE_ATTEMPTS ? FREE_ATTEMPTS - failures : 1;
}

/** The lock a wrong password sets when it makes `failures` in a row. */
function lockFor(failures: number, now: number): number {
  return failures >= FREE_ATTEMPTS ? now + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_ATTEMPTS)) : 0;
}

/** Wakes attempts of this process waiting for a player's pending checks to settle. */
const waiters = new Map<string, Set<() => void>>();

function waitForSettle(player: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const set = waiters.get(player) ?? new Set<() => void>();
    waiters.set(player, set);
    const done = (): void => {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0 && waiters.get(player) === set) waiters.delete(player);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}

function wake(player: string): void {
  for (const done of [...(waiters.get(player) ?? [])]) done();
}

/** Options of signIn. */
export interface SignInOptions {
  /** The clock (ms); tests pin it. Default Date.now. */
  nowMs?: number;
  /** The client's address key (signups.addressKey), for the sign-up limit. Default 'unknown'. */
  address?: string;
}

/**
 * Creates the account on first use (one sign-up from the client's address, see takeSignup) or checks the password
 * of an existing one. Returns the player id and whether the account was just created; throws
 * GameError('wrong_password'), or GameError('too_many_attempts') while the account is locked.
 *
 * The lockout: the FREE_ATTEMPTS-th wrong password in a row locks sign-in for 30 s, each further one for twice as
 * long, up to 15 min; a success clears the count; one wrong password is forgotten per 15 quiet minutes after the
 * lock ends. Each attempt is counted (an ETag-conditioned write) before its password is checked, and no more
 * attempts are checked at once than could still be wrong without a lock, so parallel guesses get no extra tries and
 * a locked account costs no hashing. Attempts beyond that wait for the ones being checked: after a success they go
 * on (the owner's parallel sign-ins all succeed; a password that matched on this instance within the last minute is
 * recognised without hashing, see rememberMatch), after the lock they are refused.
 *
 * @example
 * const { player, created } = await signIn('Alice', 'correct horse', { address: 'v4:203.0.113.7' });
 */
export async function signIn(name: string, password: string, opts: SignInOptions = {}): Promise<{ player: string; created: boolean }> {
  const player = playerId(name);
  const now = (): number => opts.nowMs ?? Date.now();
  const client = await table('Players');
  const read = async (): Promise<Stored | undefined> => {
    try {
      return await client.getEntity<AccountRow>(player, 'account');
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw storageError(err, `read account ${player}`);
    }
  };

  const existing = await read();
  if (!existing) {
    await takeSignup(opts.address ?? 'unknown', now());
    const row: AccountRow = { name, passwordHash: await hashPassword(password), createdAt: now() };
    try {
      await client.createEntity({ partitionKey: player, rowKey: 'account', ...row });
      return { player, created: true };
    } catch (err) {
      if (statusOf(err) !== 409) throw storageError(err, `create account ${player}`);
      // created concurrently: sign in to it
    }
  }

  // 1. Count the attempt, once there is room for one more check. Attempts of this process queue for the account
  // (serially), so only the first of them waits for a check to settle and reads the row; the rest wait without I/O.
  const deadline = Date.now() + PENDING_WAIT_MS;
  const row = await serially(`account:${player}`, async (): Promise<Stored | 'recent match'> => {
    for (;;) {
      const current = await read();
      if (!current) throw storageError(new Error('the account disappeared'), `read account ${player}`);
      const at = now();
      const eff = effective(current, at);
      if (eff.lockedUntil > at) {
        const seconds = Math.ceil((eff.lockedUntil - at) / 1000);
        throw new GameError('too_many_attempts', `Too many wrong passwords for player ${JSON.stringify(name)}: wait ${seconds} s before signing in again.`, { retryAfterSeconds: seconds });
      }
      // The password that matched here within the last minute (the owner's parallel sign-ins): no guess, no hash.
      if (recentMatch(player, current.passwordHash, password, at)) return 'recent match';
      if (eff.pending >= allowed(eff.failures)) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new GameError('too_many_attempts', `Many sign-ins for player ${JSON.stringify(name)} at once; try again in a moment.`, { retryAfterSeconds: 1 });
        }
        await waitForSettle(player, Math.min(PENDING_POLL_MS, left)); // woken by a settle here, or polls for other instances'
        continue;
      }
      try {
        await client.updateEntity({ partitionKey: player, rowKey: 'account', failures: eff.failures, pending: eff.pending + 1, pendingSince: at, lastAttemptAt: at }, 'Merge', { etag: current.etag });
        return current;
      } catch (err) {
        if (statusOf(err) !== 412) throw storageError(err, `count a sign-in of ${player}`);
        // another instance (or a settle) wrote first: read again
      }
    }
  });
  if (row === 'recent match') return { player, created: false };

  // 2. Check the password, then settle the attempt: a success clears the count, a wrong password adds to it.
  let ok: boolean;
  try {
    ok = await verifyPassword(password, row.passwordHash);
  } catch (err) {
    await settle(false, true).catch(() => undefined);
    throw err;
  }
  await settle(ok).catch((err: unknown) => {
    if (!ok) throw err; // an uncounted wrong password must not pass silently; a success stands anyway
  });
  if (!ok) throw new GameError('wrong_password', `Wrong password for player ${JSON.stringify(name)}.`);
  rememberMatch(player, row.passwordHash, password, now());
  if (needsRehash(row.passwordHash)) {
    // An account hashed at an older cost: store the password just checked at today's (best effort, next time again).
    const passwordHash = await hashPassword(password).catch(() => undefined);
    if (passwordHash) await client.updateEntity({ partitionKey: player, rowKey: 'account', passwordHash }, 'Merge').catch(() => undefined);
  }
  return { player, created: false };

  async function settle(success: boolean, uncounted = false): Promise<void> {
    // Not queued behind the waiting attempts (they wait for this very write); conflicts are settled by the ETag.
    try {
      for (;;) {
        const current = await read();
        if (!current) return;
        const at = now();
        const eff = effective(current, at);
        const pending = Math.max(0, eff.pending - 1);
        const failures = success ? 0 : uncounted ? eff.failures : eff.failures + 1;
        const lockedUntil = success ? 0 : uncounted ? eff.lockedUntil : Math.max(eff.lockedUntil, lockFor(failures, at));
        try {
          await client.updateEntity({ partitionKey: player, rowKey: 'account', failures, pending, lockedUntil, lastAttemptAt: at }, 'Merge', { etag: current.etag });
          return;
        } catch (err) {
          if (statusOf(err) !== 412) throw storageError(err, `count a sign-in of ${player}`);
        }
      }
    } finally {
      wake(player);
    }
  }
}

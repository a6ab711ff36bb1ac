// Player accounts on Table Storage (table Players, partition = player id): create on first sign-in, salted scrypt hash.
import { GameError } from './errors';
import { playerId } from './names';
import { hashPassword, verifyPassword } from './passwords';
import { statusOf, storageError, table } from './tables';

interface AccountRow {
  name: string;
  passwordHash: string;
  createdAt: number;
  /** Sign-in attempts since the last success (counted before the password is checked). */
  failures?: number;
  /** While later than now, sign-in answers too_many_attempts without checking the password. */
  lockedUntil?: number;
  /** When the last attempt was counted: after QUIET_MS without one, counting starts again from zero. */
  lastAttemptAt?: number;
}

/** Attempts allowed in a row without a success before sign-in to that account has to wait. */
export const FREE_ATTEMPTS = 5;
/** The first wait; each further failed attempt doubles it, up to MAX_LOCK_MS. */
export const FIRST_LOCK_MS = 30_000;
export const MAX_LOCK_MS = 15 * 60_000;
/** Attempts further apart than this do not add up (an old run of typos never locks the owner out later). */
export const QUIET_MS = 15 * 60_000;

/**
 * Creates the account on first use or checks the password of an existing one.
 * Returns the player id and whether the account was just created; throws GameError('wrong_password'), or
 * GameError('too_many_attempts') after FREE_ATTEMPTS wrong passwords in a row (waits of 30 s, doubling to 15
 * min). Each attempt is counted (an ETag-conditioned write) before its password is checked, so parallel guesses
 * are counted too and a locked account costs no password hashing.
 *
 * @example
 * const { player, created } = await signIn('Alice', 'correct horse');
 */
export async function signIn(name: string, password: string, nowMs = Date.now()): Promise<{ player: string; created: boolean }> {
  const player = playerId(name);
  const client = await table('Players');
  const read = async (): Promise<(AccountRow & { etag: string }) | undefined> => {
    try {
      return await client.getEntity<AccountRow>(player, 'account');
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw storageError(err, `read account ${player}`);
    }
  };
  const check = async (known?: AccountRow & { etag: string }): Promise<{ player: string; created: boolean }> => {
    for (let conflicts = 0; ; conflicts++) {
      const row = conflicts === 0 && known ? known : await read();
      if (!row) throw storageError(new Error('the account disappeared'), `read account ${player}`);
      const waitMs = (row.lockedUntil ?? 0) - nowMs;
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        throw new GameError('too_many_attempts', `Too many wrong passwords for player ${JSON.stringify(name)}: wait ${seconds} s before signing in again.`, { retryAfterSeconds: seconds });
      }
      const quiet = nowMs - (row.lastAttemptAt ?? 0) > QUIET_MS;
      const failures = (quiet ? 0 : (row.failures ?? 0)) + 1;
      const lockedUntil = failures >= FREE_ATTEMPTS ? nowMs + Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_ATTEMPTS)) : 0;
      try {
        await client.updateEntity({ partitionKey: player, rowKey: 'account', failures, lockedUntil, lastAttemptAt: nowMs }, 'Merge', { etag: row.etag });
      } catch (err) {
        if (statusOf(err) !== 412) throw storageError(err, `count a sign-in of ${player}`);
        if (conflicts >= 10) {
          throw new GameError('too_many_attempts', `Many sign-ins for player ${JSON.stringify(name)} at once; try again.`, { retryAfterSeconds: 1 });
        }
        continue; // another attempt counted first: read again
      }
      if (!(await verifyPassword(password, row.passwordHash))) {
        throw new GameError('wrong_password', `Wrong password for player ${JSON.stringify(name)}.`);
      }
      // A success clears the count (best effort: a failed reset only counts this success as an attempt).
      await client.updateEntity({ partitionKey: player, rowKey: 'account', failures: 0, lockedUntil: 0 }, 'Merge').catch(() => undefined);
      return { player, created: false };
    }
  };
  const existing = await read();
  if (existing) return check(existing);
  const row: AccountRow = { name, passwordHash: await hashPassword(password), createdAt: nowMs };
  try {
    await client.createEntity({ partitionKey: player, rowKey: 'account', ...row });
    return { player, created: true };
  } catch (err) {
    if (statusOf(err) === 409) return check(); // created concurrently: treat as a sign-in
    throw storageError(err, `create account ${player}`);
  }
}

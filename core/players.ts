// Player accounts on Table Storage (table Players, partition = player id): create on first sign-in, salted scrypt hash.
import { GameError } from './errors';
import { playerId } from './names';
import { hashPassword, verifyPassword } from './passwords';
import { statusOf, storageError, table } from './tables';

interface AccountRow {
  name: string;
  passwordHash: string;
  createdAt: number;
}

/**
 * Creates the account on first use or checks the password of an existing one.
 * Returns the player id and whether the account was just created; throws GameError('wrong_password').
 *
 * @example
 * const { player, created } = await signIn('Alice', 'correct horse');
 */
export async function signIn(name: string, password: string, nowMs = Date.now()): Promise<{ player: string; created: boolean }> {
  const player = playerId(name);
  const client = await table('Players');
  const read = async (): Promise<AccountRow | undefined> => {
    try {
      return await client.getEntity<AccountRow>(player, 'account');
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw storageError(err, `read account ${player}`);
    }
  };
  const check = async (existing: AccountRow): Promise<{ player: string; created: boolean }> => {
    if (!(await verifyPassword(password, existing.passwordHash))) {
      throw new GameError('wrong_password', `Wrong password for player ${JSON.stringify(name)}.`);
    }
    return { player, created: false };
  };
  const existing = await read();
  if (existing) return check(existing);
  const row: AccountRow = { name, passwordHash: await hashPassword(password), createdAt: nowMs };
  try {
    await client.createEntity({ partitionKey: player, rowKey: 'account', ...row });
    return { player, created: true };
  } catch (err) {
    const raced = statusOf(err) === 409 ? await read() : undefined;
    if (raced) return check(raced); // created concurrently: treat as a sign-in
    throw storageError(err, `create account ${player}`);
  }
}

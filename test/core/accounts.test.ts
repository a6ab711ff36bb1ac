// Accounts on Azurite: the wrong-password lockout (escalation, its boundaries, fading, parallel attempts), scrypt's
// cost and the rehash at sign-in, the bound on concurrent hashes, and the sign-up limit per client address.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, MAX_CONCURRENT_HASHES, MAX_QUEUED_HASHES, verifyPassword } from '../../core/passwords';
import { MAX_LOCK_MS, signIn } from '../../core/players';
import { settings } from '../../core/settings';
import { addressKey, takeSignup } from '../../core/signups';
import { table } from '../../core/tables';

beforeAll(() => {
  if (!process.env.AzureWebJobsStorage) throw new Error('AzureWebJobsStorage is not set: run through vitest (its global setup starts Azurite).');
  process.env.GAME_TABLE_PREFIX = `u${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  process.env.GAME_PASSWORD_COST = '10';
  process.env.GAME_SIGNUPS_PER_HOUR = '1000';
});
const saved = { ...process.env };
afterEach(() => {
  for (const key of ['GAME_PASSWORD_COST', 'GAME_SIGNUPS_PER_HOUR', 'WEBSITE_INSTANCE_ID']) {
    if (key in saved) process.env[key] = saved[key];
    else if (key === 'WEBSITE_INSTANCE_ID') delete process.env[key];
  }
  process.env.GAME_PASSWORD_COST = '10';
  process.env.GAME_SIGNUPS_PER_HOUR = '1000';
});

const MIN = 60_000;
const fresh = () => `u${randomUUID().slice(0, 8)}`;
const code = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'signed in',
    (err: { code?: string; retryAfterSeconds?: number }) => `${err.code ?? String(err)}${err.code === 'too_many_attempts' ? ` ${err.retryAfterSeconds}` : ''}`,
  );
const storedHash = async (player: string): Promise<string> => (await (await table('Players')).getEntity<{ passwordHash: string }>(player, 'account')).passwordHash;

describe('lockout', () => {
  it('after 5 wrong passwords in a row sign-in waits 30 s, then twice as long per further miss; a success clears the count', async () => {
    const name = fresh();
    const t = Date.now();
    expect(await signIn(name, 'right', { nowMs: t })).toEqual({ player: name, created: true });
    for (let i = 0; i < 4; i++) await expect(signIn(name, 'wrong', { nowMs: t })).rejects.toMatchObject({ code: 'wrong_password' });
    expect(await signIn(name, 'right', { nowMs: t })).toEqual({ player: name, created: false }); // the 5th attempt succeeds: count cleared
    for (let i = 0; i < 5; i++) await expect(signIn(name, 'wrong', { nowMs: t })).rejects.toMatchObject({ code: 'wrong_password' });
    await expect(signIn(name, 'right', { nowMs: t + 1000 })).rejects.toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 29 });
    await expect(signIn(name, 'wrong', { nowMs: t + 30_000 })).rejects.toMatchObject({ code: 'wrong_password' }); // 6th miss: 60 s
    await expect(signIn(name, 'right', { nowMs: t + 60_000 })).rejects.toMatchObject({ code: 'too_many_attempts', retryAfterSeconds: 30 });
    expect(await signIn(name, 'right', { nowMs: t + 90_000 })).toEqual({ player: name, created: false });
    await expect(signIn(name, 'wrong', { nowMs: t + 90_001 })).rejects.toMatchObject({ code: 'wrong_password' }); // counting from 0 again
  });

  it('waiting out the longest lock never resets the count: a guess at its end, or 1 ms after, locks for 15 min again', async () => {
    const name = fresh();
    let t = Date.now();
    await signIn(name, 'right', { nowMs: t });
    for (let i = 0; i < 5; i++) expect(await code(signIn(name, 'wrong', { nowMs: t }))).toBe('wrong_password');
    // Each further miss right when the lock ends: 60 s, 120 s, 240 s, 480 s, then 15 min (capped).
    for (const lockMs of [30_000, 60_000, 120_000, 240_000, 480_000]) {
      t += lockMs;
      expect(await code(signIn(name, 'wrong', { nowMs: t }))).toBe('wrong_password');
    }
    expect(await code(signIn(name, 'right', { nowMs: t + 1 }))).toBe(`too_many_attempts ${MAX_LOCK_MS / 1000}`);
    t += MAX_LOCK_MS; // the boundary: exactly when the 15-minute lock ends (as long as the quiet window)
    expect(await code(signIn(name, 'wrong', { nowMs: t }))).toBe('wrong_password');
    expect(await code(signIn(name, 'right', { nowMs: t + 1 }))).toBe(`too_many_attempts ${MAX_LOCK_MS / 1000}`);
    t += MAX_LOCK_MS + 1; // and 1 ms after it
    expect(await code(signIn(name, 'wrong', { nowMs: t }))).toBe('wrong_password');
    expect(await code(signIn(name, 'right', { nowMs: t + 1 }))).toBe(`too_many_attempts ${MAX_LOCK_MS / 1000}`);
  });

  it('an attacker guessing whenever allowed gets 4 guesses an hour once the lock is at its longest, not a fresh run of 10', async () => {
    const name = fresh();
    const start = Date.now();
    await signIn(name, 'right', { nowMs: start });
    let t = start;
    const checkedAt: number[] = [];
    // Guess, and after a lock guess again 1 ms after it ends, for 3 hours.
    while (t < start + 3 * 60 * MIN) {
      const outcome = await code(signIn(name, 'wrong', { nowMs: t }));
      if (outcome === 'wrong_password') checkedAt.push(t);
      const m = /^too_many_attempts (\d+)$/.exec(outcome);
      t += m ? Number(m[1]) * 1000 + 1 : 1;
    }
    // 5 free guesses and 5 after growing locks, then never two within 15 minutes.
    expect(checkedAt.length).toBeGreaterThan(10);
    for (let i = 10; i < checkedAt.length; i++) expect(checkedAt[i] - checkedAt[i - 1]).toBeGreaterThanOrEqual(MAX_LOCK_MS);
    expect(checkedAt.filter((at) => at >= start + 2 * 60 * MIN).length).toBeLessThanOrEqual(4);
  });

  it('one wrong password fades per 15 quiet minutes: not a minute sooner, and an old run of typos is gone after an hour', async () => {
    const name = fresh();
    const t = Date.now();
    await signIn(name, 'right', { nowMs: t });
    for (let i = 0; i < 4; i++) await signIn(name, 'wrong', { nowMs: t }).catch(() => undefined);
    // 15 minutes later one of the four is forgotten: two more misses to reach the lock, not one.
    expect(await code(signIn(name, 'wrong', { nowMs: t + 15 * MIN }))).toBe('wrong_password');
    expect(await code(signIn(name, 'wrong', { nowMs: t + 15 * MIN }))).toBe('wrong_password');
    expect(await code(signIn(name, 'right', { nowMs: t + 15 * MIN }))).toBe('too_many_attempts 30');

    const other = fresh();
    await signIn(other, 'right', { nowMs: t });
    for (let i = 0; i < 4; i++) await signIn(other, 'wrong', { nowMs: t }).catch(() => undefined);
    expect(await code(signIn(other, 'wrong', { nowMs: t + 15 * MIN - 1 }))).toBe('wrong_password'); // 14:59.999 later: still 4, so this 5th locks
    expect(await code(signIn(other, 'right', { nowMs: t + 15 * MIN }))).toBe('too_many_attempts 30');

    const typos = fresh();
    await signIn(typos, 'right', { nowMs: t });
    for (let i = 0; i < 4; i++) await signIn(typos, 'wrong', { nowMs: t }).catch(() => undefined);
    for (let i = 0; i < 4; i++) expect(await code(signIn(typos, 'wrong', { nowMs: t + 60 * MIN }))).toBe('wrong_password');
    expect(await code(signIn(typos, 'right', { nowMs: t + 60 * MIN }))).toBe('signed in');
  });

  it('counts parallel guesses too: of 20 at once, exactly 5 get their password checked', async () => {
    const name = fresh();
    const t = Date.now();
    await signIn(name, 'right', { nowMs: t });
    const codes = await Promise.all(Array.from({ length: 20 }, () => code(signIn(name, 'wrong', { nowMs: t }))));
    expect(codes.filter((c) => c === 'wrong_password')).toHaveLength(5);
    expect(codes.filter((c) => c.startsWith('too_many_attempts'))).toHaveLength(15);
  });

  it("the owner's right password sent 50 times in parallel is never locked out", async () => {
    const name = fresh();
    await signIn(name, 'right');
    const codes = await Promise.all(Array.from({ length: 50 }, () => code(signIn(name, 'right'))));
    expect(codes.filter((c) => c !== 'signed in')).toEqual([]);
    expect(await code(signIn(name, 'wrong'))).toBe('wrong_password'); // nothing was counted against the owner
  });
});

describe('recent match', () => {
  it('a password that matched within the minute signs in without waiting for the checks in flight, but never through a lock', async () => {
    const name = fresh();
    const t = Date.now();
    await signIn(name, 'right', { nowMs: t });
    expect(await signIn(name, 'right', { nowMs: t })).toEqual({ player: name, created: false });
    // Five checks in flight (parallel attempts of another instance): a new attempt would have to wait for them.
    await (await table('Players')).updateEntity({ partitionKey: name, rowKey: 'account', pending: 5, pendingSince: t }, 'Merge');
    expect(await signIn(name, 'right', { nowMs: t + 1000 })).toEqual({ player: name, created: false });
    await (await table('Players')).updateEntity({ partitionKey: name, rowKey: 'account', pending: 0 }, 'Merge');
    for (let i = 0; i < 5; i++) await signIn(name, 'wrong', { nowMs: t + 2000 }).catch(() => undefined);
    expect(await code(signIn(name, 'right', { nowMs: t + 3000 }))).toBe('too_many_attempts 29');
  }, 10_000);
});

describe('passwords', () => {
  it('hash with scrypt at N=2^17, r=8, p=1 unless GAME_PASSWORD_COST says otherwise', async () => {
    delete process.env.GAME_PASSWORD_COST;
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsf', stored)).toBe(false);
  });

  it('an account hashed at an older cost gets a new hash at its next successful sign-in, not at a failed one', async () => {
    const name = fresh();
    process.env.GAME_PASSWORD_COST = '10';
    await signIn(name, 'right');
    expect(await storedHash(name)).toMatch(/^scrypt\$1024\$8\$1\$/);
    process.env.GAME_PASSWORD_COST = '11';
    await expect(signIn(name, 'wrong')).rejects.toMatchObject({ code: 'wrong_password' });
    expect(await storedHash(name)).toMatch(/^scrypt\$1024\$/);
    expect(await signIn(name, 'right')).toEqual({ player: name, created: false });
    const upgraded = await storedHash(name);
    expect(upgraded).toMatch(/^scrypt\$2048\$8\$1\$/);
    expect(await signIn(name, 'right')).toEqual({ player: name, created: false }); // the new hash checks the same password
    expect(await storedHash(name)).toBe(upgraded); // and is not made again
  });

  it(`at most ${MAX_CONCURRENT_HASHES} hashes run at once and ${MAX_QUEUED_HASHES} wait; one more is refused as server_busy`, async () => {
    const many = MAX_CONCURRENT_HASHES + MAX_QUEUED_HASHES;
    const outcomes = await Promise.allSettled(Array.from({ length: many + 3 }, (_, i) => hashPassword(`pw${i}`)));
    expect(outcomes.slice(0, many).every((o) => o.status === 'fulfilled')).toBe(true);
    for (const o of outcomes.slice(many)) expect(o).toMatchObject({ status: 'rejected', reason: { code: 'server_busy' } });
    expect(await hashPassword('after the burst')).toMatch(/^scrypt\$/); // slots were all given back
  });

  it('on Azure a cost below 17 is refused, naming the setting', () => {
    process.env.WEBSITE_INSTANCE_ID = 'instance-1';
    process.env.GAME_PASSWORD_COST = '16';
    expect(() => settings.passwordCost()).toThrow(/GAME_PASSWORD_COST=16 is below 17/);
    process.env.GAME_PASSWORD_COST = '17';
    expect(settings.passwordCost()).toBe(17);
  });
});

describe('sign-up limit', () => {
  it.each([
    ['203.0.113.7', 'v4:203.0.113.7'],
    ['203.0.113.7:51234', 'v4:203.0.113.7'],
    ['203.0.113.7, 10.0.0.1', 'v4:203.0.113.7'],
    ['::ffff:127.0.0.1', 'v4:127.0.0.1'],
    ['2001:db8:1:2:3:4:5:6', 'v6:2001:db8:1:2'],
    ['[2001:db8:1:2::9]:443', 'v6:2001:db8:1:2'],
    ['2001:DB8:1:2:ffff::1', 'v6:2001:db8:1:2'],
    ['::1', 'v6:0:0:0:0'],
    ['', 'unknown'],
    [null, 'unknown'],
    ['not an address', 'unknown'],
    ['999.1.1.1', 'unknown'],
  ])('the address of X-Forwarded-For %j is %s', (header, key) => {
    expect(addressKey(header)).toBe(key);
  });

  it('each address may create GAME_SIGNUPS_PER_HOUR accounts an hour, then waits for the next one to refill', async () => {
    process.env.GAME_SIGNUPS_PER_HOUR = '3';
    const address = `v4:198.51.100.${Math.floor(Math.random() * 250)}`;
    const t = Date.now();
    for (let i = 0; i < 3; i++) await takeSignup(address, t);
    await expect(takeSignup(address, t)).rejects.toMatchObject({ code: 'too_many_signups', retryAfterSeconds: 1200, message: expect.stringMatching(/at most 3 an hour\. Try again in 20 min/) });
    await takeSignup('v6:2001:db8:aa:1', t); // another address is not affected
    await expect(takeSignup(address, t + 20 * MIN - 1000)).rejects.toMatchObject({ code: 'too_many_signups', retryAfterSeconds: 1 });
    await takeSignup(address, t + 20 * MIN);
  });

  it('a refused sign-up hashes nothing and creates no account; signing in to an existing account is not limited', async () => {
    process.env.GAME_SIGNUPS_PER_HOUR = '1';
    const name = fresh();
    await signIn(name, 'right', { address: 'v4:192.0.2.1' });
    const newcomer = fresh();
    await expect(signIn(newcomer, 'pw', { address: 'v4:192.0.2.1' })).rejects.toMatchObject({ code: 'too_many_signups' });
    await expect((await table('Players')).getEntity(newcomer, 'account')).rejects.toMatchObject({ statusCode: 404 });
    expect(await signIn(name, 'right', { address: 'v4:192.0.2.1' })).toEqual({ player: name, created: false });
  });
});

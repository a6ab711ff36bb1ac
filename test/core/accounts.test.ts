// Accounts: scrypt's cost and the bound on concurrent hashes.
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword, MAX_CONCURRENT_HASHES, MAX_QUEUED_HASHES, verifyPassword } from '../../core/passwords';
import { settings } from '../../core/settings';

const saved = { ...process.env };
afterEach(() => {
  if (saved.WEBSITE_INSTANCE_ID === undefined) delete process.env.WEBSITE_INSTANCE_ID;
  process.env.GAME_PASSWORD_COST = '10';
});

describe('passwords', () => {
  it('hash with scrypt at N=2^17, r=8, p=1 unless GAME_PASSWORD_COST says otherwise', async () => {
    delete process.env.GAME_PASSWORD_COST;
    const stored = await hashPassword('correct horse');
    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsf', stored)).toBe(false);
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

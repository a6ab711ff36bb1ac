// Accounts over HTTP: tokens carry only claims this app signs (a player sign-up accepts, a bounded lifetime), even
// when their signature matches; sign-up is limited per client address (devhost passes the socket's, whatever the
// client claims); the owner's parallel sign-ins all succeed; a test-only password cost cannot start on Azure.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, SECRET, call, startGame } from './harness';

let host: TestHost;

beforeAll(async () => {
  host = await startGame({ GAME_TOKEN_TTL_SECONDS: '3600' });
  await Player.join(host, 'Alice');
});
afterAll(async () => host?.dispose());

/** A token with any payload, signed with the game's secret: what someone holding the secret could mint. */
function forge(payload: Record<string, unknown>, secret = SECRET): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${createHmac('sha256', secret).update(`v1.${body}`).digest('base64url')}`;
}

describe('tokens', () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ['an empty player', { sub: '' }],
    ['a path', { sub: '../x' }],
    ['a name sign-up refuses', { sub: 'bad name!' }],
    ['an upper-case name (ids are lower case)', { sub: 'Alice' }],
    ['a one-letter name', { sub: 'a' }],
    ['an expiry of 1e300', { exp: 1e300 }],
    ['an expiry past the configured lifetime', { exp: now() + 3600 + 120 }],
    ['a lifetime longer than configured', { iat: now() - 100, exp: now() + 3550 }],
    ['an issue time in the future', { iat: now() + 600, exp: now() + 700 }],
    ['no issue time', { iat: undefined }],
    ['a fractional expiry', { exp: now() + 100.5 }],
  ])('a signed token with %s is refused (401 invalid_token)', async (_name, claims) => {
    // The same token with the claims sign-in makes is accepted: only the claim under test differs.
    expect((await call(host, 'GET', '/api/messages', undefined, forge({ sub: 'alice', iat: now(), exp: now() + 3600 }))).status).toBe(200);
    const token = forge({ sub: 'alice', iat: now(), exp: now() + 3600, ...claims });
    for (const [method, path, body] of [['GET', '/api/messages'], ['GET', '/api/tasks'], ['POST', '/api/input', { text: 'look' }]] as const) {
      const r = await call(host, method, path, body, token);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(401);
      expect(r.body).toMatchObject({ error: { code: 'invalid_token' } });
      expect((r.body.error as { message: string }).message).toMatch(/sign in again with POST \/api\/sessions/i);
    }
  });
});

describe('sign-in and sign-up', () => {
  it("the owner's right password sent 50 times in parallel: all 200, none locked out", async () => {
    const owner = await Player.join(host, 'owner');
    const replies = await Promise.all(Array.from({ length: 50 }, () => call(host, 'POST', '/api/sessions', { name: 'owner', password: owner.password })));
    expect(replies.map((r) => r.status)).toEqual(Array(50).fill(200));
  });

  it('sign-up is limited per client address: 429 too_many_signups with Retry-After and what to do; X-Forwarded-For from the client changes nothing', async () => {
    const limited = await startGame({ GAME_SIGNUPS_PER_HOUR: '3' });
    try {
      for (const name of ['first', 'second', 'third']) expect((await call(limited, 'POST', '/api/sessions', { name, password: 'pw' })).status).toBe(201);
      const res = await limited.fetch('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'fourth', password: 'pw' }) });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(1100);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error).toMatchObject({ code: 'too_many_signups', message: expect.stringMatching(/at most 3 an hour\. Try again in \d+ min, or sign in to an account you already have\./) });
      const spoofed = await call(limited, 'POST', '/api/sessions', { name: 'fifth', password: 'pw' }, undefined, { 'x-forwarded-for': '203.0.113.77' });
      expect(spoofed).toMatchObject({ status: 429, body: { error: { code: 'too_many_signups' } } });
      expect((await call(limited, 'POST', '/api/sessions', { name: 'first', password: 'pw' })).status).toBe(200); // signing in is not a sign-up
    } finally {
      await limited.dispose();
    }
  });

  it('on Azure the app refuses to start with a password cost below 17', async () => {
    const saved = process.env.WEBSITE_INSTANCE_ID;
    try {
      await expect(startGame({ WEBSITE_INSTANCE_ID: 'instance-1', GAME_PASSWORD_COST: '12' })).rejects.toThrow(/GAME_PASSWORD_COST=12 is below 17/);
    } finally {
      if (saved === undefined) delete process.env.WEBSITE_INSTANCE_ID;
      else process.env.WEBSITE_INSTANCE_ID = saved;
    }
  });
});

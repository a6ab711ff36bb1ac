// Accounts over HTTP: tokens carry only claims this app signs (a player sign-up accepts, a bounded lifetime), even
// when their signature matches.
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

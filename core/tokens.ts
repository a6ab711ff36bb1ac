// Player tokens: `v1.<payload>.<signature>`, an HMAC-SHA256 over the base64url JSON payload {sub, iat, exp}.
// Identity for every player route comes only from here, never from the URL or the body.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { remember } from './bounded';
import { GameError } from './errors';

interface Payload {
  sub: string;
  iat: number;
  exp: number;
}

/** Tokens already verified (a player sends theirs with every request): skips the HMAC and the JSON parse. */
const verified = new Map<string, { secret: string; sub: string; exp: number }>();
const VERIFIED_MAX = 10_000;

function sign(secret: string, body: string): string {
  return createHmac('sha256', secret).update(`v1.${body}`).digest('base64url');
}

/**
 * Signs a token for `player`, valid `ttlSeconds` from `nowMs`.
 *
 * @example
 * const token = signToken('alice', { secret, ttlSeconds: 3600, nowMs: Date.now() });
 */
export function signToken(player: string, opts: { secret: string; ttlSeconds: number; nowMs: number }): string {
  const iat = Math.floor(opts.nowMs / 1000);
  const payload: Payload = { sub: player, iat, exp: iat + opts.ttlSeconds };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${sign(opts.secret, body)}`;
}

/**
 * Returns the player a token was signed for, or throws GameError 'invalid_token' / 'expired_token'.
 *
 * @example
 * const player = verifyToken(token, { secret, nowMs: Date.now() }); // "alice"
 */
export function verifyToken(token: string, opts: { secret: string; nowMs: number }): string {
  const known = verified.get(token);
  if (known && known.secret === opts.secret) {
    if (known.exp * 1000 > opts.nowMs) return known.sub;
    verified.delete(token);
  }
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1' || !/^[A-Za-z0-9_-]+$/.test(parts[1]) || !/^[A-Za-z0-9_-]+$/.test(parts[2])) {
    throw new GameError('invalid_token', 'The bearer token is not a game token (expected v1.<payload>.<signature>); sign in again with POST /api/sessions.');
  }
  const expected = Buffer.from(sign(opts.secret, parts[1]));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new GameError('invalid_token', 'The bearer token signature does not match (tampered, or signed with another secret); sign in again with POST /api/sessions.');
  }
  let payload: Partial<Payload>;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Partial<Payload>;
  } catch {
    throw new GameError('invalid_token', 'The bearer token payload is not JSON; sign in again with POST /api/sessions.');
  }
  if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
    throw new GameError('invalid_token', 'The bearer token payload lacks a player or an expiry; sign in again with POST /api/sessions.');
  }
  if (payload.exp * 1000 <= opts.nowMs) {
    throw new GameError('expired_token', `The bearer token expired at ${new Date(payload.exp * 1000).toISOString()}; sign in again with POST /api/sessions.`);
  }
  remember(verified, token, { secret: opts.secret, sub: payload.sub, exp: payload.exp }, VERIFIED_MAX);
  return payload.sub;
}

// Player tokens: `v1.<payload>.<signature>`, an HMAC-SHA256 over the base64url JSON payload {sub, iat, exp}.
// Identity for every player route comes only from here, never from the URL or the body.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { remember } from './bounded';
import { GameError } from './errors';
import { isPlayerId } from './names';
import { settings } from './settings';

interface Payload {
  sub: string;
  iat: number;
  exp: number;
}

/**
 * How far apart the clocks of two instances may be: a token signed by one instance a little ahead of another is
 * still accepted by it, and one "issued" further in the future than this is refused.
 */
export const CLOCK_SKEW_SECONDS = 60;

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
  if (!isPlayerId(player)) throw new GameError('invalid_name', `Cannot sign a token for ${JSON.stringify(String(player).slice(0, 40))}: not a player id.`);
  const iat = Math.floor(opts.nowMs / 1000);
  const payload: Payload = { sub: player, iat, exp: iat + opts.ttlSeconds };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `v1.${body}.${sign(opts.secret, body)}`;
}

/**
 * Returns the player a token was signed for, or throws GameError 'invalid_token' / 'expired_token'. Besides the
 * signature, the claims must be ones this app signs: `sub` a player id sign-up accepts, `iat` not in the future and
 * `exp` no further from `iat` (and from now) than the token lifetime, `maxTtlSeconds` (default
 * GAME_TOKEN_TTL_SECONDS), allows; so a signing bug or a leaked secret cannot mint players that do not exist or
 * tokens that never expire.
 *
 * @example
 * const player = verifyToken(token, { secret, nowMs: Date.now() }); // "alice"
 */
export function verifyToken(token: string, opts: { secret: string; nowMs: number; maxTtlSeconds?: number }): string {
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
  if (!isPlayerId(payload.sub)) {
    throw new GameError('invalid_token', `The bearer token names ${JSON.stringify(String(payload.sub).slice(0, 40))}, which is not a player name; sign in again with POST /api/sessions.`);
  }
  const maxTtl = opts.maxTtlSeconds ?? settings.tokenTtlSeconds();
  const nowSeconds = Math.floor(opts.nowMs / 1000);
  const { iat, exp } = payload;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || iat > nowSeconds + CLOCK_SKEW_SECONDS || exp <= iat || exp - iat > maxTtl || exp > nowSeconds + maxTtl + CLOCK_SKEW_SECONDS) {
    throw new GameError(
      'invalid_token',
      `The bearer token's times (issued ${String(iat)}, expires ${String(exp)}) are not ones this server signs: tokens last at most ${maxTtl} s (GAME_TOKEN_TTL_SECONDS). Sign in again with POST /api/sessions.`,
    );
  }
  if (payload.exp * 1000 <= opts.nowMs) {
    throw new GameError('expired_token', `The bearer token expired at ${new Date(payload.exp * 1000).toISOString()}; sign in again with POST /api/sessions.`);
  }
  remember(verified, token, { secret: opts.secret, sub: payload.sub, exp: payload.exp }, VERIFIED_MAX);
  return payload.sub;
}

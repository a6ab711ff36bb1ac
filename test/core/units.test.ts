// Unit tests of core pieces that need no host: tokens, plain-JSON checks, durations, line checks and parsing,
// the no-match reply, and call-site validation of delay()/runAsync().
import { describe, expect, it } from 'vitest';
import { toMillis } from '../../core/duration';
import { isGameError } from '../../core/errors';
import { whyNotJson } from '../../core/json';
import { playerId } from '../../core/names';
import { hashPassword, verifyPassword } from '../../core/passwords';
import { callback, command } from '../../core/registry';
import { checkLine, noMatchReply, parseLine } from '../../core/router';
import { signToken, verifyToken } from '../../core/tokens';
import { CommandContext } from '../../core/context';
import { delay, runAsync } from '../../core/tasks';
import type { Runtime } from '../../core/steps';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isGameError(err) ? err.code : `not a GameError: ${String(err)}`;
  }
  return undefined;
};

describe('tokens', () => {
  const secret = 'unit-secret-0123456789';
  it('round-trips and expires', () => {
    const token = signToken('alice', { secret, ttlSeconds: 60, nowMs: 1_000_000 });
    expect(verifyToken(token, { secret, nowMs: 1_000_000 + 59_000 })).toBe('alice');
    expect(code(() => verifyToken(token, { secret, nowMs: 1_000_000 + 60_000 }))).toBe('expired_token');
  });
  it('rejects tampering, other secrets and garbage', () => {
    const token = signToken('alice', { secret, ttlSeconds: 60, nowMs: 0 });
    const [v, , sig] = token.split('.');
    const forged = [v, Buffer.from(JSON.stringify({ sub: 'bob', iat: 0, exp: 1e12 })).toString('base64url'), sig].join('.');
    expect(code(() => verifyToken(forged, { secret, nowMs: 0 }))).toBe('invalid_token');
    expect(verifyToken(token, { secret, nowMs: 0 })).toBe('alice'); // verified once (and remembered) ...
    expect(code(() => verifyToken(token, { secret: 'other-secret-0123456789', nowMs: 0 }))).toBe('invalid_token'); // ... for its secret only
    expect(code(() => verifyToken(token, { secret, nowMs: 60_000 }))).toBe('expired_token'); // ... and until it expires
    for (const bad of ['', 'a.b', 'v2.x.y', 'v1..', 'v1.$$.%%']) expect(code(() => verifyToken(bad, { secret, nowMs: 0 }))).toBe('invalid_token');
  });
});

describe('passwords', () => {
  it('hash with a fresh salt and verify', async () => {
    const a = await hashPassword('hunter2', 10);
    const b = await hashPassword('hunter2', 10);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('hunter2', a)).toBe(true);
    expect(await verifyPassword('hunter3', a)).toBe(false);
    expect(await verifyPassword('hunter2', 'garbage')).toBe(false);
  });
});

describe('plain JSON', () => {
  it.each([
    ['args.at is an instance of Date', { at: new Date(0) }],
    ['args[1] is a function', [1, () => 2]],
    ['args.n is NaN', { n: NaN }],
    ['args.u is undefined', { u: undefined }],
    ['args[0] is an instance of Map', [new Map()]],
    ['args.b is a bigint (1n)', { b: BigInt(1) }],
  ])('refuses: %s', (why, value) => {
    expect(whyNotJson(value, 'args')).toBe(why);
  });
  it('accepts plain data and names cycles', () => {
    expect(whyNotJson({ a: [1, 'x', null, true, { b: Object.create(null) }] }, 'args')).toBeUndefined();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(whyNotJson(cyclic, 'args')).toBe('args.self is a circular reference');
  });
});

describe('durations', () => {
  it.each([
    [5, 5000],
    [0.25, 250],
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('%j is %i ms', (d, ms) => expect(toMillis(d)).toBe(ms));
  it.each([-1, NaN, Infinity, '5 parsecs', '', null, true])('%j is refused', (d) => expect(code(() => toMillis(d))).toBe('bad_duration'));
  // A fire time past what a Date holds made the delay orchestrator fail with "Invalid time value" after the
  // player had been told the reminder was set.
  it.each([1e20, '99999999999999999999999s', '300000000d'])('%j, past any date a timer can hold, is refused', (d) => expect(code(() => toMillis(d))).toBe('bad_duration'));
  it('100 years is still a duration', () => expect(toMillis('36500d')).toBe(36_500 * 86_400_000));
});

describe('lines', () => {
  it('checks emptiness, size and control characters', () => {
    expect(checkLine('look  ')).toBe('look');
    expect(checkLine('say\thi')).toBe('say\thi');
    expect(code(() => checkLine(''))).toBe('empty_line');
    expect(code(() => checkLine('  '))).toBe('empty_line');
    expect(code(() => checkLine('x'.repeat(4097)))).toBe('line_too_long');
    expect(checkLine('x'.repeat(4096))).toHaveLength(4096);
    expect(code(() => checkLine('a\rb'))).toBe('control_character');
    expect(code(() => checkLine('a\u0085b'))).toBe('control_character');
  });
  it('parses key and args', () => {
    expect(parseLine('remind 10 tea  time')).toEqual({ key: 'remind', args: '10 tea  time' });
    expect(parseLine('  LOOK  ')).toEqual({ key: 'LOOK', args: '' });
  });
  it('player ids are lower-case validated names', () => {
    expect(playerId('Alice_1')).toBe('alice_1');
    expect(code(() => playerId('a'))).toBe('invalid_name');
    expect(code(() => playerId('a.b'))).toBe('invalid_name');
  });
});

describe('registry and call-site checks', () => {
  const runtime: Runtime = { where: 'client', run: () => Promise.resolve({ id: 'x' }) };
  const unitEcho = callback('unitEcho', (_ctx, text: string) => text);
  command('unitlook', () => undefined);
  const cmd = new CommandContext({ key: 'unit', args: '', player: 'alice', runtime });

  it('no-match reply follows Evennia, with suggestions', () => {
    expect(noMatchReply('xyzzy')).toBe(`Command 'xyzzy' is not available. Type "help" for help.`);
    expect(noMatchReply('unitlok')).toBe(`Command 'unitlok' is not available. Maybe you meant "unitlook"?`);
  });
  it('refuses unregistered callbacks, closures and non-JSON args at the call site', () => {
    expect(code(() => delay(cmd, 5, 'nope', []))).toBe('unknown_callback');
    expect(code(() => delay(cmd, 5, ((): void => undefined) as unknown as string, []))).toBe('unknown_callback');
    expect(code(() => delay(cmd, 5, unitEcho, [new Date() as unknown as string]))).toBe('not_plain_json');
    expect(code(() => delay(cmd, -5, unitEcho, ['x']))).toBe('bad_duration');
    expect(code(() => runAsync(cmd, unitEcho, ['x'], { atErr: 'missing' }))).toBe('unknown_callback');
    expect(code(() => runAsync(cmd, unitEcho, ['x'], { atReturnKwargs: { f: () => 1 } as never }))).toBe('not_plain_json');
    expect(code(() => runAsync(cmd, unitEcho, ['x'], { retry: { attempts: 0, firstDelay: 1 } }))).toBe('invalid_body');
    expect(code(() => delay(cmd, '5s', unitEcho, ['x']))).toBeUndefined();
  });
  it('refuses duplicate names and bare generators', () => {
    expect(code(() => command('unitlook', () => undefined))).toBe('bad_registration');
    expect(code(() => command('unitgen', function* () {} as never))).toBe('bad_registration');
    expect(code(() => callback('unitEcho', () => 1))).toBe('bad_registration');
    expect(code(() => callback('bad name', () => 1))).toBe('bad_registration');
  });
  it('messages over 16 KiB fail where they are written', () => {
    expect(code(() => cmd.caller.msg('x'.repeat(16 * 1024 + 1)))).toBe('message_too_long');
  });
});

describe('HTTP error envelope', () => {
  const context = { functionName: 'input', invocationId: 'inv-1', error: () => undefined } as unknown as import('@azure/functions').InvocationContext;

  it('a Durable backend or storage outage is a 503 with Retry-After, not a 500', async () => {
    const { errorResponse } = await import('../../functions/lib/http');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:7071'), { code: 'ECONNREFUSED' });
    const sdk = new Error('The operation failed with an unexpected status code: 502. Details: bad gateway');
    for (const err of [refused, sdk]) {
      const r = errorResponse(err, context);
      expect(r.status).toBe(503);
      expect((r.jsonBody as { error: { code: string } }).error.code).toBe('backend_unavailable');
      expect((r.headers as Record<string, string>)['retry-after']).toBe('1');
    }
  });

  it('anything else stays a logged 500 naming the invocation', async () => {
    const { errorResponse } = await import('../../functions/lib/http');
    const r = errorResponse(new TypeError('x is undefined'), context);
    expect(r.status).toBe(500);
    expect((r.jsonBody as { error: { message: string } }).error.message).toContain('inv-1');
  });
});

describe('settings', () => {
  it('GAME_STREAM_HEARTBEAT_SECONDS is at most 15: the clients take a stream silent for 45 s (three heartbeats) as broken', async () => {
    const { settings } = await import('../../core/settings');
    const before = process.env.GAME_STREAM_HEARTBEAT_SECONDS;
    try {
      process.env.GAME_STREAM_HEARTBEAT_SECONDS = '15';
      expect(settings.streamHeartbeatSeconds()).toBe(15);
      process.env.GAME_STREAM_HEARTBEAT_SECONDS = '16';
      expect(() => settings.streamHeartbeatSeconds()).toThrow(/GAME_STREAM_HEARTBEAT_SECONDS="16" is not an integer between 1 and 15/);
    } finally {
      if (before === undefined) delete process.env.GAME_STREAM_HEARTBEAT_SECONDS;
      else process.env.GAME_STREAM_HEARTBEAT_SECONDS = before;
    }
  });
});

describe('request bodies', () => {
  /** A request whose body never ends (chunked, no Content-Length), as a streamed request reaches the function. */
  function endlessRequest(): import('@azure/functions').HttpRequest {
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 1)); // a slow sender: a chunk a millisecond
        sent += 1024;
        controller.enqueue(new TextEncoder().encode(sent === 1024 ? '{"text":"' + 'x'.repeat(1015) : 'x'.repeat(1024)));
      },
    });
    const headers = new Headers({ 'content-type': 'application/json' });
    return { headers, body, text: () => new Response(body).text() } as unknown as import('@azure/functions').HttpRequest;
  }

  it('a body without Content-Length is read only up to the limit, then refused (413), however long it goes on', async () => {
    const { readJson } = await import('../../functions/lib/http');
    const { z } = await import('zod');
    const err = await readJson(endlessRequest(), z.object({ text: z.string() }), 16 * 1024).catch((e: unknown) => e);
    expect(isGameError(err) && err.code).toBe('body_too_large');
    expect((err as Error).message).toMatch(/over 16384 bytes; this route accepts at most 16384/);
  }, 5_000);

  it('a body within the limit is parsed as before (UTF-8, a byte order mark dropped)', async () => {
    const { readJson } = await import('../../functions/lib/http');
    const { z } = await import('zod');
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"text":"café"}')]);
    const req = new Request('http://localhost/api/input', { method: 'POST', body: bytes, headers: { 'content-type': 'application/json' } });
    expect(await readJson(req as unknown as import('@azure/functions').HttpRequest, z.object({ text: z.string() }))).toEqual({ text: 'café' });
  });
});

// Property-based tests (fast-check) of every HTTP route of the game: thousands of generated bodies (deep and wide JSON
// included), headers, ids, tokens, Idempotency-Keys and query strings per route, against the app on the devhost with
// its tables on the test run's Azurite. Every answer is below 500 (storage is up, so not even a 503), every 4xx is a
// JSON error with a code and a message, and the host still plays a normal game afterwards. Numbers and cursors in
// query strings are parsed strictly: `wait` is decimal seconds only, and an `after` cursor (or Last-Event-ID) the server
// did not make is a 400. Streams the run opens are left at once, and none may keep its watcher. Same approach as test/devhost/management-fuzz.test.ts (the Durable management API).
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { signToken } from '../../core/tokens';
import { APP_DIR, Player, SECRET, startGame } from '../game/harness';

/** Generated requests per route. */
const RUNS = 1500;
/** For GET /api/stream: each accepted request opens a stream and reads the table first (about 10 ms each here). */
const STREAM_RUNS = 500;
const SEED = 20261201;

let host: TestHost;
let ana: Player;
let bob: Player;
let anaTask = '';
let bobTask = '';
const cursors: string[] = [];
/** Requests sent and answers by status, for the README's figures. */
const tally = { requests: 0, byStatus: new Map<number, number>() };

beforeAll(async () => {
  // Limits wide enough that generated lines reach the router instead of the rate limit (tested elsewhere).
  host = await startGame({ GAME_INPUT_RATE: '10000', GAME_INPUT_BURST: '100000', GAME_SIGNUPS_PER_HOUR: '1000000', GAME_DEV_COMMANDS: '0' });
  ana = await Player.join(host, 'fz-ana');
  bob = await Player.join(host, 'fz-bob');
  for (const [p, text] of [[ana, 'remind 600 ana plans'], [bob, 'remind 600 bob plans']] as const) {
    await p.type(text);
    const said = (await p.read())[0];
    const id = /\(task (\S+)\)\.$/.exec(said)?.[1] ?? '';
    if (p === ana) anaTask = id;
    else bobTask = id;
  }
  await ana.type('help');
  cursors.push(String((await ana.get('/api/messages')).body.cursor));
  await ana.type('help');
  cursors.push(String((await ana.get(`/api/messages?after=${encodeURIComponent(cursors[0])}`)).body.cursor));
}, 60_000);

afterAll(async () => {
  console.info(`app fuzz: ${tally.requests} requests; by status ${JSON.stringify(Object.fromEntries([...tally.byStatus].sort((a, b) => a[0] - b[0])))}`);
  await host?.dispose();
});

// ---------------------------------------------------------------------------------------------- generators

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const deep = (n: number, open = '[', close = ']'): string => open.repeat(n) + close.repeat(n);
/** Any body at all: empty, JSON of every shape, deep and wide JSON, text, bytes. */
const anyBody = fc.oneof(
  fc.constant(''),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.integer({ min: 500, max: 20_000 }).map((n) => JSON.stringify(Array.from({ length: n }, (_, i) => (i % 3 ? i : { k: String(i) })))),
  fc.integer({ min: 1, max: 3000 }).map((n) => deep(n)),
  fc.integer({ min: 1, max: 2000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constant(deep(100_000)),
  text,
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);
/** A field's value: strings that pass, strings that do not (control characters, 4 KiB+, blank), and every other JSON kind. */
const fieldValue = fc.oneof(
  { arbitrary: fc.constantFrom('help', 'tasks', 'remind 5 tea', 'remind 1h x', 'asynccommand', 'waitloop', 'testdelay', 'yes', 'no', 'tasks x cancel', 'HELP', '  help  ', 'help\t', 'look'), weight: 4 },
  { arbitrary: text, weight: 4 },
  { arbitrary: fc.constantFrom('', ' ', '\t', 'a\nb', 'a\u0000b', 'x\u007f', '\u0085', 'x'.repeat(4097), 'é'.repeat(2049), 'remind 36500d x', 'remind 0x10 x', 'remind 1e3 x', 'remind -1 x', 'remind 99999999999999999999 x', 'tasks ../../x cancel'), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => JSON.parse(deep(Math.min(n, 900))) as unknown), weight: 1 },
);
const wideObject = (extra: Record<string, unknown>) =>
  fc.integer({ min: 1, max: 6000 }).map((n) => JSON.stringify({ ...extra, ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i])) }));
const inputBody = fc.oneof(
  { arbitrary: fieldValue.map((t) => JSON.stringify({ text: t })), weight: 6 },
  { arbitrary: fc.record({ text: fieldValue, more: fc.jsonValue({ maxDepth: 3 }) }).map((b) => JSON.stringify(b)), weight: 1 },
  { arbitrary: wideObject({ text: 'help' }), weight: 1 },
  { arbitrary: anyBody, weight: 2 },
);
const nameValue = fc.oneof(fc.constantFrom('fz-ana', 'FZ-ANA', 'fz-bob', 'fz-new', 'ab', 'a', 'x'.repeat(33), '../x', 'fz ana', 'fz-ana\u0000', 'Ωmega'), text, fc.stringMatching(/^[A-Za-z0-9_-]{2,32}$/), fc.jsonValue({ maxDepth: 2 }));
const passwordValue = fc.oneof(fc.constantFrom('pw-fz-ana', 'pw-fz-bob', '', 'x'.repeat(1025), 'correct horse'), text, fc.jsonValue({ maxDepth: 2 }));
const sessionBody = fc.oneof(
  { arbitrary: fc.record({ name: nameValue, password: passwordValue }).map((b) => JSON.stringify(b)), weight: 6 },
  { arbitrary: fc.record({ name: nameValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)), weight: 1 },
  { arbitrary: wideObject({ name: 'fz-wide', password: 'pw' }), weight: 1 },
  { arbitrary: anyBody, weight: 2 },
);
const contentType = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 6 },
  { arbitrary: fc.constantFrom('application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/xml', 'application/jsonx', ''), weight: 2 },
  { arbitrary: text, weight: 1 },
);

/** Tokens: the fuzz players' own, expired, foreign-secret and strange-claim ones, and garbage. */
const tokenOf = fc.oneof(
  { arbitrary: fc.constant(() => ana.token), weight: 6 },
  { arbitrary: fc.constant(() => bob.token), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      () => signToken('fz-ana', { secret: SECRET, ttlSeconds: 60, nowMs: Date.now() - 3_600_000 }),
      () => signToken('fz-ana', { secret: 'another-secret-0123456789abcdef012345', ttlSeconds: 60, nowMs: Date.now() }),
      () => signToken('fz-ana', { secret: SECRET, ttlSeconds: 60, nowMs: Date.now() + 3_600_000 }),
      () => signToken('fz-ana', { secret: SECRET, ttlSeconds: 1e12, nowMs: Date.now() }),
      () => ana.token.slice(0, -1),
      () => `${ana.token}x`,
      () => ana.token.replace('.', '..'),
    ),
    weight: 2,
  },
  { arbitrary: text.map((t) => () => t), weight: 2 },
);
/** The Authorization header around a token, as clients get it right and wrong. */
const authorization = fc.oneof(
  { arbitrary: tokenOf.map((t) => () => `Bearer ${t()}`), weight: 8 },
  { arbitrary: fc.tuple(fc.constantFrom('bearer ', 'BEARER  ', 'Bearer\t', 'Basic ', '', 'Bearer', 'Token '), tokenOf, fc.constantFrom('', ' ', ' x', ',Bearer y')).map(([a, t, b]) => () => `${a}${t()}${b}`), weight: 2 },
  { arbitrary: fc.constant(() => undefined), weight: 1 },
);
/** Mostly ana's valid header and JSON, so more requests get past authentication and parsing to the router. */
const mostlyAna = fc.oneof({ arbitrary: fc.constant(() => `Bearer ${ana.token}`), weight: 6 }, { arbitrary: authorization, weight: 4 });
const mostlyJson = fc.oneof({ arbitrary: fc.constant('application/json'), weight: 6 }, { arbitrary: contentType, weight: 4 });
const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 3 },
  { arbitrary: fc.uuid(), weight: 3 },
  { arbitrary: fc.constantFrom('', ' ', 'k', 'x'.repeat(255), 'x'.repeat(256), 'same-key', 'a\tb', 'é'), weight: 2 },
  { arbitrary: text, weight: 1 },
);
/** Query strings of junk keys and values (the routes that take none must ignore them). */
const junkQuery = fc.array(fc.tuple(text, text), { maxLength: 4 }).map((pairs) => (pairs.length > 0 ? `?${new URLSearchParams(pairs)}` : ''));
/** Numbers as they come in query strings: decimal and not (hex, exponent, sign, spaces, digits of other scripts). */
const numberish = fc.oneof(
  fc.constantFrom('0', '0.01', '0.05', '00', '0.0'),
  fc.constantFrom('0x10', '0X1', '0b1', '0o7', '1e1', '1E-2', '+1', '-0', '-1', ' 1', '1 ', '.5', '5.', '1_0', '1,5', '١', '１', 'Infinity', 'NaN', '', '26', '25.0001', '99999999999999999999', '1e-400'),
  fc.integer({ min: -5, max: 40 }).map(String),
  text,
);
/** An id in a path: percent-encoded, raw or odd, and the players' real task ids. */
const pathId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%2F', '..', '.', 'a%00b', 'x'.repeat(257), "fz-ana.delay.'or'1'eq'1", 'fz-ana.delay.', 'fz-ana.cmd.x', 'fz-ana.async.x'),
  fc.constant('ANA_TASK'),
  fc.constant('BOB_TASK'),
);

// ---------------------------------------------------------------------------------------------- the check

interface Req {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body?: string;
}

/** Header values Node's fetch refuses (CR, LF, NUL, beyond Latin-1) cannot reach a server: leave those out. */
const sendable = (v: string | undefined): v is string => v !== undefined && /^[\t\x20-\x7e\x80-\xff]*$/.test(v);

async function send(r: Req): Promise<{ status: number; body: string; headers: Headers }> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (sendable(v)) headers[k] = v;
  const res = await host.fetch(r.path, { method: r.method, headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body });
  // An open stream (GET /api/stream) is left at once, as a client that goes away: its status and type are the answer.
  const streaming = res.status === 200 && res.headers.get('content-type') === 'text/event-stream';
  if (streaming) await res.body?.cancel();
  const body = streaming ? '' : await res.text();
  tally.requests++;
  tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
  const where = `${r.method} ${r.path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 300)} ${JSON.stringify((r.body ?? '').slice(0, 200))} -> ${res.status} ${body.slice(0, 300)}`;
  expect(res.status, where).toBeLessThan(500);
  if (res.status >= 400 && r.method !== 'HEAD') {
    expect(res.headers.get('content-type') ?? '', where).toMatch(/application\/json/);
    const err = (JSON.parse(body) as { error?: { code?: unknown; message?: unknown } }).error;
    expect(typeof err?.code, where).toBe('string');
    expect(String(err?.message ?? '').length, where).toBeGreaterThan(10);
  }
  return { status: res.status, body, headers: res.headers };
}

/** After a route's run: the host answers, and a player can still sign in, type and read. */
async function healthy(): Promise<void> {
  expect((await host.fetch('/admin/host/status')).status).toBe(200);
  // Every stream the run opened and left, and every long poll, has let go of its watcher.
  const outbox = host.host.app.appRequire(path.join(APP_DIR, 'dist/core/outbox.js')) as typeof import('../../core/outbox');
  const deadline = Date.now() + 5000;
  while (outbox.writeListenerCount() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(outbox.writeListenerCount()).toBe(0);
  await host.idle();
  const p = await Player.join(host, `fz-h${Math.floor(performance.now()).toString(36)}`);
  await p.type('help');
  expect((await p.read()).join('\n')).toMatch(/^Commands:/);
}

const realId = (id: string): string => (id === 'ANA_TASK' ? encodeURIComponent(anaTask) : id === 'BOB_TASK' ? encodeURIComponent(bobTask) : id);

const routes: Array<[string, fc.Arbitrary<() => Req>]> = [
  [
    'POST /api/sessions',
    fc.record({ b: sessionBody, ct: contentType, xff: fc.option(text, { nil: undefined }) }).map(({ b, ct, xff }) => () => ({
      method: 'POST',
      path: '/api/sessions',
      headers: { 'content-type': ct, 'x-forwarded-for': xff },
      body: b,
    })),
  ],
  [
    'POST /api/input',
    fc.record({ b: inputBody, ct: mostlyJson, auth: mostlyAna, key: idempotencyKey }).map(({ b, ct, auth, key }) => () => ({
      method: 'POST',
      path: '/api/input',
      headers: { 'content-type': ct, authorization: auth(), 'idempotency-key': key },
      body: b,
    })),
  ],
  [
    'GET /api/messages',
    fc
      .record({
        auth: authorization,
        after: fc.option(fc.oneof(fc.constantFrom(0, 1).map((i) => () => cursors[i]), text.map((t) => () => t), fc.constantFrom(() => 'eyJrIjoibTAwMDAwMDAwMDAwMDAwMCIsInMiOltdfQ', () => `${cursors[1]}x`, () => cursors[1].slice(1))), { nil: undefined }),
        wait: fc.option(numberish, { nil: undefined }),
        junk: junkQuery,
      })
      .map(({ auth, after, wait, junk }) => () => {
        const q = new URLSearchParams(junk.slice(1));
        if (after) q.set('after', after());
        // A valid cursor with nothing after it holds the request for `wait` seconds: keep those short.
        if (wait !== undefined) q.set('wait', after && Number(wait) > 0.05 ? '0' : wait);
        return { method: 'GET', path: `/api/messages?${q}`, headers: { authorization: auth() } };
      }),
  ],
  [
    'GET /api/stream',
    fc
      .record({
        auth: authorization,
        cursor: fc.option(fc.oneof(fc.constantFrom(0, 1).map((i) => () => cursors[i]), text.map((t) => () => t), fc.constantFrom(() => 'eyJrIjoibTAwMDAwMDAwMDAwMDAwMCIsInMiOltdfQ', () => `${cursors[1]}x`, () => cursors[1].slice(1))), { nil: undefined }),
        inHeader: fc.boolean(),
        junk: junkQuery,
      })
      .map(({ auth, cursor, inHeader, junk }) => () => {
        const q = new URLSearchParams(junk.slice(1));
        if (cursor && !inHeader) q.set('after', cursor());
        return { method: 'GET', path: `/api/stream?${q}`, headers: { authorization: auth(), 'last-event-id': cursor && inHeader ? cursor() : undefined } };
      }),
  ],
  ['GET /api/prompts', fc.record({ auth: authorization, q: junkQuery }).map(({ auth, q }) => () => ({ method: 'GET', path: `/api/prompts${q}`, headers: { authorization: auth() } }))],
  ['GET /api/tasks', fc.record({ auth: authorization, q: junkQuery }).map(({ auth, q }) => () => ({ method: 'GET', path: `/api/tasks${q}`, headers: { authorization: auth() } }))],
  [
    'POST /api/tasks/{id}/{action}',
    fc
      .record({ auth: mostlyAna, id: pathId, action: fc.oneof(fc.constantFrom('cancel', 'pause', 'unpause', 'fire', 'info', 'CANCEL', 'constructor', '__proto__', 'toString', ''), text.map(encodeURIComponent)), b: anyBody, ct: contentType })
      .map(({ auth, id, action, b, ct }) => () => ({ method: 'POST', path: `/api/tasks/${realId(id)}/${action}`, headers: { authorization: auth(), 'content-type': ct }, body: b })),
  ],
  ['GET /api/commands', fc.record({ auth: authorization, q: junkQuery }).map(({ auth, q }) => () => ({ method: 'GET', path: `/api/commands${q}`, headers: { authorization: auth() } }))],
  ['GET /api/play', fc.record({ auth: authorization, q: junkQuery }).map(({ auth, q }) => () => ({ method: 'GET', path: `/api/play${q}`, headers: { authorization: auth(), accept: 'text/html' } }))],
  [
    'any route, any method',
    fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'),
        // The operator routes too (another area; with no GAME_OPERATOR_KEY here they are off: a 403 to everyone).
        route: fc.constantFrom('sessions', 'input', 'messages', 'prompts', 'tasks', 'tasks/x/cancel', 'commands', 'play', 'tasks/x', 'tasks/x/cancel/y', 'nope', '', 'operator', 'operator/tasks', 'operator/prompts', 'operator/log', 'operator/tasks/x/cancel'),
        auth: authorization,
        b: anyBody,
      })
      .map(({ method, route, auth, b }) => () => ({ method, path: `/api/${route}`, headers: { authorization: auth(), 'content-type': 'application/json' }, body: b })),
  ],
];

describe('every route of the game under generated input', () => {
  for (const [name, arb] of routes) {
    const runs = name === 'GET /api/stream' ? STREAM_RUNS : RUNS;
    it(`${name}: no 5xx, JSON errors, the game still plays after ${runs} requests`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (make) => {
          await send(make());
        }),
        { numRuns: runs, seed: SEED, endOnFailure: true },
      );
      await healthy();
    }, 300_000);
  }
});

describe('strict parsing of query strings', () => {
  const get = (q: string) => send({ method: 'GET', path: `/api/messages?${q}`, headers: { authorization: `Bearer ${ana.token}` } });

  it('wait= is decimal seconds from 0 to 25; hex, exponents, signs, spaces and other scripts are a 400', async () => {
    await fc.assert(
      fc.asyncProperty(numberish, async (wait) => {
        // ana has messages and no cursor is sent, so even wait=25 answers at once.
        const r = await get(`wait=${encodeURIComponent(wait)}`);
        const decimal = /^\d+(\.\d+)?$/.test(wait) && Number(wait) <= 25;
        expect(r.status, `wait=${JSON.stringify(wait)} -> ${r.status} ${r.body.slice(0, 200)}`).toBe(decimal ? 200 : 400);
      }),
      { numRuns: 300, seed: SEED, examples: [['0x10'], ['1e1'], ['+5'], [' 5'], ['.5'], ['25'], ['0']] },
    );
  });

  it('after= must be a cursor the server made: inserted, dropped or changed characters and other encodings are a 400', async () => {
    const real = cursors[1];
    const mutated = fc.oneof(
      // A character outside base64url inserted anywhere (base64 decoders skip them; the cursor must not).
      fc.tuple(fc.nat(real.length), fc.constantFrom(' ', '!', '=', '.', '+', '/', '%', '\t', '~')).map(([i, c]) => real.slice(0, i) + c + real.slice(i)),
      // Re-encoded as standard base64 or padded.
      fc.constant(Buffer.from(real, 'base64url').toString('base64')),
      fc.constant(`${real}==`),
      // A cursor whose JSON is not one the server writes.
      fc.constantFrom({ k: 'm000000000000000x', s: [] }, { k: 'm0000000000000001', s: [], lo: 1.5 }, { k: 'm000000000000000', s: ['1.a', 2] }, { k: 'm000000000000000', s: [], x: 1 }, { k: 'm000000000000000', s: [], lo: -1 }, { k: "m000000000000000' or RowKey ne '", s: [] }, [], 'm000000000000000').map(
        (v) => Buffer.from(JSON.stringify(v)).toString('base64url'),
      ),
    ).filter((after) => after !== real); // standard base64 of a cursor without '+', '/' or padding is the cursor itself
    await fc.assert(
      fc.asyncProperty(mutated, async (after) => {
        const r = await get(`after=${encodeURIComponent(after)}`);
        expect(r.status, `after=${JSON.stringify(after)} -> ${r.status} ${r.body.slice(0, 200)}`).toBe(400);
        expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'invalid_query' } });
      }),
      { numRuns: 300, seed: SEED },
    );
    // The real one still reads.
    expect((await get(`after=${encodeURIComponent(real)}`)).status).toBe(200);
  });
});

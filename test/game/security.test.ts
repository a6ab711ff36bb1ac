// Security and bad input over HTTP: every player route refuses missing, expired and tampered tokens; player B can
// neither see nor act on player A's tasks, prompts or messages; malformed input gets a 4xx JSON error, never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { signToken } from '../../core/tokens';
import { Player, SECRET, call, startGame } from './harness';

let host: TestHost;
let alice: Player;
let bob: Player;
let aliceTask: string;
let alicePrompt: string;

beforeAll(async () => {
  host = await startGame();
  alice = await Player.join(host, 'Alice');
  bob = await Player.join(host, 'bob');
  await alice.type('remind 600 secret plans');
  aliceTask = /\(task (\S+)\)\.$/.exec((await alice.read())[0])![1];
  await alice.type('greet');
  await host.idle();
  await alice.read();
  alicePrompt = ((await alice.get('/api/prompts')).body.prompts as { promptId: string }[])[0].promptId;
});
afterAll(async () => host?.dispose());

const ROUTES: [string, string, unknown?][] = [
  ['POST', '/api/input', { text: 'look' }],
  ['GET', '/api/messages'],
  ['GET', '/api/stream'],
  ['GET', '/api/prompts'],
  ['GET', '/api/tasks'],
  ['POST', '/api/tasks/some-id/cancel'],
];

function tamper(token: string): string {
  const [v, payload, sig] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub: string };
  claims.sub = 'bob';
  return [v, Buffer.from(JSON.stringify(claims)).toString('base64url'), sig].join('.');
}

describe('tokens', () => {
  for (const [method, path, body] of ROUTES) {
    it(`${method} ${path} refuses a missing, malformed, expired, tampered or foreign-secret token`, async () => {
      const cases: [string | undefined, string][] = [
        [undefined, 'missing_token'],
        ['not-a-token', 'invalid_token'],
        [signToken('alice', { secret: SECRET, ttlSeconds: 60, nowMs: Date.now() - 3_600_000 }), 'expired_token'],
        [tamper(alice.token), 'invalid_token'],
        [signToken('alice', { secret: 'another-secret-0123456789', ttlSeconds: 60, nowMs: Date.now() }), 'invalid_token'],
      ];
      for (const [token, code] of cases) {
        const r = await call(host, method, path, body, token);
        expect(r.status, `${code}: ${JSON.stringify(r.body)}`).toBe(401);
        expect(r.body).toMatchObject({ error: { code } });
        expect(String((r.body.error as { message: string }).message)).toMatch(/POST \/api\/sessions|Bearer/);
      }
    });
  }

  it('sessions: 201 creates, 200 signs in, 401 on a wrong password; names are case-insensitive ids', async () => {
    expect((await call(host, 'POST', '/api/sessions', { name: 'carol', password: 'one' })).status).toBe(201);
    const again = await call(host, 'POST', '/api/sessions', { name: 'Carol', password: 'one' });
    expect(again).toMatchObject({ status: 200, body: { player: 'carol' } });
    expect(await call(host, 'POST', '/api/sessions', { name: 'carol', password: 'two' })).toMatchObject({ status: 401, body: { error: { code: 'wrong_password' } } });
  });

  it('sessions: after 5 wrong passwords in a row, sign-in answers 429 with Retry-After, even with the right password', async () => {
    expect((await call(host, 'POST', '/api/sessions', { name: 'dave', password: 'right' })).status).toBe(201);
    for (let i = 0; i < 5; i++) {
      expect(await call(host, 'POST', '/api/sessions', { name: 'dave', password: `guess${i}` })).toMatchObject({ status: 401, body: { error: { code: 'wrong_password' } } });
    }
    const res = await host.fetch('/api/sessions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'dave', password: 'right' }) });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(25);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('too_many_attempts');
    expect(body.error.message).toMatch(/wait \d+ s before signing in again/);
  });

  it('GET /api/commands is public and lists the seed commands with help', async () => {
    const r = await call(host, 'GET', '/api/commands');
    expect(r.status).toBe(200);
    const keys = (r.body.commands as { key: string }[]).map((c) => c.key);
    expect(keys).toEqual(expect.arrayContaining(['asynccommand', 'asyncfail', 'testdelay', 'waitloop', 'remind', 'tasks', 'help']));
  });
});

describe('isolation between players', () => {
  it("B does not see A's tasks, and every action on A's task id is a 404", async () => {
    expect((await bob.get('/api/tasks')).body.tasks).toEqual([]);
    for (const action of ['cancel', 'pause', 'unpause', 'fire']) {
      expect(await bob.post(`/api/tasks/${aliceTask}/${action}`)).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
    }
    await bob.type(`tasks ${aliceTask} cancel`);
    expect(await bob.read()).toEqual([`Task ${aliceTask} does not exist.`]);
    expect((await bob.get('/api/prompts')).body.prompts).toEqual([]);
    const tasks = (await alice.get('/api/tasks')).body.tasks as { id: string; state: string }[];
    expect(tasks.find((t) => t.id === aliceTask)?.state).toBe('waiting');
  });

  it("B does not see A's prompts, and B's lines never answer them", async () => {
    expect((await bob.get('/api/prompts')).body.prompts).toEqual([]);
    expect(await bob.type('Mallory')).toMatchObject({ kind: 'nomatch' });
    const open = (await alice.get('/api/prompts')).body.prompts as { promptId: string }[];
    expect(open.map((p) => p.promptId)).toEqual([alicePrompt]);
  });

  it("B does not read A's messages", async () => {
    await alice.type('echo for alice only');
    await bob.read();
    const r = await bob.get('/api/messages');
    expect((r.body.messages as { text: string }[]).map((m) => m.text)).not.toContain('for alice only');
  });
});

describe('bad input', () => {
  const bad = async (body: unknown, headers: Record<string, string> = {}) => call(host, 'POST', '/api/input', body, alice.token, headers);

  it.each([
    ['an empty line', { text: '' }, 400, 'empty_line'],
    ['a blank line', { text: '   \t ' }, 400, 'empty_line'],
    ['a line over 4 KiB', { text: 'x'.repeat(4097) }, 413, 'line_too_long'],
    ['4 KiB of multi-byte text', { text: 'é'.repeat(2049) }, 413, 'line_too_long'],
    ['a newline', { text: 'look\nsay hi' }, 400, 'control_character'],
    ['a bell character', { text: 'look\u0007' }, 400, 'control_character'],
    ['a NUL', { text: '\u0000' }, 400, 'control_character'],
    ['no text field', { line: 'look' }, 400, 'invalid_body'],
    ['a number as text', { text: 42 }, 400, 'invalid_body'],
    ['a JSON array', [1, 2], 400, 'invalid_body'],
    ['malformed JSON', '{"text": ', 400, 'invalid_json'],
    ['an empty body', '', 400, 'invalid_json'],
    ['a body over 64 KiB', JSON.stringify({ text: 'x'.repeat(70_000) }), 413, 'body_too_large'],
  ])('%s is refused with a JSON error', async (_name, body, status, code) => {
    const r = await bad(body);
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    expect(r.body).toMatchObject({ error: { code } });
    expect(typeof (r.body.error as { message: string }).message).toBe('string');
  });

  it('a line of exactly 4 KiB is accepted', async () => {
    expect((await bad({ text: `echo ${'y'.repeat(4091)}` })).status).toBe(202);
  });

  it('a non-JSON content type is a 415', async () => {
    const r = await bad('text=look', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
  });

  it.each([
    ['/api/messages?wait=26', 'invalid_query'],
    ['/api/messages?wait=-1', 'invalid_query'],
    ['/api/messages?wait=soon', 'invalid_query'],
    ['/api/messages?after=garbage', 'invalid_query'],
  ])('GET %s is a 400', async (path, code) => {
    expect(await alice.get(path)).toMatchObject({ status: 400, body: { error: { code } } });
  });

  it.each([
    [{ name: 'a', password: 'x' }, 'invalid_name'],
    [{ name: 'bad name!', password: 'x' }, 'invalid_name'],
    [{ name: 'x'.repeat(33), password: 'x' }, 'invalid_name'],
    [{ name: 'dave', password: '' }, 'invalid_body'],
    [{ name: 'dave' }, 'invalid_body'],
    [{ name: 7, password: 'x' }, 'invalid_body'],
  ])('sessions %j is a 400', async (body, code) => {
    expect(await call(host, 'POST', '/api/sessions', body)).toMatchObject({ status: 400, body: { error: { code } } });
  });

  it('unknown task actions and ids are 404s', async () => {
    expect(await alice.post(`/api/tasks/${aliceTask}/explode`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(await alice.post('/api/tasks/no.such.task/cancel')).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('task action %s (an Object.prototype name) is a 404, not a call with a function as the op', async (action) => {
    expect(await alice.post(`/api/tasks/${aliceTask}/${action}`)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('an unknown command gets the no-match reply, a crashing command a message; neither is an HTTP error', async () => {
    await alice.read();
    // answer alice's open prompt first so lines route to commands
    await alice.type('Alice');
    await host.idle();
    await alice.read();
    expect(await alice.type('hepl')).toMatchObject({ kind: 'nomatch' });
    expect(await alice.read()).toEqual([`Command 'hepl' is not available. Maybe you meant "help"?`]);
    expect(await alice.type('crash')).toMatchObject({ kind: 'command', ok: false });
    expect(await alice.read()).toEqual(["An untrapped error occurred in 'crash': the command crashed"]);
  });

  it('a command that meets a storage outage is a 503 to send again, not its failure: nothing said, and its key is free for the resend', async () => {
    await alice.read();
    const send = () =>
      alice.host.fetch('/api/input', {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', 'idempotency-key': 'outage-1' },
        body: JSON.stringify({ text: 'crash outage' }),
      });
    for (let i = 0; i < 2; i++) {
      const res = await send();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ error: { code: 'storage_unavailable' } });
    }
    expect(await alice.read()).toEqual([]);
  });

  it('a command that throws an error longer than a message may be still answers 202 and tells the player (shortened)', async () => {
    await alice.read();
    expect(await alice.send('crash long')).toMatchObject({ status: 202, body: { kind: 'command', ok: false } });
    const [msg] = await alice.read();
    expect(msg).toMatch(/^An untrapped error occurred in 'crash': the command crashed: x+…$/);
    expect(msg.length).toBeLessThan(2000);
  });

  it('an interactive command that throws an overlong error still delivers what it said and the error notice', async () => {
    await alice.read();
    const { instanceId } = await alice.type('icrash');
    expect(await host.waitFor(String(instanceId))).toMatchObject({ runtimeStatus: 'Failed' });
    const msgs = await alice.read();
    expect(msgs[0]).toBe('about to crash');
    expect(msgs[1]).toMatch(/^An untrapped error occurred in 'icrash': the interactive command crashed: y+…$/);
    expect(msgs).toHaveLength(2);
  });

  it('no request above produced a 500', () => {
    expect(host.logs.filter((l) => /unexpected error/.test(l.message))).toEqual([]);
  });
});

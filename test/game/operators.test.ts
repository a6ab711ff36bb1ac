// Operator routes (Evennia's @tasks across players) behind GAME_OPERATOR_KEY: without the key 401, with a wrong key
// or a player's token 403; every live task and open prompt of two players listed, filtered and paged; any task
// cancelled, paused, resumed, fired or called with a logged note; bad input a 4xx JSON error. And the key's start-up
// checks: missing on Azure, weak anywhere, the token secret reused.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestHost } from '../../devhost';
import type { OperatorAction, OperatorPrompt, OperatorTask } from '../../core/operators';
import { call, OPERATOR_KEY, Player, startGame, type Reply } from './harness';

let host: TestHost;
let ana: Player;
let bo: Player;
let anaTea: string;
let anaBread: string;
let boTask: string;

beforeAll(async () => {
  host = await startGame();
  ana = await Player.join(host, 'opana');
  bo = await Player.join(host, 'opbo');
  anaTea = await remind(ana, 600, 'tea');
  anaBread = await remind(ana, 900, 'bread');
  await bo.type('testdelay');
  await bo.type('greet'); // asks "What is your name?"
  await host.idle();
  boTask = ((await bo.get('/api/tasks')).body.tasks as OperatorTask[])[0].id;
});
afterAll(async () => host?.dispose());

async function remind(p: Player, seconds: number, text: string): Promise<string> {
  await p.type(`remind ${seconds} ${text}`);
  return /\(task (\S+)\)\.$/.exec((await p.read())[0])![1];
}

/** An operator request; `key` null sends no Authorization header. */
const op = (method: string, path: string, body?: unknown, key: string | null = OPERATOR_KEY): Promise<Reply> =>
  call(host, method, `/api/operator/${path}`, body, key ?? undefined);
const tasks = async (query = ''): Promise<{ tasks: OperatorTask[]; next?: string }> => {
  const r = await op('GET', `tasks${query}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { tasks: OperatorTask[]; next?: string };
};
const stateOf = async (id: string) => ((await tasks()).tasks.find((t) => t.id === id) ?? { state: 'gone' }).state;

describe('the operator key', () => {
  it.each([
    ['no Authorization header', null, 401, 'missing_operator_key'],
    ['a wrong key', 'not-the-operator-key-0123456789abcdef0123', 403, 'wrong_operator_key'],
    ['a key one character short', OPERATOR_KEY.slice(0, -1), 403, 'wrong_operator_key'],
  ])('%s is refused with a JSON error on every operator route', async (_what, key, status, code) => {
    for (const [method, path, body] of [['GET', 'tasks'], ['GET', 'prompts'], ['GET', 'log'], ['POST', `tasks/${anaTea}/cancel`, { note: 'x' }]] as const) {
      const r = await op(method, path, body, key);
      expect(r, `${method} ${path}`).toMatchObject({ status, body: { error: { code, message: expect.stringMatching(/GAME_OPERATOR_KEY/) } } });
    }
    expect(await stateOf(anaTea)).toBe('waiting');
  });

  it("a player's token is refused on operator routes (403), and the operator key is no player token (401)", async () => {
    expect(await op('GET', 'tasks', undefined, ana.token)).toMatchObject({ status: 403, body: { error: { code: 'wrong_operator_key' } } });
    expect(await op('POST', `tasks/${anaTea}/cancel`, { note: 'mine' }, ana.token)).toMatchObject({ status: 403 });
    expect(await call(host, 'GET', '/api/tasks', undefined, OPERATOR_KEY)).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    expect(await stateOf(anaTea)).toBe('waiting');
  });
});

describe('lists across players', () => {
  it('every live task with owner, kind, callback, fire time, remaining time and arguments', async () => {
    const { tasks: all } = await tasks();
    const mine = all.filter((t) => t.player === 'opana' || t.player === 'opbo');
    expect(mine.map((t) => t.id).sort()).toEqual([anaTea, anaBread, boTask].sort());
    expect(mine.find((t) => t.id === anaTea)).toMatchObject({ player: 'opana', kind: 'delay', callback: 'remind', command: 'remind', state: 'waiting', args: '["tea"]' });
    const tea = mine.find((t) => t.id === anaTea)!;
    expect(Date.parse(tea.fireAt!)).toBeGreaterThan(Date.now() - 60_000);
    expect(tea.remaining).toBeGreaterThan(0);
    expect(mine.find((t) => t.id === boTask)).toMatchObject({ player: 'opbo', callback: 'sayTest', args: '[]' });
  });

  it('filters by player, callback, state and kind', async () => {
    expect((await tasks('?player=OpAna')).tasks.map((t) => t.id).sort()).toEqual([anaTea, anaBread].sort());
    expect((await tasks('?callback=sayTest')).tasks.map((t) => t.id)).toEqual([boTask]);
    expect((await tasks('?player=opbo&callback=remind')).tasks).toEqual([]);
    expect((await tasks('?player=opana&kind=async')).tasks).toEqual([]);
    expect((await tasks('?state=paused')).tasks.filter((t) => t.player.startsWith('op'))).toEqual([]);
  });

  it('pages: limit=1 gives one task and a cursor, following it gives each task once', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await tasks(`?player=opana&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.tasks.map((t) => t.id));
      expect(page.tasks.length).toBeLessThanOrEqual(1);
      cursor = page.next;
      if (!cursor) break;
    }
    expect(seen.sort()).toEqual([anaTea, anaBread].sort());
  });

  it("open prompts across players, never the answer; a player's own only when filtered", async () => {
    await ana.type('greet');
    await host.idle();
    const r = await op('GET', 'prompts');
    expect(r.status).toBe(200);
    const prompts = (r.body.prompts as OperatorPrompt[]).filter((p) => p.player.startsWith('op'));
    expect(prompts.map((p) => p.player).sort()).toEqual(['opana', 'opbo']);
    expect(prompts[0]).toMatchObject({ command: 'greet', question: 'What is your name?', state: 'open', instanceId: expect.stringMatching(/\.cmd\./) });
    expect(prompts[0]).not.toHaveProperty('answer');
    const bos = (await op('GET', 'prompts?player=opbo')).body.prompts as OperatorPrompt[];
    expect(bos.map((p) => p.player)).toEqual(['opbo']);
    // Answered, the prompt is gone from the list.
    await ana.type('Ana');
    await host.idle();
    expect(((await op('GET', 'prompts?player=opana')).body.prompts as OperatorPrompt[])).toEqual([]);
  });

  it('a running background job shows its progress', async () => {
    const p = await Player.join(host, 'opjob');
    await p.type('longjob 3 1');
    const job = await vi.waitFor(
      async () => {
        const [t] = (await tasks('?player=opjob&state=running')).tasks;
        expect(t?.progress?.fraction).toBeGreaterThan(0);
        return t;
      },
      { timeout: 20_000, interval: 50 },
    );
    expect(job).toMatchObject({ kind: 'async', callback: 'longJob', args: '[3,1]', progress: { note: expect.stringMatching(/of 3 steps$/) } });
    await host.waitFor(job.id);
  });
});

describe('acting on any task, with a note', () => {
  it("cancels one player's task and pauses, resumes, calls and fires another's; the log keeps each note", async () => {
    let r = await op('POST', `tasks/${anaBread}/cancel`, { note: 'ticket 42: duplicate reminder' });
    expect(r).toMatchObject({ status: 202, body: { id: anaBread, player: 'opana', action: 'cancel', accepted: true, note: 'ticket 42: duplicate reminder' } });
    await host.idle();
    expect(await stateOf(anaBread)).toBe('gone'); // the list holds live tasks only
    expect(((await ana.get('/api/tasks')).body.tasks as OperatorTask[]).find((t) => t.id === anaBread)?.state).toBe('cancelled');

    r = await op('POST', `tasks/${boTask}/pause`, { note: 'hold it' });
    expect(r).toMatchObject({ status: 202, body: { player: 'opbo', action: 'pause', accepted: true } });
    await host.idle();
    expect(await stateOf(boTask)).toBe('paused');
    expect((await op('POST', `tasks/${boTask}/resume`, { note: 'go on' })).body).toMatchObject({ action: 'unpause', accepted: true });
    await host.idle();
    expect(await stateOf(boTask)).toBe('waiting');
    await bo.read();
    expect((await op('POST', `tasks/${boTask}/call`, { note: 'say it now, keep it' })).status).toBe(202);
    await host.idle();
    expect(await bo.read()).toEqual(['Test!']);
    expect(await stateOf(boTask)).toBe('waiting');
    expect((await op('POST', `tasks/${boTask}/fire`, { note: 'and once more' })).status).toBe(202);
    await host.idle();
    expect(await bo.read()).toEqual(['Test!']);

    const log = (await op('GET', 'log')).body.actions as OperatorAction[];
    expect(log.slice(0, 5).map((a) => [a.action, a.taskId, a.player, a.outcome, a.note])).toEqual([
      ['fire', boTask, 'opbo', 'sent', 'and once more'],
      ['call', boTask, 'opbo', 'sent', 'say it now, keep it'],
      ['unpause', boTask, 'opbo', 'sent', 'go on'],
      ['pause', boTask, 'opbo', 'sent', 'hold it'],
      ['cancel', anaBread, 'opana', 'sent', 'ticket 42: duplicate reminder'],
    ]);
    expect(host.logs.some((l) => /operator cancel of task \S+ \(player opana\) from \S+: sent; note: "ticket 42: duplicate reminder"/.test(l.message))).toBe(true);
  });

  it('a finished task is a 409, an unknown one a 404; both are logged', async () => {
    expect(await op('POST', `tasks/${anaBread}/fire`, { note: 'too late' })).toMatchObject({ status: 409, body: { error: { code: 'task_finished' } } });
    expect(await op('POST', 'tasks/nobody.delay.00000000-0000-0000-0000-000000000000/cancel', { note: 'typo' })).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
    expect(await op('POST', 'tasks/opbo.cmd.abc/cancel', { note: 'a command is no task' })).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
    const log = (await op('GET', 'log?limit=3')).body.actions as OperatorAction[];
    expect(log.map((a) => a.outcome)).toEqual(['task_not_found', 'task_not_found', 'finished']);
  });
});

describe('bad input is a 4xx JSON error', () => {
  it.each([
    ['GET', 'tasks?player=no%20such', 400, 'invalid_query'],
    ['GET', 'tasks?state=fired', 400, 'invalid_query'],
    ['GET', 'tasks?kind=cmd', 400, 'invalid_query'],
    ['GET', 'tasks?callback=%3Cimg%3E', 400, 'invalid_query'],
    ['GET', 'tasks?limit=0', 400, 'invalid_query'],
    ['GET', 'tasks?limit=1000', 400, 'invalid_query'],
    ['GET', 'tasks?cursor=not*a*cursor', 400, 'invalid_query'],
    ['GET', `tasks?cursor=${Buffer.from('{"t":"forged","s":0}').toString('base64url')}`, 400, 'invalid_query'],
    ['GET', `prompts?cursor=${Buffer.from('[]').toString('base64url')}`, 400, 'invalid_query'],
    ['GET', 'log?limit=x', 400, 'invalid_query'],
  ])('%s %s', async (method, path, status, code) => {
    expect(await op(method, path)).toMatchObject({ status, body: { error: { code, message: expect.any(String) } } });
  });

  it.each([
    ['no note', {}, 400, 'invalid_body'],
    ['an empty note', { note: '   ' }, 400, 'invalid_body'],
    ['a note over 500 characters', { note: 'x'.repeat(501) }, 400, 'invalid_body'],
    ['a note with a newline', { note: 'a\nb' }, 400, 'invalid_body'],
    ['not JSON', 'note', 400, 'invalid_json'],
  ])('an action with %s', async (_what, body, status, code) => {
    expect(await op('POST', `tasks/${anaTea}/cancel`, body)).toMatchObject({ status, body: { error: { code } } });
    expect(await stateOf(anaTea)).toBe('waiting');
  });

  it('an unknown action is a 404 naming the actions', async () => {
    expect(await op('POST', `tasks/${anaTea}/explode`, { note: 'x' })).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: expect.stringMatching(/cancel, pause, unpause \(resume\), fire or call/) } } });
  });
});

describe('start-up and settings', () => {
  let other: TestHost | undefined;
  const saved = process.env.WEBSITE_INSTANCE_ID;
  afterEach(async () => {
    await other?.dispose();
    other = undefined;
    if (saved === undefined) delete process.env.WEBSITE_INSTANCE_ID;
    else process.env.WEBSITE_INSTANCE_ID = saved;
  });

  it('on Azure a missing key stops the app, naming the setting and Key Vault', async () => {
    await expect(startGame({ WEBSITE_INSTANCE_ID: 'instance-1', GAME_PASSWORD_COST: '17', GAME_OPERATOR_KEY: '' })).rejects.toThrow(/GAME_OPERATOR_KEY is not set: .*Key Vault/);
  });

  it.each([
    ['a key under 32 bytes', 'x'.repeat(31), /GAME_OPERATOR_KEY is only 31 bytes; use at least 32 random bytes/],
    ['the placeholder', '<random-secret>', /GAME_OPERATOR_KEY is the placeholder "<random-secret>"/],
    ['the token secret', 'test-secret-0123456789abcdef0123456789', /GAME_OPERATOR_KEY is the same as GAME_TOKEN_SECRET/],
  ])('anywhere, %s stops the app', async (_what, key, message) => {
    delete process.env.WEBSITE_INSTANCE_ID;
    await expect(startGame({ GAME_OPERATOR_KEY: key })).rejects.toThrow(message);
  });

  it('locally without a key the app starts and every operator route says how to turn them on (403)', async () => {
    delete process.env.WEBSITE_INSTANCE_ID;
    other = await startGame({ GAME_OPERATOR_KEY: '' });
    for (const key of [undefined, OPERATOR_KEY]) {
      expect(await call(other, 'GET', '/api/operator/tasks', undefined, key)).toMatchObject({ status: 403, body: { error: { code: 'operators_disabled', message: expect.stringMatching(/local\.settings\.json/) } } });
    }
    const p = await Player.join(other, 'nokey');
    expect(await p.type('echo still plays')).toMatchObject({ ok: true });
  });
});

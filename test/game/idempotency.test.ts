// Idempotency-Key on POST /api/input: a repeated key gets the first answer and repeats nothing; a key reused with
// another line is a 422; a key still being handled is a 409 with Retry-After; and a retry of a request cut off by a
// crash (simulated: its first half run by the same code, then abandoned) finishes it without doing anything twice.
import { randomUUID } from 'node:crypto';
import type { DurableClient } from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { ClientRuntime } from '../../core/clientRuntime';
import { claimKeyed, firstNames, holdKey, keyedLine, releaseKeyed, type KeyedRequest } from '../../core/idempotency';
import { listPrompts } from '../../core/prompts';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';
import '../../game'; // registers the seed's commands with this process's core/ too (the host runs the built app)

let host: TestHost;
beforeAll(async () => {
  // The host sets its app settings (GAME_TABLE_PREFIX included) in this process, so core/ here sees its tables.
  host = await startGame();
});
afterAll(async () => host?.dispose());

interface Answer {
  status: number;
  body: Record<string, unknown>;
  replayed: string | null;
  retryAfter: string | null;
}

async function send(p: Player, text: string, key: string): Promise<Answer> {
  const res = await host.fetch('/api/input', {
    method: 'POST',
    headers: { authorization: `Bearer ${p.token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ text }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, replayed: res.headers.get('idempotent-replayed'), retryAfter: res.headers.get('retry-after') };
}

async function tasksOf(p: Player): Promise<TaskInfo[]> {
  return (await p.get('/api/tasks')).body.tasks as TaskInfo[];
}

/** Takes a key the way POST /api/input does for a command, as if the host had died a minute ago (lease over). */
function abandoned(p: Player, key: string, line: string): Promise<KeyedRequest> {
  return holdKey(keyedLine(p.player, key, line, Date.now() - 60_000));
}

describe('Idempotency-Key', () => {
  it('a repeated key gets the first answer again and does nothing twice', async () => {
    const p = await Player.join(host, 'idem1');
    const key = randomUUID();
    const first = await send(p, 'remind 60 tea', key);
    expect(first).toMatchObject({ status: 202, body: { kind: 'command', command: 'remind', ok: true }, replayed: null });
    const again = await send(p, 'remind 60 tea', key);
    expect(again).toMatchObject({ status: 202, body: first.body, replayed: 'true' });
    expect(await tasksOf(p)).toHaveLength(1);
    expect(await p.read()).toEqual([expect.stringMatching(/^I will remind you in 60 seconds \(task idem1\.delay\.[0-9a-f-]+\)\.$/)]);
    // A new key is a new line.
    await send(p, 'remind 60 tea', randomUUID());
    expect(await tasksOf(p)).toHaveLength(2);
    // Keys are per player: another player's same key is theirs.
    const q = await Player.join(host, 'idem2');
    expect(await send(q, 'echo mine', key)).toMatchObject({ status: 202, replayed: null });
    expect(await q.read()).toEqual(['mine']);
  });

  it('a command that said nothing keeps no answer: a repeat in the next 5 s is told to wait, and starts nothing', async () => {
    const p = await Player.join(host, 'idem9');
    const key = randomUUID();
    expect(await send(p, 'testdelay', key)).toMatchObject({ status: 202, body: { kind: 'command', command: 'testdelay', ok: true } });
    const again = await send(p, 'testdelay', key);
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'request_in_progress' } } });
    expect(Number(again.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(again.retryAfter)).toBeLessThanOrEqual(5);
    expect(await tasksOf(p)).toHaveLength(1);
  });

  it('an interactive command, an answer and a no-match line are each answered once per key', async () => {
    const p = await Player.join(host, 'idem3');
    const start = randomUUID();
    const started = await send(p, 'greet', start);
    expect(await send(p, 'greet', start)).toMatchObject({ status: 202, body: started.body, replayed: 'true' });
    await host.idle();
    expect(await p.read()).toEqual(['What is your name?']);
    const answer = randomUUID();
    const answered = await send(p, 'Ann', answer);
    expect(answered.body).toMatchObject({ kind: 'answer', instanceId: started.body.instanceId });
    await host.idle();
    // The prompt is closed now: without the key this repeat would be "Command 'Ann' is not available."
    expect(await send(p, 'Ann', answer)).toMatchObject({ status: 202, body: answered.body, replayed: 'true' });
    const nomatch = randomUUID();
    await send(p, 'xyzzy', nomatch);
    await send(p, 'xyzzy', nomatch);
    expect(await p.read()).toEqual(['Hello, Ann!', `Command 'xyzzy' is not available. Type "help" for help.`]);
  });

  it('a key used with another line is a 422; an empty or overlong key a 400', async () => {
    const p = await Player.join(host, 'idem4');
    const key = randomUUID();
    await send(p, 'echo one', key);
    expect(await send(p, 'echo two', key)).toMatchObject({
      status: 422,
      body: { error: { code: 'idempotency_key_reused', message: 'This Idempotency-Key was already used with a different line; send each typed line with a key of its own (and the same key only when resending that line).' } },
    });
    expect(await send(p, 'echo three', 'x'.repeat(256))).toMatchObject({ status: 400, body: { error: { code: 'invalid_idempotency_key' } } });
    expect(await send(p, 'echo four', '  ')).toMatchObject({ status: 400, body: { error: { code: 'invalid_idempotency_key' } } });
    expect(await p.read()).toEqual(['one']);
  });

  it('a key still being handled is a 409 request_in_progress with Retry-After', async () => {
    const p = await Player.join(host, 'idem5');
    const key = randomUUID();
    await holdKey(keyedLine(p.player, key, 'echo slow', Date.now())); // another request holds the key right now
    const r = await send(p, 'echo slow', key);
    expect(r).toMatchObject({ status: 409, body: { error: { code: 'request_in_progress' } } });
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(r.retryAfter)).toBeLessThanOrEqual(5);
    expect((r.body.error as { message: string }).message).toBe(`A request with this Idempotency-Key is still being handled; send it again in ${r.retryAfter} s to get its answer.`);
    expect(await p.read()).toEqual([]);
  });

  it('a limit refusal is the kept answer of its key', async () => {
    const p = await Player.join(host, 'idem6');
    const key = randomUUID();
    const first = await send(p, 'remind 36500d x', key);
    expect(first).toMatchObject({ status: 409, body: { error: { code: 'delay_too_long' } } });
    expect(await send(p, 'remind 36500d x', key)).toMatchObject({ status: 409, body: first.body });
  });
});

describe('a retry of a request cut off by a crash', () => {
  it('"no" that answered a prompt is still an answer, not "Command \'no\' is not available"', async () => {
    const p = await Player.join(host, 'idem7');
    await p.type('greet');
    await host.idle();
    expect(await p.read()).toEqual(['What is your name?']);
    // The first request claimed the prompt (taking its key with the answer, in one transaction) and died before
    // raising it.
    const key = randomUUID();
    const [prompt] = await listPrompts(p.player);
    const first = keyedLine(p.player, key, 'no', Date.now() - 60_000);
    expect(await claimKeyed(prompt, 'no', first, undefined, { result: { kind: 'answer', promptId: prompt.promptId, instanceId: prompt.instanceId } })).toBeDefined();
    const retry = await send(p, 'no', key);
    expect(retry).toMatchObject({ status: 202, body: { kind: 'answer', promptId: prompt.promptId }, replayed: 'true' });
    // The claimed answer is raised by recovery (any read of the prompts), exactly once.
    await p.get('/api/prompts');
    expect(await host.waitFor(prompt.instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'no' });
    expect(await p.read()).toEqual(['Hello, no!']);
  });

  it('an answer whose first request let its key go but could not undo its claim is still that answer on the retry, not "Command \'no\' is not available"', async () => {
    const p = await Player.join(host, 'idem11');
    await p.type('greet');
    await host.idle();
    expect(await p.read()).toEqual(['What is your name?']);
    // The first request claimed the prompt with its key's answer, failed to raise it, released the key, and storage
    // failed before the claim was undone (the claim is recent: no read of the prompts re-raises it yet).
    const key = randomUUID();
    const [prompt] = await listPrompts(p.player);
    const first = keyedLine(p.player, key, 'no', Date.now());
    expect(await claimKeyed(prompt, 'no', first, undefined, { result: { kind: 'answer', promptId: prompt.promptId, instanceId: prompt.instanceId } })).toBeDefined();
    expect(await releaseKeyed(firstNames(first))).toBe(true);
    const retry = await send(p, 'no', key);
    expect(retry).toMatchObject({ status: 202, body: { kind: 'answer', promptId: prompt.promptId } });
    expect(await host.waitFor(prompt.instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'no' });
    expect(await p.read()).toEqual(['Hello, no!']);
    // Its key keeps that answer.
    expect(await send(p, 'no', key)).toMatchObject({ status: 202, body: { kind: 'answer', promptId: prompt.promptId }, replayed: 'true' });
  });

  it('a command that asked its question and died: the retry is the same command, not the answer to that question', async () => {
    const p = await Player.join(host, 'idem10');
    const key = randomUUID();
    const request = await abandoned(p, key, 'waitloop');
    // The first request started `waitloop` under the key's name, which asked its question; the answer never went out.
    const runtime = new ClientRuntime(host.client() as unknown as DurableClient, undefined, { base: request.base, fresh: request.fresh });
    const id = await runtime.startCommand(p.player, 'waitloop', '');
    await host.advance('5s');
    expect((await listPrompts(p.player)).map((q) => q.instanceId)).toEqual([id]);
    const retry = await send(p, 'waitloop', key);
    expect(retry).toMatchObject({ status: 202, body: { kind: 'command', command: 'waitloop', instanceId: id } });
    // The question is still open, for the player's next line.
    expect((await listPrompts(p.player)).map((q) => q.instanceId)).toEqual([id]);
    expect((await send(p, 'no', randomUUID())).body).toMatchObject({ kind: 'answer', instanceId: id });
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed' });
    expect(await p.read()).toEqual(['Getting ready to wait ...', 'Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
  });

  it('remind that started its delay but never confirmed it: the retry confirms the same task', async () => {
    const p = await Player.join(host, 'idem8');
    const key = randomUUID();
    const request = await abandoned(p, key, 'remind 60 tea');
    // The first request got as far as starting the delay (under the name the key gives it), then died.
    const runtime = new ClientRuntime(host.client() as unknown as DurableClient, undefined, { base: request.base, fresh: request.fresh });
    const { id } = await runtime.start({ kind: 'delay', player: p.player, command: 'remind', callback: 'remind', args: ['tea'], ms: 60_000 });
    const retry = await send(p, 'remind 60 tea', key);
    expect(retry).toMatchObject({ status: 202, body: { kind: 'command', command: 'remind', ok: true }, replayed: null });
    expect(await p.read()).toEqual([`I will remind you in 60 seconds (task ${id}).`]);
    expect((await tasksOf(p)).map((t) => t.id)).toEqual([id]);
    expect(await send(p, 'remind 60 tea', key)).toMatchObject({ status: 202, body: retry.body, replayed: 'true' });
    await host.advance('60s');
    expect(await p.read()).toEqual(['Reminder: tea']);
  });
});

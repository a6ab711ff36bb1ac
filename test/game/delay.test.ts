// delay() task handles over HTTP: cancel, pause/unpause (remaining time preserved), fire now, exists/active via
// /api/tasks, remind's arguments, and call-site errors for bad callbacks and arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import type { DurableClient } from 'durable-functions';
import { ClientRuntime } from '../../core/clientRuntime';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

type Task = TaskInfo;

async function remind(p: Player, seconds: number, text: string): Promise<string> {
  await p.type(`remind ${seconds} ${text}`);
  const [reply] = await p.read();
  const m = /\(task (\S+)\)\.$/.exec(reply ?? '');
  expect(m, reply).toBeTruthy();
  return m![1];
}

async function task(p: Player, id: string): Promise<Task> {
  const r = await p.get('/api/tasks');
  expect(r.status).toBe(200);
  const found = (r.body.tasks as Task[]).find((t) => t.id === id);
  expect(found, `task ${id} in ${JSON.stringify(r.body)}`).toBeDefined();
  return found!;
}

describe('delay', () => {
  it('remind passes its text to the callback and lists the task until it fires', async () => {
    const p = await Player.join(host, 'rem1');
    const id = await remind(p, 60, 'tea is ready');
    await host.idle();
    expect(await task(p, id)).toMatchObject({ kind: 'delay', callback: 'remind', command: 'remind', state: 'waiting' });
    await host.advance('60s');
    expect(await p.read()).toEqual(['Reminder: tea is ready']);
    expect((await task(p, id)).state).toBe('fired');
  });

  it('cancel ends the task without running the callback', async () => {
    const p = await Player.join(host, 'rem2');
    const id = await remind(p, 30, 'never');
    const r = await p.post(`/api/tasks/${id}/cancel`);
    expect(r).toMatchObject({ status: 202, body: { id, action: 'cancel', accepted: true } });
    await host.idle();
    expect((await task(p, id)).state).toBe('cancelled');
    await host.advance('60s');
    expect(await p.read()).toEqual([]);
    // Acting on a finished task is a clear 409.
    expect(await p.post(`/api/tasks/${id}/fire`)).toMatchObject({ status: 409, body: { error: { code: 'task_finished' } } });
  });

  it('pause freezes the remaining time and unpause resumes with it', async () => {
    const p = await Player.join(host, 'rem3');
    const id = await remind(p, 10, 'paused one');
    await host.advance('4s');
    expect((await p.post(`/api/tasks/${id}/pause`)).status).toBe(202);
    await host.idle();
    expect(await task(p, id)).toMatchObject({ state: 'paused', remaining: 6 });
    await host.advance('1h');
    expect(await p.read()).toEqual([]);
    expect(await task(p, id)).toMatchObject({ state: 'paused', remaining: 6 });
    // pausing again changes nothing
    expect(await p.post(`/api/tasks/${id}/pause`)).toMatchObject({ status: 202, body: { accepted: false } });
    expect((await p.post(`/api/tasks/${id}/unpause`)).status).toBe(202);
    await host.idle();
    expect((await task(p, id)).state).toBe('waiting');
    await host.advance('5s');
    expect(await p.read()).toEqual([]);
    await host.advance('1s');
    expect(await p.read()).toEqual(['Reminder: paused one']);
  });

  it('fire runs the callback now and ends the task', async () => {
    const p = await Player.join(host, 'rem4');
    const id = await remind(p, 3600, 'right now');
    expect((await p.post(`/api/tasks/${id}/fire`)).status).toBe(202);
    await host.idle();
    expect(await p.read()).toEqual(['Reminder: right now']);
    expect((await task(p, id)).state).toBe('fired');
    await host.advance('2h');
    expect(await p.read()).toEqual([]);
  });

  it('a paused task can be fired or cancelled', async () => {
    const p = await Player.join(host, 'rem5');
    const a = await remind(p, 100, 'a');
    const b = await remind(p, 100, 'b');
    await p.post(`/api/tasks/${a}/pause`);
    await p.post(`/api/tasks/${b}/pause`);
    await host.idle();
    await p.post(`/api/tasks/${a}/fire`);
    await p.post(`/api/tasks/${b}/cancel`);
    await host.idle();
    expect(await p.read()).toEqual(['Reminder: a']);
    expect((await task(p, a)).state).toBe('fired');
    expect((await task(p, b)).state).toBe('cancelled');
  });

  it('exists/active and handles from game code (the tasks command, which asks first)', async () => {
    const p = await Player.join(host, 'rem6');
    const id = await remind(p, 50, 'x');
    const short = id.split('.')[2].slice(0, 8);
    await host.idle();
    await p.type(`tasks ${id} pause`);
    await host.idle();
    expect(await p.read()).toEqual([expect.stringMatching(new RegExp(`^Pause task ${short} \\(remind, fires in .+\\)\\? \\[Y\\]/N$`))]);
    await p.type('y');
    await host.idle();
    await p.type(`tasks ${id}`);
    expect(await p.read()).toEqual([`Task ${short} paused.`, `${short}  delay remind (from remind): paused with 50s left`]);
    await p.type(`tasks ${id} cancel`);
    await host.idle();
    expect(await p.read()).toEqual([`Cancel task ${short} (remind, paused with 50s left)? [Y]/N`]);
    await p.type('y');
    await host.idle();
    await p.type('tasks');
    expect(await p.read()).toEqual([`Task ${short} cancelled.`, `Your tasks:\n${short}  delay remind (from remind): cancelled`]);
  });

  it('ids are never reused', async () => {
    const p = await Player.join(host, 'rem7');
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const id = await remind(p, 1, `n${i}`);
      await host.advance('1s');
      expect(await p.read()).toEqual([`Reminder: n${i}`]);
      ids.add(id);
    }
    expect(ids.size).toBe(5);
  });

  it('an unregistered callback or non-JSON arguments fail at the call site with a clear message', async () => {
    const p = await Player.join(host, 'rem8');
    expect(await p.type('nocallback')).toMatchObject({ kind: 'command', ok: false });
    const [msg] = await p.read();
    expect(msg).toMatch(/"noSuchCallback", which is not a registered callback/);
    await p.type('notjson');
    const [msg2] = await p.read();
    expect(msg2).toMatch(/delay\(\) args\[0\] is an instance of Date .*only plain JSON/);
    expect((await p.get('/api/tasks')).body.tasks).toEqual([]);
  });

  it('a delay longer than a year (the default GAME_MAX_DELAY_SECONDS) is refused with 409 and starts nothing', async () => {
    const p = await Player.join(host, 'rem11');
    const r = await p.send('remind 36500d x');
    expect(r).toEqual({ status: 409, body: { error: { code: 'delay_too_long', message: 'A delay of 36500 days is longer than this game allows (365 days); use a shorter one.' } } });
    expect(await p.read()).toEqual([]);
    expect((await p.get('/api/tasks')).body.tasks).toEqual([]);
  });

  it('remind without arguments explains its usage', async () => {
    const p = await Player.join(host, 'rem9');
    await p.type('remind soon');
    expect(await p.read()).toEqual(['Usage: remind <seconds> <text>   e.g. remind 60 tea is ready   (or 5m, 2h, 1d)']);
  });
});

describe('task lists on the table store (instances listed by id prefix)', () => {
  let tableHost: TestHost;
  beforeAll(async () => {
    tableHost = await startGame({}, { storage: 'table' });
  });
  afterAll(async () => tableHost?.dispose());

  it("lists a player's own delays and jobs, newest first, never a player whose name starts the same", async () => {
    const ann = await Player.join(tableHost, 'ann');
    const anna = await Player.join(tableHost, 'anna');
    const first = await remind(ann, 60, 'one');
    await tableHost.advance('1s');
    const second = await remind(ann, 90, 'two');
    const hers = await remind(anna, 30, 'hers');
    await ann.type('waitloop'); // an interactive command: an instance of ann's, but not a task
    await tableHost.idle();
    const listed = (await ann.get('/api/tasks')).body.tasks as Task[];
    expect(listed.map((t) => t.id)).toEqual([second, first]);
    expect(listed[0]).toMatchObject({ kind: 'delay', callback: 'remind', command: 'remind', state: 'waiting' });
    expect(listed[0].remaining).toBeGreaterThan(85);
    expect(((await anna.get('/api/tasks')).body.tasks as Task[]).map((t) => t.id)).toEqual([hers]);
    expect(await anna.post(`/api/tasks/${first}/cancel`)).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
  });

  it('lists live tasks however old, and finished ones for a day after they finished', async () => {
    const p = await Player.join(tableHost, 'old1');
    const long = await remind(p, 7 * 24 * 3600, 'next week');
    await tableHost.advance('1s');
    const short = await remind(p, 1, 'soon');
    await tableHost.advance('1s');
    expect(await p.read()).toEqual(['Reminder: soon']);
    const runtime = (nowMs: number) => new ClientRuntime(tableHost.client() as unknown as DurableClient, () => nowMs);
    expect((await runtime(Date.now()).list('old1')).map((t) => [t.id, t.state])).toEqual([
      [short, 'fired'],
      [long, 'waiting'],
    ]);
    const twoDaysOn = await runtime(Date.now() + 2 * 24 * 3600_000).list('old1');
    expect(twoDaysOn.map((t) => [t.id, t.state])).toEqual([[long, 'waiting']]);
    // The week-long one fires: listed for a day after it finished, though created a week before.
    await tableHost.advance('7d');
    expect(await p.read()).toEqual(['Reminder: next week']);
    const hourAfter = await runtime(Date.now() + 7 * 24 * 3600_000 + 3600_000).list('old1');
    expect(hourAfter.map((t) => [t.id, t.state])).toEqual([[long, 'fired']]);
    expect(await runtime(Date.now() + 9 * 24 * 3600_000).list('old1')).toEqual([]);
  });

  it('pause then unpause sent at once (before the status shows the pause) leaves the delay running', async () => {
    const p = await Player.join(tableHost, 'rem10');
    const id = await remind(p, 10, 'quick');
    await tableHost.idle();
    for (let round = 0; round < 5; round++) {
      expect((await p.post(`/api/tasks/${id}/pause`)).status).toBe(202);
      expect((await p.post(`/api/tasks/${id}/unpause`)).status).toBe(202);
      await tableHost.idle();
      expect((await task(p, id)).state).toBe('waiting');
    }
    await tableHost.advance('10s');
    expect(await p.read()).toEqual(['Reminder: quick']);
  });
});

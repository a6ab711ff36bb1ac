// runAsync() over HTTP: success through atReturn (with kwargs), failure through atErr, a failing atReturn reaching
// atErr, the default errback (log with context, player told, status Failed), retries with backoff, cancel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

type Task = TaskInfo;

/** The "started <id>" line (the job's own messages may come before it: it starts before the command returns). */
function startedId(lines: string[]): { id: string; rest: string[] } {
  const line = lines.find((l) => l.startsWith('started '));
  expect(line, JSON.stringify(lines)).toBeDefined();
  return { id: line!.slice('started '.length), rest: lines.filter((l) => l !== line) };
}

async function onlyTask(p: Player): Promise<Task> {
  const tasks = (await p.get('/api/tasks')).body.tasks as Task[];
  expect(tasks).toHaveLength(1);
  return tasks[0];
}

describe('runAsync', () => {
  it('success calls atReturn with the result; the task shows it', async () => {
    const p = await Player.join(host, 'ok1');
    await p.type('asynccommand');
    await host.idle();
    expect(await p.read()).toEqual(['The final value is 500500']);
    expect(await onlyTask(p)).toMatchObject({ kind: 'async', callback: 'longRunningFunction', state: 'completed', result: 500500 });
  });

  it('failure calls atErr with the error; the task shows it handled', async () => {
    const p = await Player.join(host, 'err1');
    await p.type('asyncfail');
    await host.idle();
    expect(await p.read()).toEqual(['There was an error: the long-running function gave up']);
    expect(await onlyTask(p)).toMatchObject({ state: 'failed', error: 'the long-running function gave up' });
  });

  it('a failure inside atReturn reaches atErr (as in Evennia), with atErrKwargs', async () => {
    const p = await Player.join(host, 'err2');
    await p.type('asyncreturnfail');
    await host.idle();
    expect(await p.read()).toEqual(['echo: x', 'errback [atReturn]: atReturn broke']);
  });

  it('without atErr the default errback logs with instance id, function and player, tells the player, and fails the task', async () => {
    const p = await Player.join(host, 'err3');
    await p.type('asyncnoerr');
    await host.idle();
    const { id, rest } = startedId(await p.read());
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(rest).toEqual(["Background task 'devBoom' failed: boom"]);
    const logged = host.logs.find((l) => l.level === 'error' && l.message.includes(id) && l.message.includes("'devBoom'") && l.message.includes('err3'));
    expect(logged, JSON.stringify(host.logs.filter((l) => l.level === 'error').map((l) => l.message))).toBeDefined();
    expect(await onlyTask(p)).toMatchObject({ state: 'failed' });
    expect((await onlyTask(p)).error).toMatch(/devBoom.*boom/);
  });

  it('an atErr that throws falls back to the default errback: the player hears of both failures', async () => {
    const p = await Player.join(host, 'err4');
    await p.type('asyncerrfails');
    await host.idle();
    const { id, rest } = startedId(await p.read());
    const status = await host.waitFor(id);
    expect(status.runtimeStatus).toBe('Failed');
    expect(rest).toEqual(["Background task 'devBoom' failed: boom (and its errback 'devFailingReturn' failed too: atReturn broke)"]);
  });

  it('what a command says before starting a task is readable before anything the task says', async () => {
    const p = await Player.join(host, 'digger');
    await p.type('dig');
    await host.idle();
    const lines = await p.read();
    expect(lines[0]).toBe('You start digging...');
    expect(lines.slice(1).sort()).toEqual(['You keep digging.', 'echo: found gold']);
  });

  it('retries with backoff: two failures, then success on the third attempt', async () => {
    const p = await Player.join(host, 'retry1');
    await p.type('asyncretry 2');
    await host.idle();
    const { id, rest } = startedId(await p.read());
    expect(rest).toEqual(['attempt 1']);
    await host.advance('1999ms');
    expect(await p.read()).toEqual([]);
    await host.advance('1ms'); // first retry after 2 s
    expect(await p.read()).toEqual(['attempt 2']);
    await host.advance('3999ms');
    expect(await p.read()).toEqual([]);
    await host.advance('1ms'); // second retry after 2 s * 2
    expect(await p.read()).toEqual(['attempt 3', 'done after 3']);
    expect((await host.waitFor(id)).runtimeStatus).toBe('Completed');
  });

  it('retries exhausted: atErr gets the last error', async () => {
    const p = await Player.join(host, 'retry2');
    await p.type('asyncretry 5');
    await host.advance('10s');
    expect(startedId(await p.read()).rest).toEqual(['attempt 1', 'attempt 2', 'attempt 3', 'errback: attempt 3 failed']);
  });

  it('a running background job can be cancelled, but not paused', async () => {
    const p = await Player.join(host, 'retry3');
    await p.type('asyncretry 5');
    await host.idle();
    const { id, rest } = startedId(await p.read());
    expect(rest).toEqual(['attempt 1']);
    expect(await p.post(`/api/tasks/${id}/pause`)).toMatchObject({ status: 409, body: { error: { code: 'task_not_controllable' } } });
    expect(await p.post(`/api/tasks/${id}/cancel`)).toMatchObject({ status: 202, body: { accepted: true } });
    await host.idle();
    expect(await onlyTask(p)).toMatchObject({ state: 'cancelled' });
    await host.advance('10s');
    expect(await p.read()).toEqual([]);
  });
});

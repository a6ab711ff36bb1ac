// The in-game `tasks` command as Evennia's CmdTasks behaves: it asks "Cancel task … ? [Y]/N" before acting and acts
// only on yes; `tasks <callback> <action>` acts on all of the player's tasks of that callback; an unknown name or id
// says so; a misformed line gets the usage text, never an untrapped error. And call(): the callback runs now and the
// task still fires later (POST /api/tasks/{id}/call and `tasks <id> call`). Remaining times are read from the real
// clock (README: under the virtual clock they do not follow advance()), so questions are matched by their form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

async function remind(p: Player, seconds: number, text: string): Promise<string> {
  await p.type(`remind ${seconds} ${text}`);
  const [reply] = await p.read();
  return /\(task (\S+)\)\.$/.exec(reply)![1];
}

async function tasks(p: Player): Promise<TaskInfo[]> {
  const r = await p.get('/api/tasks');
  expect(r.status).toBe(200);
  return r.body.tasks as TaskInfo[];
}

const stateOf = async (p: Player, id: string) => (await tasks(p)).find((t) => t.id === id)?.state;
const short = (id: string) => id.split('.')[2].slice(0, 8);
/** A remaining time as the command shows it: "4m 10s", "1h 2m", "59s". */
const TIME = String.raw`(?:\d+[dhm] )?\d+[dhms]`;

/** Types a line and reads what it said once the work it started has settled. */
async function say(p: Player, text: string): Promise<string[]> {
  const r = await p.type(text);
  expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
  await host.idle();
  return p.read();
}

describe('tasks <id> <action> asks first', () => {
  it('cancel asks "Cancel task … (remind, fires in …)? [Y]/N"; "n" keeps the task, "y" cancels it', async () => {
    const p = await Player.join(host, 'tk1');
    const id = await remind(p, 250, 'tea');
    expect(await say(p, `tasks ${id} cancel`)).toEqual([expect.stringMatching(new RegExp(`^Cancel task ${short(id)} \\(remind, fires in ${TIME}\\)\\? \\[Y\\]/N$`))]);
    expect((await p.get('/api/prompts')).body.prompts).toHaveLength(1);
    expect(await stateOf(p, id)).toBe('waiting');

    expect(await p.type('n')).toMatchObject({ kind: 'answer' });
    await host.idle();
    expect(await p.read()).toEqual(['No cancel processed.']);
    expect(await stateOf(p, id)).toBe('waiting');

    // The short id, and the action first (Evennia's order), work too.
    expect(await say(p, `tasks cancel ${short(id).slice(0, 4)}`)).toEqual([expect.stringMatching(new RegExp(`^Cancel task \\w{8} \\(remind, fires in ${TIME}\\)\\? \\[Y\\]/N$`))]);
    expect(await p.type('y')).toMatchObject({ kind: 'answer' });
    await host.idle();
    expect(await p.read()).toEqual([`Task ${short(id)} cancelled.`]);
    expect(await stateOf(p, id)).toBe('cancelled');
    await host.advance('300s');
    expect(await p.read()).toEqual([]);
  });

  it('pause, unpause and fire ask too, and act on yes; the list shows where each task stands', async () => {
    const p = await Player.join(host, 'tk2');
    const id = await remind(p, 90, 'bread');
    expect(await say(p, `tasks ${id} pause`)).toEqual([expect.stringMatching(new RegExp(`^Pause task \\w{8} \\(remind, fires in ${TIME}\\)\\? \\[Y\\]/N$`))]);
    await p.type('yes');
    await host.idle();
    expect(await p.read()).toEqual([`Task ${short(id)} paused.`]);
    expect(await say(p, 'tasks')).toEqual([expect.stringMatching(new RegExp(`^Your tasks:\\n${short(id)}  delay remind \\(from remind\\): paused with 1m \\d+s left$`))]);
    expect(await say(p, `tasks ${short(id)} unpause`)).toEqual([expect.stringMatching(/^Unpause task \w{8} \(remind, paused with 1m \d+s left\)\? \[Y\]\/N$/)]);
    await p.type('Y');
    await host.idle();
    expect(await p.read()).toEqual([`Task ${short(id)} resumed.`]);
    expect(await say(p, `tasks fire ${short(id)}`)).toEqual([expect.stringMatching(new RegExp(`^Fire task \\w{8} \\(remind, fires in ${TIME}\\)\\? \\[Y\\]/N$`))]);
    await p.type('y');
    await host.idle();
    // The task's callback runs beside the confirming command: either may speak first.
    expect([...(await p.read())].sort()).toEqual(['Reminder: bread', `Task ${short(id)} fires now.`]);
    expect(await stateOf(p, id)).toBe('fired');
  });

  it('a task that finished while the question waited is reported, not acted on', async () => {
    const p = await Player.join(host, 'tk3');
    const id = await remind(p, 30, 'soon');
    await say(p, `tasks ${id} cancel`);
    await host.advance('30s');
    expect(await p.read()).toEqual(['Reminder: soon']);
    await p.type('y');
    await host.idle();
    expect(await p.read()).toEqual([`Task ${short(id)} completed while waiting for input.`]);
    expect(await stateOf(p, id)).toBe('fired');
  });
});

describe('tasks <callback> <action>', () => {
  it("acts on all of the player's tasks deferring that callback, and only on them", async () => {
    const p = await Player.join(host, 'tk4');
    const a = await remind(p, 100, 'a');
    const b = await remind(p, 200, 'b');
    await say(p, 'testdelay');
    const other = (await tasks(p)).find((t) => t.callback === 'sayTest')!;
    expect(await say(p, 'tasks remind cancel')).toEqual([expect.stringMatching(new RegExp(`^Cancel 2 tasks of remind \\(\\w{8} fires in ${TIME}, \\w{8} fires in ${TIME}\\)\\? \\[Y\\]/N$`))]);
    await p.type('y');
    await host.idle();
    expect([...(await p.read())].sort()).toEqual([`Task ${short(a)} cancelled.`, `Task ${short(b)} cancelled.`].sort());
    expect(await stateOf(p, a)).toBe('cancelled');
    expect(await stateOf(p, b)).toBe('cancelled');
    expect(await stateOf(p, other.id)).toBe('waiting');
  });

  it('an unknown callback name or id says so', async () => {
    const p = await Player.join(host, 'tk5');
    await remind(p, 100, 'x');
    expect(await say(p, 'tasks nosuchthing cancel')).toEqual(['No tasks deferring function name nosuchthing found.']);
    expect(await say(p, 'tasks sayTest pause')).toEqual(['No tasks deferring function name sayTest found.']);
    expect(await say(p, 'tasks 00000000 cancel')).toEqual(['Task 00000000 does not exist.']);
    expect(await say(p, 'tasks tk5.delay.00000000-0000-0000-0000-000000000000 fire')).toEqual(['Task tk5.delay.00000000-0000-0000-0000-000000000000 does not exist.']);
    expect((await p.get('/api/prompts')).body.prompts).toEqual([]);
  });

  it('a background job can only be cancelled, and says so instead of asking', async () => {
    const p = await Player.join(host, 'tk6');
    await p.type('asynccommand');
    await host.idle();
    await p.read();
    const [job] = await tasks(p);
    expect(await say(p, `tasks ${job.id} pause`)).toEqual([`Task ${short(job.id)} is a background job: it can be cancelled, but not paused, unpaused, fired or called.`]);
    expect(await say(p, `tasks ${job.id} cancel`)).toEqual([`Task ${short(job.id)} has already finished (completed).`]);
    expect((await p.get('/api/prompts')).body.prompts).toEqual([]);
  });
});

describe('misformed lines', () => {
  it.each(['tasks cancel', 'tasks pause', 'tasks info', 'tasks a b', 'tasks 1 cancel now'])('%s gets the usage text, never an untrapped error', async (line) => {
    const p = await Player.join(host, `tk7${line.replace(/\W/g, '').slice(5, 20)}`);
    const lines = await say(p, line);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Task command misformed\.\nUsage: tasks {2,}list your tasks\n/);
    expect(lines[0]).not.toMatch(/untrapped/);
  });
});

describe('call(): the callback runs now and the task still fires later', () => {
  it('POST /api/tasks/{id}/call', async () => {
    const p = await Player.join(host, 'tk8');
    const id = await remind(p, 60, 'twice');
    const r = await p.post(`/api/tasks/${id}/call`);
    expect(r).toMatchObject({ status: 202, body: { id, action: 'call', accepted: true } });
    await host.idle();
    expect(await p.read()).toEqual(['Reminder: twice']);
    expect(await stateOf(p, id)).toBe('waiting');
    await host.advance('59s');
    expect(await p.read()).toEqual([]);
    await host.advance('1s');
    expect(await p.read()).toEqual(['Reminder: twice']);
    expect(await stateOf(p, id)).toBe('fired');
  });

  it('tasks <id> call, and a paused task stays paused after a call', async () => {
    const p = await Player.join(host, 'tk9');
    const id = await remind(p, 60, 'ping');
    await p.post(`/api/tasks/${id}/pause`);
    await host.idle();
    expect(await say(p, `tasks ${id} call`)).toEqual([expect.stringMatching(/^Call task \w{8} \(remind, paused with 1m left\)\? \[Y\]\/N$/)]);
    await p.type('y');
    await host.idle();
    expect([...(await p.read())].sort()).toEqual(['Reminder: ping', `Task ${short(id)} calls its callback now and keeps waiting.`]);
    expect(await stateOf(p, id)).toBe('paused');
    await host.advance('2h');
    expect(await p.read()).toEqual([]);
    await p.post(`/api/tasks/${id}/unpause`);
    await host.advance('60s');
    expect(await p.read()).toEqual(['Reminder: ping']);
  });

  it('a background job cannot be called (409)', async () => {
    const p = await Player.join(host, 'tk10');
    await p.type('asynccommand');
    await host.idle();
    const [job] = await tasks(p);
    expect(await p.post(`/api/tasks/${job.id}/call`)).toMatchObject({ status: 409, body: { error: { code: 'task_not_controllable' } } });
  });
});

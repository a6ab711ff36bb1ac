// Exactly-once effects of callbacks: activities run at least once (on Azure, and in devhost's crash recovery), so a
// callback activity run again with the same input must write no message and start no task or command twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { clientBinding } from '../../devhost/durable/api';
import { Invoker } from '../../devhost/invoke';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

/**
 * Runs the activity `activity` of instance `instanceId` once more, with the input its orchestration scheduled it
 * with (read from the instance history), as a host does that lost the activity's completion in a crash.
 */
async function rerun(instanceId: string, activity: string): Promise<unknown> {
  const res = await host.fetch(`/runtime/webhooks/durabletask/instances/${instanceId}?showHistory=true&showHistoryOutput=true&showInput=true`);
  const status = (await res.json()) as { historyEvents: { EventType: string; FunctionName?: string; Input?: unknown }[] };
  const done = status.historyEvents.filter((e) => e.EventType === 'TaskCompleted' && e.FunctionName === activity);
  expect(done, `${activity} completed once in ${instanceId}`).toHaveLength(1);
  const fn = host.host.app.registry.get(activity, 'activity');
  if (!fn) throw new Error(`no activity ${activity}`);
  const invoker = new Invoker(host.host.app, () => undefined);
  const { result } = await invoker.invoke(fn, done[0].Input, { triggerMetadata: { instanceId }, clientBinding: () => clientBinding(host.url, host.host.taskHub) });
  return result;
}

async function tasksOf(p: Player): Promise<TaskInfo[]> {
  const r = await p.get('/api/tasks');
  expect(r.status).toBe(200);
  return r.body.tasks as TaskInfo[];
}

describe('a callback activity run twice', () => {
  it('says, starts a delay and starts a command only once', async () => {
    const p = await Player.join(host, 'twice1');
    await p.type('chain link');
    const [chainTask] = await tasksOf(p);
    expect(chainTask).toMatchObject({ callback: 'devChain', state: 'waiting' });
    await host.advance('5s');
    const said = await p.read();
    const started = (await tasksOf(p)).find((t) => t.callback === 'devEcho');
    expect(started).toMatchObject({ state: 'waiting' });
    expect([...said].sort()).toEqual(['What is your name?', 'chain: after ' + started!.id, 'chain: before link'].sort());
    const prompts = (await p.get('/api/prompts')).body.prompts as unknown[];
    expect(prompts).toHaveLength(1);

    await rerun(chainTask.id, 'cb_devChain');
    await host.idle();
    expect(await p.read()).toEqual([]);
    expect((await tasksOf(p)).map((t) => t.id).sort()).toEqual([chainTask.id, started!.id].sort());
    expect((await p.get('/api/prompts')).body.prompts).toEqual(prompts);

    // The one delay fires once; the one greeting takes the answer.
    await host.advance('60s');
    expect(await p.read()).toEqual(['echo: link']);
    await p.type('Ann');
    await host.idle();
    expect(await p.read()).toEqual(['Hello, Ann!']);
  });

  it('the same for a runAsync function', async () => {
    const p = await Player.join(host, 'twice2');
    await p.type('chainasync rope');
    await host.idle();
    const job = (await tasksOf(p)).find((t) => t.kind === 'async');
    const started = (await tasksOf(p)).find((t) => t.callback === 'devEcho');
    expect(job).toMatchObject({ callback: 'devChain', state: 'completed' });
    expect([...(await p.read())].sort()).toEqual(['What is your name?', 'chain: after ' + started!.id, 'chain: before rope'].sort());

    await rerun(job!.id, 'cb_devChain');
    await host.idle();
    expect(await p.read()).toEqual([]);
    expect(await tasksOf(p)).toHaveLength(2);
    expect((await p.get('/api/prompts')).body.prompts).toHaveLength(1);
  });

  it('a runAsync function that said its lines while it ran (longjob) says none of them again, and its result is the same', async () => {
    const p = await Player.join(host, 'twice3');
    await p.type('longjob 3 0');
    await host.idle();
    const job = (await tasksOf(p)).find((t) => t.kind === 'async');
    expect(job).toMatchObject({ callback: 'longJob', state: 'completed', result: 14 });
    // The job may say its first lines before the command's own reply is written: it runs as soon as it starts.
    const said = (await p.read()).filter((line) => !line.startsWith('longjob started'));
    expect(said).toEqual(['longjob: step 1 of 3 done.', 'longjob: step 2 of 3 done.', 'longjob: step 3 of 3 done.', 'longjob finished: the sum of the squares is 14.']);

    expect(await rerun(job!.id, 'cb_longJob')).toBe(14);
    await host.idle();
    expect(await p.read()).toEqual([]);
  });
});

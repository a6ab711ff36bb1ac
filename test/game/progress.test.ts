// Progress from background work: `longjob` (a runAsync function that calls ctx.progress and says a line per step)
// shows its progress moving in GET /api/tasks while it runs, and its lines arrive before it ends. The job's steps take
// real time (activities run in real time, whatever the virtual clock does), so the test waits for each condition.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TestHost } from '../../devhost';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

const UNTIL = { timeout: 20_000, interval: 50 };

async function taskOf(p: Player, id: string): Promise<TaskInfo> {
  const r = await p.get('/api/tasks');
  expect(r.status).toBe(200);
  const found = (r.body.tasks as TaskInfo[]).find((t) => t.id === id);
  expect(found).toBeDefined();
  return found!;
}

describe('progress from background work', () => {
  it('longjob shows its progress moving in /api/tasks, and its lines arrive while it runs', async () => {
    const p = await Player.join(host, 'prog1');
    await p.type('longjob 4 1');
    const [started] = await p.read();
    const id = /\(task (\S+)\)/.exec(started)![1];
    expect(started).toBe(`longjob started (task ${id}): 4 steps of 1 s. Type "tasks" to see how far it is.`);

    // A step's line is readable while the job still runs, and the task shows how far it is.
    const said: string[] = [];
    const first = await vi.waitFor(async () => {
      said.push(...(await p.read()));
      expect(said).toContain('longjob: step 1 of 4 done.');
      const t = await taskOf(p, id);
      expect(t.progress?.fraction).toBeGreaterThan(0);
      return t;
    }, UNTIL);
    expect(first).toMatchObject({ kind: 'async', callback: 'longJob', state: 'running', progress: { note: expect.stringMatching(/^\d of 4 steps$/) } });
    expect(first.progress!.fraction).toBeLessThan(1);
    expect(Date.parse(first.progress!.updatedAt)).not.toBeNaN();

    // Later it is further along, still running.
    const later = await vi.waitFor(async () => {
      const t = await taskOf(p, id);
      expect(t.progress?.fraction).toBeGreaterThan(first.progress!.fraction);
      return t;
    }, UNTIL);
    expect(later.state).toBe('running');

    // The tasks command shows it too.
    await p.type('tasks');
    const lines = await p.read();
    const listing = lines.find((l) => l.startsWith('Your tasks:'));
    said.push(...lines.filter((l) => l !== listing));
    expect(listing).toMatch(new RegExp(`^Your tasks:\\n${id.split('.')[2].slice(0, 8)}  async longJob \\(from longjob\\): (running, \\d+% \\(\\d of 4 steps\\))$`));

    await host.waitFor(id);
    said.push(...(await p.read()));
    expect(said).toEqual(['longjob: step 1 of 4 done.', 'longjob: step 2 of 4 done.', 'longjob: step 3 of 4 done.', 'longjob: step 4 of 4 done.', 'longjob finished: the sum of the squares is 30.']);
    const done = await taskOf(p, id);
    expect(done).toMatchObject({ state: 'completed', result: 30 });
    expect(done.progress).toBeUndefined();
  });

  it('longjob with a misformed line gets its usage and starts nothing', async () => {
    const p = await Player.join(host, 'prog2');
    for (const line of ['longjob many', 'longjob 0', 'longjob 5 -1', 'longjob 1 2 3']) {
      await p.type(line);
      expect(await p.read()).toEqual([expect.stringMatching(/^Usage: longjob \[steps\] \[seconds per step\]/)]);
    }
    expect((await p.get('/api/tasks')).body.tasks).toEqual([]);
  });

  it('ctx.progress() outside a runAsync function, or with a fraction outside 0..1, fails where it is called', async () => {
    const p = await Player.join(host, 'prog3');
    await p.type('progressmisuse delay');
    await host.advance('1s');
    expect(await p.read()).toEqual([expect.stringMatching(/^Your delayed task 'devProgressMisuse' failed: ctx\.progress\(\) reports on the function a runAsync\(\) runs; callback 'devProgressMisuse' runs here as a delay callback/)]);
    await p.type('progressmisuse async');
    await host.idle();
    expect(await p.read()).toEqual(["Background task 'devProgressMisuse' failed: ctx.progress() takes a fraction from 0 to 1 (0.25 is a quarter done), got 1.5."]);
  });
});

// Per-player limits with clear answers, over HTTP: live tasks and running interactive commands are capped (409 with a
// message the player can act on), a delay may not be longer than GAME_MAX_DELAY_SECONDS, and a limit reached inside
// an interactive command or a callback throws a GameError the game code can catch, or tells the player.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import type { TaskInfo } from '../../core/tasks';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame({ GAME_MAX_TASKS_PER_PLAYER: '3', GAME_MAX_COMMANDS_PER_PLAYER: '2', GAME_MAX_DELAY_SECONDS: '86400' });
});
afterAll(async () => host?.dispose());

async function tasksOf(p: Player): Promise<TaskInfo[]> {
  const r = await p.get('/api/tasks');
  expect(r.status).toBe(200);
  return r.body.tasks as TaskInfo[];
}

describe('live tasks per player', () => {
  it('the task over the cap is refused with 409 too_many_tasks; cancelling one makes room', async () => {
    const p = await Player.join(host, 'capper');
    for (const n of [1, 2, 3]) await p.type(`remind 600 tea ${n}`);
    expect(await p.read()).toHaveLength(3);
    const refused = await p.send('remind 600 tea 4');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: {
        code: 'too_many_tasks',
        message:
          'You have 3 delays and background jobs waiting or running; one player may have at most 3. Cancel one ("tasks <id> cancel", or POST /api/tasks/<id>/cancel) or wait until one finishes, then try again.',
      },
    });
    expect(await p.read()).toEqual([]);
    const tasks = await tasksOf(p);
    expect(tasks).toHaveLength(3);
    // Other players are not affected.
    const other = await Player.join(host, 'capfree');
    expect(await other.type('remind 600 mine')).toMatchObject({ kind: 'command', ok: true });

    expect((await p.post(`/api/tasks/${tasks[0].id}/cancel`)).status).toBe(202);
    await host.idle();
    expect(await p.type('remind 600 tea 5')).toMatchObject({ kind: 'command', ok: true });
    expect(await p.read()).toEqual([expect.stringMatching(/^I will remind you in 600 seconds \(task capper\.delay\./)]);
    // Fired tasks no longer count either.
    await host.advance('600s');
    expect(await p.read()).toHaveLength(3);
    for (const n of [6, 7, 8]) await p.type(`remind 60 again ${n}`);
    expect((await tasksOf(p)).filter((t) => t.state === 'waiting')).toHaveLength(3);
  });

  it('inside an interactive command the refusal is a GameError the command can catch', async () => {
    const p = await Player.join(host, 'capint');
    for (const n of [1, 2, 3]) await p.type(`remind 600 tea ${n}`);
    await p.read();
    await p.type('ilimit');
    await host.idle();
    expect(await p.read()).toEqual([expect.stringMatching(/^caught too_many_tasks: You have 3 delays and background jobs waiting or running; one player may have at most 3\./)]);
    expect(await tasksOf(p)).toHaveLength(3);
  });

  it('a callback that hits the cap fails, and the player is told why', async () => {
    const p = await Player.join(host, 'capcb');
    await p.type('chain first'); // a delay whose callback starts another delay (and a greet)
    await p.type('remind 600 one');
    await p.type('remind 600 two');
    await p.read();
    await host.advance('5s');
    const said = await p.read();
    expect(said[0]).toBe('chain: before first');
    expect(said).toContain(
      "Your delayed task 'devChain' failed: You have 3 delays and background jobs waiting or running; one player may have at most 3. Cancel one (\"tasks <id> cancel\", or POST /api/tasks/<id>/cancel) or wait until one finishes, then try again.",
    );
    expect((await tasksOf(p)).filter((t) => t.state === 'waiting')).toHaveLength(2);
  });
});

describe('running interactive commands per player', () => {
  it('a typed command over the cap is refused with 409 too_many_commands, and one started by a callback fails', async () => {
    const p = await Player.join(host, 'cmdcap');
    await p.type('waitloop');
    await p.type('waitloop');
    const refused = await p.send('dftimer');
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({
      error: {
        code: 'too_many_commands',
        message:
          'You have 2 commands running that wait for time or for your answer; one player may have at most 2. Answer or finish one first (GET /api/prompts shows what you are being asked), then try again.',
      },
    });
    await p.type('chain x'); // its callback starts a greet in 5 s
    await host.advance('5s');
    const said = await p.read();
    expect(said).toContain(
      "Your delayed task 'devChain' failed: You have 2 commands running that wait for time or for your answer; one player may have at most 2. Answer or finish one first (GET /api/prompts shows what you are being asked), then try again.",
    );
    expect(said).not.toContain('What is your name?');
    // Finishing them makes room (each 'no' answers the newest question and ends that waitloop).
    expect(await p.type('no')).toMatchObject({ kind: 'answer' });
    expect(await p.type('no')).toMatchObject({ kind: 'answer' });
    await host.idle();
    expect(await p.type('dftimer')).toMatchObject({ kind: 'command', ok: true });
  });
});

describe('longest delay', () => {
  it('a delay longer than GAME_MAX_DELAY_SECONDS is refused with 409 delay_too_long and starts nothing', async () => {
    const p = await Player.join(host, 'longer');
    const r = await p.send('remind 2d next week');
    expect(r).toEqual({ status: 409, body: { error: { code: 'delay_too_long', message: 'A delay of 2 days is longer than this game allows (1 day); use a shorter one.' } } });
    expect(await p.read()).toEqual([]);
    expect(await tasksOf(p)).toEqual([]);
    expect(await p.type('remind 1d tomorrow')).toMatchObject({ kind: 'command', ok: true });
    await p.type('ilimit 25h');
    await host.idle();
    expect((await p.read()).slice(1)).toEqual(['caught delay_too_long: A delay of 25 hours is longer than this game allows (1 day); use a shorter one.']);
  });
});

// A delay survives a restart of the host: the app runs on the devhost's table store (Azurite), the host is
// stopped while a reminder and an interactive prompt wait, a new host starts on the same task hub and tables,
// and the reminder fires and the prompt still takes the player's answer.
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../../devhost';
import { APP_DIR, Player, SECRET } from './harness';

function start(taskHub: string, prefix: string): Promise<TestHost> {
  return startTestHost({
    appDir: APP_DIR,
    storage: 'table',
    clock: 'virtual',
    taskHub,
    env: { AzureWebJobsStorage: process.env.AzureWebJobsStorage!, GAME_TOKEN_SECRET: SECRET, GAME_DEV_COMMANDS: '1', GAME_TABLE_PREFIX: prefix },
  });
}

it('a delay and an open prompt survive a restart of the host (table store)', async () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 12);
  const taskHub = `Restart${id}`;
  const prefix = `r${id}`;
  let host = await start(taskHub, prefix);
  try {
    const before = await Player.join(host, 'sleeper');
    await before.type('remind 60 stretch your legs');
    expect((await before.read())[0]).toMatch(/^I will remind you in 60 seconds \(task \S+\)\.$/);
    await before.type('greet');
    await host.idle();
    expect(await before.read()).toEqual(['What is your name?']);
    await host.advance('30s');
    expect(await before.read()).toEqual([]);
    await host.dispose();

    host = await start(taskHub, prefix);
    const after = new Player(host, 'sleeper');
    expect((await after.signIn()).status).toBe(200);
    await host.idle();
    await after.read(); // everything said before the restart
    expect(await after.type('Ana')).toMatchObject({ kind: 'answer' });
    await host.idle();
    expect(await after.read()).toEqual(['Hello, Ana!']);
    await host.advance('60s');
    expect(await after.read()).toEqual(['Reminder: stretch your legs']);
  } finally {
    await host.dispose();
  }
});

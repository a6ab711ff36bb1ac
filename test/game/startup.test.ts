// Start-up settings: on Azure (WEBSITE_INSTANCE_ID set) a missing GAME_TOKEN_SECRET stops the app with a clear
// error; locally the app starts with a generated secret and tokens work for the life of the process.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

const saved = { ...process.env };
let host: TestHost | undefined;
afterEach(async () => {
  await host?.dispose();
  host = undefined;
  for (const key of ['WEBSITE_INSTANCE_ID', 'GAME_TOKEN_SECRET']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

describe('start-up', () => {
  it('refuses to start on Azure without GAME_TOKEN_SECRET, naming the setting and the fix', async () => {
    await expect(startGame({ WEBSITE_INSTANCE_ID: 'instance-1', GAME_TOKEN_SECRET: '' })).rejects.toThrow(/GAME_TOKEN_SECRET is not set.*app setting/);
  });

  it('starts locally without GAME_TOKEN_SECRET using a generated secret', async () => {
    delete process.env.WEBSITE_INSTANCE_ID;
    host = await startGame({ GAME_TOKEN_SECRET: '' });
    const p = await Player.join(host, 'localuser');
    expect(await p.type('echo works')).toMatchObject({ kind: 'command' });
    expect(await p.read()).toEqual(['works']);
  });
});

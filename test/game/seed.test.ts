// Each example of the seed page, driven over HTTP as a player would, produces exactly the seed's messages in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

describe.each(['memory', 'table'] as const)('seed examples (%s store)', (storage) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startGame({}, { storage });
  });
  afterAll(async () => host?.dispose());

  it('testdelay says "Test!" after 10 seconds, not before', async () => {
    const p = await Player.join(host, `delayer-${storage}`);
    expect(await p.type('testdelay')).toMatchObject({ kind: 'command', command: 'testdelay', ok: true });
    await host.advance('9s');
    expect(await p.read()).toEqual([]);
    await host.advance('1s');
    expect(await p.read()).toEqual(['Test!']);
  });

  it('asynccommand reports the final value through atReturn', async () => {
    const p = await Player.join(host, `asyncer-${storage}`);
    await p.type('asynccommand');
    await host.idle();
    expect(await p.read()).toEqual(['The final value is 500500']);
  });

  it('asyncfail reports the error through atErr', async () => {
    const p = await Player.join(host, `failer-${storage}`);
    await p.type('asyncfail');
    await host.idle();
    expect(await p.read()).toEqual(['There was an error: the long-running function gave up']);
  });

  it('waitloop waits 5 s, asks, loops on yes/y and ends on anything else', async () => {
    const p = await Player.join(host, `waiter-${storage}`);
    const started = await p.type('waitloop');
    expect(started).toMatchObject({ kind: 'command', command: 'waitloop' });
    await host.idle();
    expect(await p.read()).toEqual(['Getting ready to wait ...']);
    await host.advance('4s');
    expect(await p.read()).toEqual([]);
    await host.advance('1s');
    expect(await p.read()).toEqual(['Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    expect(await p.type('Y')).toMatchObject({ kind: 'answer' });
    await host.idle();
    expect(await p.read()).toEqual(['Getting ready to wait ...']);
    await host.advance('5s');
    expect(await p.read()).toEqual(['Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    await p.type('no');
    const status = await host.waitFor(String(started.instanceId));
    expect(status.runtimeStatus).toBe('Completed');
    expect(await p.read()).toEqual([]);
  });
});

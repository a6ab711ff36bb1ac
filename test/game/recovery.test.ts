// Prompt recovery: an answer claimed but never raised (the process died between the two writes) is re-raised on
// the next read, or taken from the claim by the instance's own timeout check; a prompt whose instance is gone never
// swallows a line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { claimPrompt, listPrompts } from '../../core/prompts';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  // The host sets its app settings (GAME_TABLE_PREFIX included) in this process, so core/prompts here sees its tables.
  host = await startGame();
});
afterAll(async () => host?.dispose());

describe('prompt recovery', () => {
  it('a claimed but unraised answer is re-raised by the next read of the prompts', async () => {
    const p = await Player.join(host, 'crashy');
    const { instanceId } = await p.type('greet');
    await host.idle();
    const [prompt] = await listPrompts(p.player);
    // Simulate a crash right after the claim: the row says claimed, no event was raised.
    expect(await claimPrompt(prompt, 'Recovered', Date.now() - 5000)).toBeDefined();
    expect((await host.client().getStatus(String(instanceId))).runtimeStatus).toBe('Running');
    expect((await p.get('/api/prompts')).body.prompts).toEqual([]);
    const status = await host.waitFor(String(instanceId));
    expect(status).toMatchObject({ runtimeStatus: 'Completed', output: 'Recovered' });
    expect(await p.read()).toEqual(['What is your name?', 'Hello, Recovered!']);
    expect(await listPrompts(p.player)).toEqual([]);
  });

  it('the same recovery happens on the next typed line, which then runs as a command', async () => {
    const p = await Player.join(host, 'crashy2');
    const { instanceId } = await p.type('greet');
    await host.idle();
    await claimPrompt((await listPrompts(p.player))[0], 'Again', Date.now() - 5000);
    expect(await p.type('echo next')).toMatchObject({ kind: 'command', command: 'echo' });
    expect(await host.waitFor(String(instanceId))).toMatchObject({ output: 'Again' });
  });

  it("a timed prompt whose claim was never raised is answered from the claim by the instance's own check, with no read by the player", async () => {
    const p = await Player.join(host, 'crashy3');
    const { instanceId } = await p.type('greet 30');
    await host.idle();
    expect(await claimPrompt((await listPrompts(p.player))[0], 'Stored', Date.now() - 5000)).toBeDefined();
    await host.advance('31s'); // the timeout fires: its check finds the claim and takes the stored answer
    expect(await host.client().getStatus(String(instanceId))).toMatchObject({ runtimeStatus: 'Completed', output: 'Stored' });
    expect(await p.read()).toEqual(['What is your name?', 'Hello, Stored!']);
    expect(await listPrompts(p.player)).toEqual([]);
  });

  it("a prompt whose instance was terminated is dropped and the line runs as a command", async () => {
    const p = await Player.join(host, 'orphan');
    const { instanceId } = await p.type('greet');
    await host.idle();
    await host.client().terminate(String(instanceId), 'operator');
    await host.idle();
    expect(await p.type('echo still here')).toMatchObject({ kind: 'command', command: 'echo' });
    expect(await p.read()).toEqual(['What is your name?', 'still here']);
    expect(await listPrompts(p.player)).toEqual([]);
  });
});

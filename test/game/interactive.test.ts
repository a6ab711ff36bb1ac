// interactive() over HTTP: timers, prompts and their routing, prompt timeouts, bad yields, return values, Durable
// tasks passed through, the bounded loop form, and 100 racing pairs of answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from './harness';

let host: TestHost;
beforeAll(async () => {
  host = await startGame();
});
afterAll(async () => host?.dispose());

async function finished(id: unknown): Promise<{ runtimeStatus: string; output: unknown }> {
  return (await host.waitFor(String(id))) as unknown as { runtimeStatus: string; output: unknown };
}

describe('interactive commands', () => {
  it('a question waits for the next line and the return value is the output', async () => {
    const p = await Player.join(host, 'asker');
    const { instanceId } = await p.type('greet');
    await host.idle();
    expect(await p.read()).toEqual(['What is your name?']);
    const prompts = (await p.get('/api/prompts')).body.prompts as { question: string; promptId: string }[];
    expect(prompts.map((q) => q.question)).toEqual(['What is your name?']);
    expect(await p.type('Ada Lovelace')).toMatchObject({ kind: 'answer', instanceId, promptId: prompts[0].promptId });
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'Ada Lovelace' });
    expect(await p.read()).toEqual(['Hello, Ada Lovelace!']);
    expect((await p.get('/api/prompts')).body.prompts).toEqual([]);
  });

  it('a prompt timeout returns the documented default (null) and closes the prompt', async () => {
    const p = await Player.join(host, 'slowpoke');
    const { instanceId } = await p.type('greet 30');
    await host.idle();
    expect((await p.get('/api/prompts')).body.prompts).toHaveLength(1);
    await host.advance('29s');
    expect((await p.get('/api/prompts')).body.prompts).toHaveLength(1);
    await host.advance('1s');
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: null });
    expect(await p.read()).toEqual(['What is your name?', 'Too slow.']);
    expect((await p.get('/api/prompts')).body.prompts).toEqual([]);
    // A late answer is not lost: it is handled as a command.
    expect(await p.type('Bob')).toMatchObject({ kind: 'nomatch' });
    expect(await p.read()).toEqual([`Command 'Bob' is not available. Type "help" for help.`]);
  });

  it('an answer before the timeout wins and cancels the timer', async () => {
    const p = await Player.join(host, 'quick');
    const { instanceId } = await p.type('greet 30');
    await host.advance('10s');
    await p.type('Grace');
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'Grace' });
  });

  it('two questions in a row get the next two lines, in order', async () => {
    const p = await Player.join(host, 'twice');
    const { instanceId } = await p.type('twoq');
    await host.idle();
    await p.type('alpha');
    await host.idle();
    await p.type('beta');
    expect(await finished(instanceId)).toMatchObject({ output: { first: 'alpha', second: 'beta' } });
    expect(await p.read()).toEqual(['First?', 'Second?', 'You said alpha then beta.']);
  });

  it('a line goes to the newest open prompt; other players cannot answer it', async () => {
    const a = await Player.join(host, 'router-a');
    const b = await Player.join(host, 'router-b');
    expect(await a.type('stack')).toMatchObject({ kind: 'command', command: 'stack', ok: true });
    await host.idle();
    expect(await a.read()).toEqual(['What is your name?']);
    await host.advance('5s');
    expect(await a.read()).toEqual(['First?']);
    const prompts = (await a.get('/api/prompts')).body.prompts as { question: string; instanceId: string }[];
    expect(prompts.map((q) => q.question)).toEqual(['First?', 'What is your name?']);
    const [twoq, greet] = prompts.map((q) => q.instanceId);
    // b's line is b's command, never a's answer
    expect(await b.type('echo hi')).toMatchObject({ kind: 'command', command: 'echo' });
    expect(await b.read()).toEqual(['hi']);
    expect((await b.get('/api/prompts')).body.prompts).toEqual([]);
    // the newest prompt takes a's lines until it is done, then the older one
    expect(await a.type('one')).toMatchObject({ kind: 'answer', instanceId: twoq });
    await host.idle();
    expect(await a.type('two')).toMatchObject({ kind: 'answer', instanceId: twoq });
    expect(await finished(twoq)).toMatchObject({ output: { first: 'one', second: 'two' } });
    expect(await a.type('Zed')).toMatchObject({ kind: 'answer', instanceId: greet });
    expect(await finished(greet)).toMatchObject({ output: 'Zed' });
    expect(await a.type('echo done')).toMatchObject({ kind: 'command' });
    expect(await a.read()).toEqual(['Second?', 'You said one then two.', 'Hello, Zed!', 'done']);
  });

  it('plain timers: yield <seconds> waits that long', async () => {
    const p = await Player.join(host, 'timer');
    const { instanceId } = await p.type('ret some words');
    await host.idle();
    expect((await host.client().getStatus(String(instanceId))).runtimeStatus).toBe('Running');
    await host.advance('1s');
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: { echoed: 'some words', n: 42 } });
  });

  it('a Durable task from cmd.df is passed through, and yield* sleep() works', async () => {
    const p = await Player.join(host, 'dfuser');
    const { instanceId } = await p.type('dftimer');
    await host.advance('3s');
    expect(await p.read()).toEqual(['Durable timer fired.']);
    await host.advance('1s');
    expect(await finished(instanceId)).toMatchObject({ output: 'slept' });
  });

  for (const [arg, shown] of [
    ['object', /yielded object \{"a":1\}/],
    ['true', /yielded boolean true/],
    ['null', /yielded object null/],
    ['nan', /yielded NaN: a wait must be a finite number of seconds >= 0/],
    ['negative', /yielded -1: a wait must be a finite number/],
    ['huge', /yielded 100000000000000000000: a wait must be a finite number/],
    ['function', /yielded a function/],
    ['undefined', /yielded undefined/],
  ] as const) {
    it(`yielding ${arg} fails with a message naming the value and what is allowed`, async () => {
      const p = await Player.join(host, `bad-${arg}`);
      const { instanceId } = await p.type(`badyield ${arg}`);
      const status = await finished(instanceId);
      expect(status.runtimeStatus).toBe('Failed');
      const [msg] = await p.read();
      expect(msg).toMatch(/^An untrapped error occurred in 'badyield': interactive command 'badyield' yielded /);
      expect(msg).toMatch(shown);
      if (!/finite number/.test(msg)) expect(msg).toMatch(/Yield a number of seconds .* a question .* a step .* a Durable task/);
      expect(String(status.output)).toMatch(shown);
    });
  }

  it('a bad yield is thrown into the generator, which may catch it', async () => {
    const p = await Player.join(host, 'catcher');
    const { instanceId } = await p.type('badyield caught');
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 'recovered' });
    expect(await p.read()).toEqual(["caught: interactive command 'badyield' yielded o"]);
  });

  it('the bounded loop form continues-as-new each round and keeps working', async () => {
    const p = await Player.join(host, 'looper');
    const { instanceId } = await p.type('countloop');
    for (let i = 1; i <= 5; i++) {
      await host.idle();
      expect(await p.read()).toEqual([`Round ${i}?`]);
      await p.type(i === 5 ? 'stop' : 'go');
    }
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 5 });
  });

  it('waitrounds (waitloop as a loop()) produces the seed messages', async () => {
    const p = await Player.join(host, 'rounds');
    const { instanceId } = await p.type('waitrounds');
    await host.advance('5s');
    expect(await p.read()).toEqual(['Getting ready to wait ...', 'Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    await p.type('yes');
    await host.advance('5s');
    expect(await p.read()).toEqual(['Getting ready to wait ...', 'Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    await p.type('n');
    expect(await finished(instanceId)).toMatchObject({ runtimeStatus: 'Completed', output: 2 });
  });

  it('task handles inside interactive(): exists, active, pause, remaining, unpause, doTask', async () => {
    const p = await Player.join(host, 'handler');
    const { instanceId } = await p.type('ihandles');
    await host.idle();
    await host.advance('10s');
    await host.advance('1s');
    const status = await finished(instanceId);
    expect(status.runtimeStatus, JSON.stringify(status.output)).toBe('Completed');
    expect(await p.read()).toEqual(['exists=true active=true', 'paused remaining=30 active=false', 'echo: from ihandles', 'after fire exists=false']);
  });

  it('100 racing pairs of answers: each prompt is answered exactly once, every other line runs as a command', async () => {
    const players = await Promise.all(Array.from({ length: 100 }, (_, i) => Player.join(host, `racer${i}`)));
    const started = await Promise.all(players.map((p) => p.type('greet')));
    await host.idle();
    const replies = await Promise.all(players.flatMap((p, i) => [p.type(`first${i}`), p.type(`second${i}`)]));
    const answers = replies.filter((r) => r.kind === 'answer');
    expect(answers).toHaveLength(100);
    expect(replies.filter((r) => r.kind === 'nomatch')).toHaveLength(100);
    for (let i = 0; i < 100; i++) {
      const status = await finished(started[i].instanceId);
      const pair = [replies[2 * i], replies[2 * i + 1]];
      const answered = pair.find((r) => r.kind === 'answer');
      const other = pair.find((r) => r.kind === 'nomatch');
      expect(answered?.instanceId).toBe(started[i].instanceId);
      expect(status.output).toBe(answered === pair[0] ? `first${i}` : `second${i}`);
      // Each line shows up exactly once: as the answer, or as a command's reply (their relative order is a race).
      const expected = ['What is your name?', `Hello, ${String(status.output)}!`, `Command '${String(other?.text)}' is not available. Type "help" for help.`];
      expect((await players[i].read()).sort()).toEqual(expected.sort());
    }
  }, 120_000);
});

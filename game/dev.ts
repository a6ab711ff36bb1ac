// Extra commands for the end-to-end tests and the benchmark, registered only when GAME_DEV_COMMANDS=1: prompts with
// timeouts, return values, bad yields, handles inside interactive(), runAsync failure paths, and two loop forms.
import { again, ask, callback, command, delay, GameError, interactive, isGameError, loop, runAsync, sleep, startCommand, stop, type CallbackError, type Json } from '../core';
import { settings } from '../core/settings';

// Attempts per task for `flaky`. Test scaffolding only: a real game keeps such state in storage, since attempts may
// run on different instances.
const attempts = new Map<string, number>();

export function registerDevCommands(): void {
  const echoBack = callback('devEcho', (ctx, text: string) => {
    ctx.caller.msg(`echo: ${text}`);
    return text;
  });
  const flakyFn = callback('devFlaky', (ctx, failures: number) => {
    const n = (attempts.get(ctx.taskId) ?? 0) + 1;
    attempts.set(ctx.taskId, n);
    ctx.caller.msg(`attempt ${n}`);
    if (n <= failures) throw new Error(`attempt ${n} failed`);
    return n;
  });
  const boom = callback('devBoom', () => {
    throw new Error('boom');
  });
  const shout = callback('devShout', (ctx, r: Json, kw: { prefix?: string }) => ctx.caller.msg(`${kw.prefix ?? ''}${String(r)}`));
  const failingReturn = callback('devFailingReturn', () => {
    throw new Error('atReturn broke');
  });
  const reportErr = callback('devReportErr', (ctx, e: CallbackError, kw: { tag?: string }) => ctx.caller.msg(`errback${kw.tag ? ` [${kw.tag}]` : ''}: ${e.message}`));

  const startLater = callback('devStart', async (ctx, key: string) => {
    await startCommand(ctx, key);
  });
  // Says something, starts a delay and an interactive command, says more: a re-run must repeat none of it.
  const chain = callback('devChain', async (ctx, text: string) => {
    ctx.caller.msg(`chain: before ${text}`);
    const task = await delay(ctx, 60, echoBack, [text]);
    await startCommand(ctx, 'greet');
    ctx.caller.msg(`chain: after ${task.id}`);
  });

  command('echo', (caller, args) => caller.msg(args), { help: 'echo <text>: says it back.' });
  command('chain', async (_caller, args, cmd) => {
    await delay(cmd, 5, chain, [args || 'link']);
  });
  command('chainasync', async (_caller, args, cmd) => {
    await runAsync(cmd, chain, [args || 'link']);
  });
  // Opens a second prompt on top of the first: greet asks now, twoq asks 5 s later.
  command('stack', async (_caller, _args, cmd) => {
    await startCommand(cmd, 'greet');
    await delay(cmd, 5, startLater, ['twoq']);
  });
  command('crash', (caller, args) => {
    if (args === 'outage') {
      caller.msg('about to meet an outage');
      throw new GameError('storage_unavailable', 'Table storage failed to read task x: read ECONNRESET');
    }
    throw new Error(args === 'long' ? `the command crashed: ${'x'.repeat(20_000)}` : 'the command crashed');
  }, { hidden: true });
  command(
    'icrash',
    interactive(function* (caller) {
      caller.msg('about to crash');
      yield 0;
      throw new Error(`the interactive command crashed: ${'y'.repeat(20_000)}`);
    }),
    { hidden: true },
  );

  command(
    'greet',
    interactive(function* (caller, args) {
      const timeout = args ? Number(args) : undefined;
      const name = yield* ask('What is your name?', timeout !== undefined ? { timeout } : {});
      if (name === null) {
        caller.msg('Too slow.');
        return null;
      }
      caller.msg(`Hello, ${name}!`);
      return name;
    }),
    { help: 'greet [timeout]: asks your name.' },
  );

  command(
    'twoq',
    interactive(function* (caller) {
      const first: string = yield 'First?';
      const second: string = yield 'Second?';
      caller.msg(`You said ${first} then ${second}.`);
      return { first, second };
    }),
  );

  command(
    'ret',
    interactive(function* (_caller, args) {
      yield 1;
      return { echoed: args, n: 42 };
    }),
  );

  command(
    'badyield',
    interactive(function* (caller, args) {
      const bad: Record<string, unknown> = { object: { a: 1 }, true: true, null: null, nan: NaN, negative: -1, huge: 1e20, function: () => 1, undefined };
      try {
        yield args in bad ? bad[args] : { kind: args };
      } catch (err) {
        if (args === 'caught') {
          caller.msg(`caught: ${(err as Error).message.slice(0, 40)}`);
          return 'recovered';
        }
        throw err;
      }
      return 'unreachable';
    }),
  );

  command(
    'dftimer',
    interactive(function* (caller, _args, cmd) {
      const ctx = cmd.df;
      if (!ctx) return null;
      yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 3000));
      caller.msg('Durable timer fired.');
      const echoed: unknown = yield* sleep(1);
      return echoed ?? 'slept';
    }),
  );

  command(
    'ihandles',
    interactive(function* (caller, _args, cmd) {
      const task = yield* delay(cmd, 30, echoBack, ['from ihandles']);
      caller.msg(`exists=${String(yield* task.exists())} active=${String(yield* task.active())}`);
      yield* task.pause();
      yield 10;
      caller.msg(`paused remaining=${String(yield* task.remaining())} active=${String(yield* task.active())}`);
      yield* task.unpause();
      yield* task.doTask();
      yield 1;
      caller.msg(`after fire exists=${String(yield* task.exists())}`);
      return task.id;
    }),
  );

  // A limit reached inside interactive(): the step throws a GameError the command may catch.
  command(
    'ilimit',
    interactive(function* (caller, args, cmd) {
      try {
        const task = yield* delay(cmd, args || 60, echoBack, ['from ilimit']);
        caller.msg(`started ${task.id}`);
      } catch (err) {
        if (!isGameError(err)) throw err;
        caller.msg(`caught ${err.code}: ${err.message}`);
      }
    }),
  );

  // ctx.progress() misused: outside a runAsync function (a delay), and with a fraction over 1 (a runAsync).
  const progressMisuse = callback('devProgressMisuse', (ctx) => ctx.progress(1.5));
  command('progressmisuse', async (_caller, args, cmd) => {
    if (args === 'delay') await delay(cmd, 1, progressMisuse, []);
    else await runAsync(cmd, progressMisuse, []);
  });

  command('notjson', async (_caller, _args, cmd) => {
    await delay(cmd, 5, echoBack, [new Date(0) as unknown as string]);
  });
  command('nocallback', async (_caller, _args, cmd) => {
    await delay(cmd, 5, 'noSuchCallback', []);
  });

  command('asyncretry', async (caller, args, cmd) => {
    const task = await runAsync(cmd, flakyFn, [Number(args || 2)], { atReturn: shout, atReturnKwargs: { prefix: 'done after ' }, atErr: reportErr, retry: { attempts: 3, firstDelay: 2, backoff: 2 } });
    caller.msg(`started ${task.id}`);
  });
  command('asyncreturnfail', async (_caller, _args, cmd) => {
    await runAsync(cmd, echoBack, ['x'], { atReturn: failingReturn, atErr: reportErr, atErrKwargs: { tag: 'atReturn' } });
  });
  command('dig', async (caller, _args, cmd) => {
    caller.msg('You start digging...');
    await runAsync(cmd, echoBack, ['found gold']);
    caller.msg('You keep digging.');
  });
  command('asyncnoerr', async (caller, _args, cmd) => {
    const task = await runAsync(cmd, boom, []);
    caller.msg(`started ${task.id}`);
  });
  // An errback that throws too: the default errback still tells the player.
  command('asyncerrfails', async (caller, _args, cmd) => {
    const task = await runAsync(cmd, boom, [], { atErr: failingReturn });
    caller.msg(`started ${task.id}`);
  });

  // The same counting loop in both forms, for the step-latency benchmark: answer anything to go on, "stop" to end.
  command(
    'count',
    interactive(function* () {
      for (let n = 1; ; n++) {
        const answer: string = yield `Round ${n}?`;
        if (answer === 'stop') return n;
      }
    }),
    { help: 'count: a plain interactive loop (history grows every round).' },
  );
  command(
    'countloop',
    loop({
      start: () => ({ n: 1 }),
      *round(_caller, state) {
        const answer: string = yield `Round ${state.n}?`;
        return answer === 'stop' ? stop(state.n) : again({ n: state.n + 1 });
      },
    }),
    { help: 'countloop: count as a bounded loop (continue-as-new every round).' },
  );
}

if (settings.devCommands()) registerDevCommands();

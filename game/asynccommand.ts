// The seed's run_async examples: `asynccommand` (atReturn shows "The final value is ...") and `asyncfail`
// (the long-running function throws, atErr shows "There was an error: ...").
import { callback, command, runAsync, type CallbackError, type Json } from '../core';

/** The long-running function: runs as a Durable activity, on any instance. */
export const longRunningFunction = callback('longRunningFunction', () => {
  let finalValue = 0;
  for (let i = 1; i <= 1000; i++) finalValue += i; // [... lots of time-consuming code ...]
  return finalValue;
});

/** A long-running function that fails. */
export const failingFunction = callback('failingFunction', () => {
  throw new Error('the long-running function gave up');
});

/** at_return: called with the function's result. */
export const atReturnFunction = callback('atReturnFunction', (ctx, r: Json) => {
  ctx.caller.msg(`The final value is ${String(r)}`);
});

/** at_err: called with the error of the function (or of atReturn). */
export const atErrFunction = callback('atErrFunction', (ctx, e: CallbackError) => {
  ctx.caller.msg(`There was an error: ${e.message}`);
});

command(
  'asynccommand',
  async (_caller, _args, cmd) => {
    // do the async call, setting all callbacks
    await runAsync(cmd, longRunningFunction, [], { atReturn: atReturnFunction, atErr: atErrFunction });
  },
  { help: 'Runs a long function in the background; prints its final value when done (seed example).' },
);

command(
  'asyncfail',
  async (_caller, _args, cmd) => {
    await runAsync(cmd, failingFunction, [], { atReturn: atReturnFunction, atErr: atErrFunction });
  },
  { help: 'Like asynccommand, but the background function fails and the errback reports it.' },
);

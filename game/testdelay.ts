// The seed's delay example: `testdelay` says "Test!" to you after 10 seconds.
import { callback, command, delay } from '../core';

/** The delayed callback: a named callback survives restarts, a lambda would not. */
export const sayTest = callback('sayTest', (ctx) => ctx.caller.msg('Test!'));

command(
  'testdelay',
  async (_caller, _args, cmd) => {
    await delay(cmd, 10, sayTest, []);
  },
  { help: 'Wait 10 seconds and "Test!" is echoed back to you (seed example).' },
);

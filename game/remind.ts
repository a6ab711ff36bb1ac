// `remind <seconds> <text>`: a delay with arguments; the reply names the task id to use with `tasks`.
import { callback, command, delay } from '../core';

/** Sends the reminder text back to the player who asked. */
export const remindCallback = callback('remind', (ctx, text: string) => ctx.caller.msg(`Reminder: ${text}`));

command(
  'remind',
  async (caller, args, cmd) => {
    const m = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d)?)\s+(.+)$/i.exec(args);
    if (!m) {
      caller.msg('Usage: remind <seconds> <text>   e.g. remind 60 tea is ready   (or 5m, 2h, 1d)');
      return;
    }
    const when = /^\d+(?:\.\d+)?$/.test(m[1]) ? Number(m[1]) : m[1];
    const task = await delay(cmd, when, remindCallback, [m[2]]);
    caller.msg(`I will remind you in ${m[1]}${typeof when === 'number' ? ' seconds' : ''} (task ${task.id}).`);
  },
  { aliases: ['reminder'], help: 'remind <seconds> <text>: reminds you later. Manage it with `tasks`.' },
);

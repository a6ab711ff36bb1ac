// `help` and `help <command>`: what you can type.
import { allCommands, command, findCommand } from '../core';

command(
  'help',
  (caller, args) => {
    const topic = args.trim();
    if (topic) {
      const def = findCommand(topic.split(/\s+/)[0]);
      if (!def || def.hidden) {
        caller.msg(`No help for '${topic}'. Type "help" for the list of commands.`);
        return;
      }
      const aliases = def.aliases.length > 0 ? ` (aliases: ${def.aliases.join(', ')})` : '';
      caller.msg(`${def.key}${aliases}: ${def.help || 'no help text.'}`);
      return;
    }
    const visible = allCommands().filter((c) => !c.hidden);
    caller.msg(['Commands:', ...visible.map((c) => `  ${c.key.padEnd(14)} ${c.help.split('\n')[0]}`)].join('\n'));
  },
  { aliases: ['?'], help: 'help [command]: lists commands, or explains one.' },
);

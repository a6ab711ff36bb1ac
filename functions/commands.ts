// GET /api/commands: the commands a player can type, with aliases and help (no token needed).
import './lib/app';
import { app } from '@azure/functions';
import { allCommands } from '../core/registry';
import { json, route } from './lib/http';

app.http('commands', {
  route: 'commands',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: route(async () =>
    json(200, {
      commands: allCommands()
        .filter((c) => !c.hidden)
        .map((c) => ({ key: c.key, aliases: c.aliases, help: c.help, interactive: typeof c.func !== 'function' })),
    }),
  ),
});

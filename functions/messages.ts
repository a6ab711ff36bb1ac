// GET /api/messages?after=<cursor>&wait=<0..25>: the player's messages after the cursor, oldest first; with
// `wait`, the request is held until a message arrives or the wait ends.
import './lib/app';
import { app } from '@azure/functions';
import { GameError } from '../core/errors';
import { waitForMessages } from '../core/watch';
import { authenticate, json, route } from './lib/http';

app.http('messages', {
  route: 'messages',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: route(async (req) => {
    const player = authenticate(req);
    const after = req.query.get('after') ?? undefined;
    const rawWait = req.query.get('wait') ?? '0';
    // Decimal seconds only: Number() would also take hex, exponents, signs and spaces ("0x10", "1e1", " 5").
    const wait = /^\d+(\.\d+)?$/.test(rawWait) ? Number(rawWait) : NaN;
    if (!Number.isFinite(wait) || wait > 25) {
      throw new GameError('invalid_query', `wait=${JSON.stringify(rawWait.slice(0, 20))} must be a number of seconds from 0 to 25.`);
    }
    if (after !== undefined && after.length > 16 * 1024) throw new GameError('invalid_query', 'after= is longer than any cursor this server returns.');
    return json(200, await waitForMessages(player, after, wait));
  }),
});

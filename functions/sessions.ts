// POST /api/sessions {"name","password"}: creates the account (201) or signs in (200); returns {player, token}.
// The client address (sign-up limit) is the first hop of X-Forwarded-For: the front end's on Azure, devhost's locally.
import './lib/app';
import { app } from '@azure/functions';
import { z } from 'zod';
import { trimMessages } from '../core/outbox';
import { signIn } from '../core/players';
import { addressKey } from '../core/signups';
import { settings, tokenSecret } from '../core/settings';
import { signToken } from '../core/tokens';
import { json, readJson, route } from './lib/http';

const body = z.object({
  name: z.string({ error: 'name must be a string' }),
  password: z.string({ error: 'password must be a string' }).min(1, 'password must not be empty').max(1024, 'password must be at most 1024 characters'),
});

app.http('sessions', {
  route: 'sessions',
  methods: ['POST'],
  authLevel: 'anonymous',
  handler: route(async (req, context) => {
    const { name, password } = await readJson(req, body);
    const { player, created } = await signIn(name, password, { address: addressKey(req.headers.get('x-forwarded-for')) });
    const token = signToken(player, { secret: tokenSecret(), ttlSeconds: settings.tokenTtlSeconds(), nowMs: Date.now() });
    // Housekeeping on sign-in: drop messages past the retention setting (best effort).
    await trimMessages(player).catch((err: unknown) => context.warn(`trimming messages of ${player} failed:`, err));
    return json(created ? 201 : 200, { player, token });
  }),
});

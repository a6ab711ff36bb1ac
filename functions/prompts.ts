// GET /api/prompts: the questions the player is being asked right now (to re-present after a reconnect), newest first.
import './lib/app';
import { durableClient } from './lib/client';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { openPrompts } from '../core/router';
import { authenticate, json, route } from './lib/http';

app.http('prompts', {
  route: 'prompts',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    const player = authenticate(req);
    const prompts = await openPrompts(durableClient(context), player);
    return json(200, {
      prompts: prompts.map((p) => ({
        promptId: p.promptId,
        question: p.question,
        instanceId: p.instanceId,
        askedAt: new Date(p.openedAt).toISOString(),
        ...(p.timeoutAt !== undefined ? { timeoutAt: new Date(p.timeoutAt).toISOString() } : {}),
      })),
    });
  }),
});

// POST /api/input {"text"}: one typed line. Answers the newest open prompt, else runs the command, else replies
// Evennia's no-match text. 202 {"kind": "answer" | "command" | "nomatch", ...}.
import './lib/app';
import { durableClient } from './lib/client';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { routeLine } from '../core/router';
import { authenticate, json, readJson, route } from './lib/http';

const body = z.object({ text: z.string({ error: 'text must be a string (the typed line)' }) });

app.http('input', {
  route: 'input',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    const player = authenticate(req);
    const { text } = await readJson(req, body, 64 * 1024);
    const result = await routeLine(durableClient(context), player, text, (m) => context.warn(m));
    return json(202, result);
  }),
});

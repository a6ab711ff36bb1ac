// POST /api/input {"text"}: one typed line. Answers the newest open prompt, else runs the command, else replies
// Evennia's no-match text. 202 {"kind": "answer" | "command" | "nomatch", ...}. With an Idempotency-Key header, a
// repeat gets the first answer again (marked `Idempotent-Replayed: true`).
import './lib/app';
import { durableClient } from './lib/client';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { checkKey } from '../core/idempotency';
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
    const key = checkKey(req.headers.get('idempotency-key'));
    const { text } = await readJson(req, body, 64 * 1024);
    const { result, replayed } = await routeLine(durableClient(context), player, text, (m) => context.warn(m), key);
    return json(202, result, replayed ? { 'idempotent-replayed': 'true' } : {});
  }),
});

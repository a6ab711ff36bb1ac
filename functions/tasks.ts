// GET /api/tasks and POST /api/tasks/{id}/cancel|pause|unpause|fire|call: the player's own delays and background jobs.
// Another player's task id is a 404, exactly like an unknown one.
import './lib/app';
import { durableClient } from './lib/client';
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { ClientRuntime } from '../core/clientRuntime';
import { GameError } from '../core/errors';
import type { ControlOp } from '../core/names';
import { authenticate, json, route } from './lib/http';

const ACTIONS: Record<string, ControlOp> = { cancel: 'cancel', pause: 'pause', unpause: 'unpause', fire: 'fire', call: 'call' };

app.http('tasksList', {
  route: 'tasks',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    const player = authenticate(req);
    return json(200, { tasks: await new ClientRuntime(durableClient(context)).list(player) });
  }),
});

app.http('tasksControl', {
  route: 'tasks/{id}/{action}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    const player = authenticate(req);
    const action = req.params.action ?? '';
    const op = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
    if (!op) throw new GameError('not_found', `Unknown task action ${JSON.stringify(req.params.action)}; use cancel, pause, unpause, fire or call.`);
    const id = req.params.id ?? '';
    const runtime = new ClientRuntime(durableClient(context));
    const result = await runtime.control(player, id, op);
    if (result === 'finished') throw new GameError('task_finished', `Task ${id} has already finished; it cannot be ${op === 'fire' ? 'fired' : op === 'call' ? 'called' : `${op}d`}.`);
    return json(202, { id, action: op, accepted: result === 'sent' });
  }),
});

// Operator routes, Evennia's @tasks across players, behind `Authorization: Bearer <GAME_OPERATOR_KEY>`: list every
// live task and open prompt (filtered, paged), act on any task with a note, read the log of actions; and the page
// that uses them. Under /api/operator: the Functions host refuses routes (and function names) that start with "admin".
import './lib/app';
import { durableClient } from './lib/client';
import { app, type HttpRequest } from '@azure/functions';
import * as df from 'durable-functions';
import { z } from 'zod';
import { GameError } from '../core/errors';
import { CONTROL_EVENTS, isPlayerId, type ControlOp } from '../core/names';
import { listAllPrompts, listAllTasks, operatorAct, recentActions, verifyOperator, type TaskFilter } from '../core/operators';
import { json, readJson, route } from './lib/http';
import { servePage } from './web';

/** Actions by their URL name; `resume` is unpause, as operators say it. */
const ACTIONS: Record<string, ControlOp> = { ...Object.fromEntries(CONTROL_EVENTS.map((op) => [op, op])), resume: 'unpause' };

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;

/** A query parameter checked against `pattern`; absent or empty is undefined. */
function param(req: HttpRequest, name: string, pattern: RegExp, what: string): string | undefined {
  const value = req.query.get(name);
  if (value === null || value === '') return undefined;
  if (!pattern.test(value)) throw new GameError('invalid_query', `${name}=${JSON.stringify(value.slice(0, 60))} is not ${what}.`);
  return value;
}

function limitOf(req: HttpRequest): number {
  const raw = param(req, 'limit', /^\d{1,4}$/, `a whole number from 1 to ${MAX_LIMIT}`);
  const limit = raw === undefined ? DEFAULT_LIMIT : Number(raw);
  if (limit < 1 || limit > MAX_LIMIT) throw new GameError('invalid_query', `limit=${limit} is not a whole number from 1 to ${MAX_LIMIT}.`);
  return limit;
}

const cursorOf = (req: HttpRequest) => param(req, 'cursor', /^[A-Za-z0-9_-]{1,6000}$/, 'a cursor this server returned (leave it out for the first page)');

function playerOf(req: HttpRequest): string | undefined {
  const player = req.query.get('player');
  if (player === null || player === '') return undefined;
  const id = player.toLowerCase();
  if (!isPlayerId(id)) throw new GameError('invalid_query', `player=${JSON.stringify(player.slice(0, 60))} is not a player name (2-32 letters, digits, '_' or '-').`);
  return id;
}

/** The client address an action is logged with: the first hop of X-Forwarded-For (see SECURITY.md on trusting it). */
const fromOf = (req: HttpRequest): string => (req.headers.get('x-forwarded-for') ?? '').split(',')[0].trim().slice(0, 64);

app.http('operatorTasks', {
  route: 'operator/tasks',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    verifyOperator(req.headers.get('authorization'));
    const filter: TaskFilter = {
      player: playerOf(req),
      callback: param(req, 'callback', /^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'a callback name'),
      state: param(req, 'state', /^(waiting|paused|running)$/, 'waiting, paused or running') as TaskFilter['state'],
      kind: param(req, 'kind', /^(delay|async)$/, 'delay or async') as TaskFilter['kind'],
    };
    const page = await listAllTasks(durableClient(context), filter, limitOf(req), cursorOf(req));
    return json(200, { tasks: page.items, ...(page.next ? { next: page.next } : {}) });
  }),
});

app.http('operatorPrompts', {
  route: 'operator/prompts',
  methods: ['GET'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    verifyOperator(req.headers.get('authorization'));
    const page = await listAllPrompts(durableClient(context), { player: playerOf(req) }, limitOf(req), cursorOf(req));
    return json(200, { prompts: page.items, ...(page.next ? { next: page.next } : {}) });
  }),
});

const noteSchema = z.object({
  note: z
    .string({ error: 'say why you act in "note" (it is logged with the action)' })
    .trim()
    .min(1, 'say why you act in "note" (it is logged with the action)')
    .max(500, 'a note is at most 500 characters')
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'a note is one line of text, without control characters'),
});

app.http('operatorAct', {
  route: 'operator/tasks/{id}/{action}',
  methods: ['POST'],
  authLevel: 'anonymous',
  extraInputs: [df.input.durableClient()],
  handler: route(async (req, context) => {
    verifyOperator(req.headers.get('authorization'));
    const name = req.params.action ?? '';
    const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
    if (!action) throw new GameError('not_found', `Unknown task action ${JSON.stringify(name.slice(0, 40))}; use cancel, pause, unpause (resume), fire or call.`);
    const { note } = await readJson(req, noteSchema, 4096);
    const id = req.params.id ?? '';
    const { player, result } = await operatorAct(durableClient(context), id, action, note, fromOf(req), (m) => context.log(m));
    return json(202, { id, player, action, accepted: result === 'sent', note });
  }),
});

app.http('operatorLog', {
  route: 'operator/log',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: route(async (req) => {
    verifyOperator(req.headers.get('authorization'));
    return json(200, { actions: await recentActions(limitOf(req)) });
  }),
});

// The page holds no secret: it asks for the key and keeps it in memory only, sending it with each request.
app.http('operatorPage', {
  route: 'operator',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (_req, context) => servePage('admin.html', context),
});

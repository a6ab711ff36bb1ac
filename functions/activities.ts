// Registers the activities: the driver's own (deliver, expirePrompt, startTask, taskControl) and one `cb_<name>`
// per callback the game registered with callback().
import './lib/app';
import { durableClient } from './lib/client';
import * as df from 'durable-functions';
import { z } from 'zod';
import { runCallback } from '../core/callbackRunner';
import { ClientRuntime } from '../core/clientRuntime';
import { GameError, isGameError } from '../core/errors';
import { LIMIT_CODES } from '../core/limits';
import { CONTROL_EVENTS, fn } from '../core/names';
import { deliver } from '../core/delivery';
import { expirePrompt } from '../core/prompts';
import { allCallbacks } from '../core/registry';
import type { StepSpec, TaskStart } from '../core/steps';

function parse<S extends z.ZodType>(schema: S, input: unknown, activity: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new GameError('invalid_body', `${activity} got a malformed input: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data as z.infer<S>;
}

const deliverSchema = z.object({
  batch: z.object({ source: z.string().min(1), seq: z.number().int().min(0), at: z.number().int().optional() }),
  messages: z.array(z.object({ player: z.string().min(1), text: z.string() })),
  openPrompt: z
    .object({ player: z.string(), promptId: z.string(), instanceId: z.string(), question: z.string(), openedAt: z.number(), timeoutAt: z.number().optional() })
    .optional(),
  closePrompts: z.array(z.object({ player: z.string(), promptId: z.string() })).optional(),
});

df.app.activity(fn.deliverActivity, {
  handler: async (input: unknown) => {
    await deliver(parse(deliverSchema, input, fn.deliverActivity));
    return null;
  },
});

df.app.activity(fn.expirePromptActivity, {
  handler: async (input: unknown) => {
    const p = parse(z.object({ player: z.string(), promptId: z.string() }), input, fn.expirePromptActivity);
    return expirePrompt(p.player, p.promptId);
  },
});

df.app.activity(fn.startTaskActivity, {
  extraInputs: [df.input.durableClient()],
  handler: async (input: unknown, context) => {
    const p = parse(
      z.object({
        id: z.string().min(1),
        task: z.looseObject({ kind: z.enum(['delay', 'async']), player: z.string() }).optional(),
        command: z.object({ player: z.string(), key: z.string(), args: z.string() }).optional(),
      }),
      input,
      fn.startTaskActivity,
    );
    const runtime = new ClientRuntime(durableClient(context));
    try {
      if (p.command) return await runtime.startCommand(p.command.player, p.command.key, p.command.args, p.id);
      if (!p.task) throw new GameError('invalid_body', `${fn.startTaskActivity} needs a task or a command.`);
      return await runtime.start(p.task as unknown as TaskStart, p.id);
    } catch (err) {
      // A limit is an answer, not a failure to retry: the step throws it into the interactive command (tasks.ts).
      if (isGameError(err) && LIMIT_CODES.has(err.code)) return { refused: { code: err.code, message: err.message } };
      throw err;
    }
  },
});

const controlSchema = z.union([
  z.object({ kind: z.literal('control'), player: z.string(), id: z.string(), op: z.enum(CONTROL_EVENTS) }),
  z.object({ kind: z.literal('info'), player: z.string(), id: z.string() }),
  z.object({ kind: z.literal('list'), player: z.string() }),
]);

df.app.activity(fn.taskControlActivity, {
  extraInputs: [df.input.durableClient()],
  handler: async (input: unknown, context) => {
    const spec = parse(controlSchema, input, fn.taskControlActivity) as StepSpec;
    return new ClientRuntime(durableClient(context)).run(spec);
  },
});

for (const cb of allCallbacks()) {
  df.app.activity(cb.activity, {
    extraInputs: [df.input.durableClient()],
    handler: (input: unknown, context) => runCallback(cb.name, input, () => durableClient(context), (m) => context.log(m)),
  });
}

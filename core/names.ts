// Names shared by the library, the orchestrators and the function registrations: Durable function names,
// event names, instance ids and player ids. One place, so a rename cannot split the app in two.
import { GameError } from './errors';

/** Durable function names the app registers (functions/ registers them, core/ and orchestrations/ call them). */
export const fn = {
  commandOrchestrator: 'command',
  delayOrchestrator: 'delay',
  runAsyncOrchestrator: 'runAsync',
  deliverActivity: 'deliver',
  expirePromptActivity: 'expirePrompt',
  startTaskActivity: 'startTask',
  taskControlActivity: 'taskControl',
} as const;

/** Prefix of the activity that runs a registered callback: callback 'remind' runs as activity 'cb_remind'. */
export const CALLBACK_ACTIVITY_PREFIX = 'cb_';

/** Control events a delay instance listens for ('call' runs the callback and keeps the task waiting). */
export const CONTROL_EVENTS = ['cancel', 'pause', 'unpause', 'fire', 'call'] as const;
export type ControlOp = (typeof CONTROL_EVENTS)[number];

/**
 * The external event that carries the answer to one prompt; unique per prompt, so a late or duplicated answer
 * can never be consumed by a later question.
 *
 * @example
 * answerEvent('alice.cmd.1f2e.g0.p1') // "answer:alice.cmd.1f2e.g0.p1"
 */
export function answerEvent(promptId: string): string {
  return `answer:${promptId}`;
}

/**
 * A claimed prompt whose answer has not reached the waiting instance this long after the claim is answered from the
 * stored claim by the instance's own timeout check (the line that claimed it raises the event within milliseconds,
 * so the claiming process died first, or its raise was lost); also how often that check runs while a claim is fresh.
 * Shared by the driver (orchestrator) and expirePrompt (activity).
 */
export const CLAIM_TAKEOVER_MS = 5_000;

/** Kinds of instance the app starts; the kind is part of the instance id. */
export type InstanceKind = 'cmd' | 'delay' | 'async';

/**
 * An instance id `<player>.<kind>.<unique>`: URL-safe (the SDK does not encode ids) and never reused.
 *
 * @example
 * instanceId('alice', 'delay', randomUUID()) // "alice.delay.0b6f..."
 */
export function instanceId(player: string, kind: InstanceKind, unique: string): string {
  return `${player}.${kind}.${unique.replace(/[^A-Za-z0-9-]/g, '')}`;
}

const PLAYER_NAME = /^[A-Za-z0-9_-]{2,32}$/;
const PLAYER_ID = /^[a-z0-9_-]{2,32}$/;

/**
 * The player id for a display name: the name lower-cased, after checking it is 2-32 letters, digits, '_' or '-'.
 *
 * @example
 * playerId('Alice') // "alice"
 */
export function playerId(name: string): string {
  if (!PLAYER_NAME.test(name)) {
    throw new GameError('invalid_name', `Player name ${JSON.stringify(name.slice(0, 40))} is not allowed: use 2-32 letters, digits, '_' or '-'.`);
  }
  return name.toLowerCase();
}

/**
 * True when `id` is a player id that sign-up can produce (a name playerId() accepts, lower-cased). Tokens name their
 * player by id; anything else in a token is refused even when its signature matches.
 *
 * @example
 * isPlayerId('alice') // true
 * isPlayerId('../x')  // false
 */
export function isPlayerId(id: unknown): id is string {
  return typeof id === 'string' && PLAYER_ID.test(id);
}

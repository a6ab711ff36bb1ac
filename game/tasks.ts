// `tasks`: Evennia's CmdTasks for your own delays and background jobs. `tasks` lists them, `tasks <id>` shows one,
// and `tasks <id|callback> <action>` (or `tasks <action> <id|callback>`) asks "Cancel task … ? [Y]/N" first, then
// cancels, pauses, unpauses, fires or calls one task by id, or all of yours deferring that callback by name.
import { ask, command, interactive, isGameError, listTasks, startCommand, type Cmd, type TaskInfo } from '../core';

type Action = 'cancel' | 'pause' | 'unpause' | 'fire' | 'call';

/** Action words, with Evennia's switch names (do_task, remove) and `resume` as aliases. */
const ACTIONS: Record<string, Action | 'info'> = {
  cancel: 'cancel',
  remove: 'cancel',
  pause: 'pause',
  unpause: 'unpause',
  resume: 'unpause',
  fire: 'fire',
  do_task: 'fire',
  call: 'call',
  info: 'info',
};

const VERB: Record<Action, string> = { cancel: 'Cancel', pause: 'Pause', unpause: 'Unpause', fire: 'Fire', call: 'Call' };

const USAGE = [
  'Usage: tasks                        list your tasks',
  '       tasks <id>                   show one',
  '       tasks <id> <action>          cancel, pause, unpause, fire or call it (asks first)',
  '       tasks <callback> <action>    the same for all of your tasks deferring that callback',
  'The id is the one `tasks` lists (its first 4 characters are enough); the action may also come first.',
].join('\n');

/** The key of the hidden interactive command that asks before acting. */
const CONFIRM = 'tasks-confirm';
/** How long the question waits for an answer before it counts as "no". */
const CONFIRM_TIMEOUT = '10m';
/** Shortest id prefix accepted. */
const MIN_PREFIX = 4;

const LIVE = new Set(['waiting', 'paused', 'running']);

/** The short form of a task id: the first 8 characters after `<player>.<kind>.`. */
function shortId(id: string): string {
  return id.split('.').slice(2).join('.').slice(0, 8) || id;
}

/** Seconds as "4m 10s", "2h 5m", "3d 1h", "0s". */
function duration(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}

/** Where a task stands, for a list line and a question: "fires in 4m 10s", "paused with 10s left", "running, 40%". */
function standing(t: TaskInfo): string {
  if (t.state === 'waiting') return t.remaining !== undefined ? `fires in ${duration(t.remaining)}` : 'waiting';
  if (t.state === 'paused') return t.remaining !== undefined ? `paused with ${duration(t.remaining)} left` : 'paused';
  if (t.state === 'running' && t.progress) return `running, ${Math.round(t.progress.fraction * 100)}%${t.progress.note ? ` (${t.progress.note})` : ''}`;
  return t.state;
}

function line(t: TaskInfo): string {
  return `${shortId(t.id)}  ${t.kind} ${t.callback} (from ${t.command}): ${standing(t)}`;
}

/** Why `action` cannot be done to a background job (runAsync), or undefined when it can. */
function refusal(t: TaskInfo, action: Action): string | undefined {
  if (t.kind === 'async' && action !== 'cancel') return `Task ${shortId(t.id)} is a background job: it can be cancelled, but not paused, unpaused, fired or called.`;
  if (!LIVE.has(t.state)) return `Task ${shortId(t.id)} has already finished (${t.state}).`;
  return undefined;
}

/** What a word names: one task, the live tasks deferring a callback, or nothing (with the reply to give). */
type Target = { tasks: TaskInfo[]; byName?: string } | { reply: string };

async function resolve(cmd: Cmd, word: string): Promise<Target> {
  if (/^[a-z0-9_-]{2,32}\.(delay|async)\.[A-Za-z0-9-]+$/.test(word)) {
    try {
      return { tasks: [await cmd.task(word).info()] };
    } catch (err) {
      // Another player's id is reported like an unknown one.
      if (isGameError(err, 'task_not_found')) return { reply: `Task ${word} does not exist.` };
      throw err;
    }
  }
  const tasks = await listTasks(cmd, { limit: 2000 });
  const name = word.toLowerCase();
  const deferring = tasks.filter((t) => t.callback.toLowerCase() === name && LIVE.has(t.state));
  if (deferring.length > 0) return { tasks: deferring, byName: deferring[0].callback };
  const prefix = word.toLowerCase();
  const matches = prefix.length >= MIN_PREFIX ? tasks.filter((t) => shortId(t.id).toLowerCase().startsWith(prefix) || t.id.split('.').slice(2).join('.').toLowerCase().startsWith(prefix)) : [];
  if (matches.length === 1) return { tasks: matches };
  if (matches.length > 1) return { reply: `Task id ${word} is ambiguous: ${matches.map((t) => shortId(t.id)).join(', ')}. Type more of it.` };
  if (/^[0-9a-f][0-9a-f-]*$/i.test(word)) return { reply: `Task ${word} does not exist.` };
  return { reply: `No tasks deferring function name ${word} found.` };
}

/** The question asked before acting, Evennia's "Cancel task 12 (…)? [Y]/N". */
function question(action: Action, tasks: TaskInfo[], byName: string | undefined): string {
  if (tasks.length === 1) return `${VERB[action]} task ${shortId(tasks[0].id)} (${tasks[0].callback}, ${standing(tasks[0])})? [Y]/N`;
  const shown = tasks.slice(0, 5).map((t) => `${shortId(t.id)} ${standing(t)}`);
  if (tasks.length > 5) shown.push(`${tasks.length - 5} more`);
  return `${VERB[action]} ${tasks.length} tasks of ${byName} (${shown.join(', ')})? [Y]/N`;
}

/** What the confirming command acts on, as its arguments (JSON). */
interface Confirm {
  action: Action;
  ids: string[];
  question: string;
}

/** Reads the confirming command's arguments; undefined when they are not what `tasks` passes. */
function readConfirm(args: string): Confirm | undefined {
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    return undefined;
  }
  const c = value as Partial<Confirm> | null;
  if (!c || typeof c !== 'object' || typeof c.question !== 'string' || !Array.isArray(c.ids) || !c.ids.every((id) => typeof id === 'string')) return undefined;
  if (typeof c.action !== 'string' || !Object.hasOwn(VERB, c.action)) return undefined;
  return { action: c.action, ids: c.ids, question: c.question };
}

/** The reply to one action: true when the task took it, false when it had finished (or, for pause/unpause, was already so). */
function outcome(action: Action, id: string, took: boolean): string {
  const s = shortId(id);
  switch (action) {
    case 'cancel':
      return took ? `Task ${s} cancelled.` : `Task ${s} completed while waiting for input.`;
    case 'pause':
      return took ? `Task ${s} paused.` : `Task ${s} is not running.`;
    case 'unpause':
      return took ? `Task ${s} resumed.` : `Task ${s} is not paused.`;
    case 'fire':
      return took ? `Task ${s} fires now.` : `Task ${s} completed while waiting for input.`;
    case 'call':
      return took ? `Task ${s} calls its callback now and keeps waiting.` : `Task ${s} completed while waiting for input.`;
  }
}

command(
  'tasks',
  async (caller, args, cmd) => {
    const words = args.split(/\s+/).filter(Boolean);
    if (words.length === 0) {
      const tasks = await listTasks(cmd);
      caller.msg(tasks.length === 0 ? 'You have no tasks.' : ['Your tasks:', ...tasks.map(line)].join('\n'));
      return;
    }
    // The action is the last action word: `tasks pause cancel` cancels the tasks of a callback named pause.
    const actionAt = words.length === 2 && Object.hasOwn(ACTIONS, words[1].toLowerCase()) ? 1 : words.findIndex((w) => Object.hasOwn(ACTIONS, w.toLowerCase()));
    const action = actionAt < 0 ? 'info' : ACTIONS[words[actionAt].toLowerCase()];
    const rest = words.filter((_, i) => i !== actionAt);
    if (words.length > 2 || rest.length !== 1 || (words.length === 2 && actionAt < 0)) {
      caller.msg(`Task command misformed.\n${USAGE}`);
      return;
    }
    const target = await resolve(cmd, rest[0]);
    if ('reply' in target) {
      caller.msg(target.reply);
      return;
    }
    if (action === 'info') {
      caller.msg(target.tasks.map(line).join('\n'));
      return;
    }
    const refusals = target.tasks.map((t) => refusal(t, action));
    const able = target.tasks.filter((_, i) => refusals[i] === undefined);
    const refused = refusals.filter((r): r is string => r !== undefined);
    if (refused.length > 0) caller.msg(refused.join('\n'));
    if (able.length === 0) return;
    const confirm: Confirm = { action, ids: able.map((t) => t.id), question: question(action, able, target.byName) };
    await startCommand(cmd, CONFIRM, JSON.stringify(confirm));
  },
  {
    aliases: ['delays'],
    help: 'tasks: list your tasks. tasks <id|callback> cancel|pause|unpause|fire|call: act on them (asks first). tasks <id>: show one.',
  },
);

// Asks the question and acts only on yes, as Evennia's ask_yes_no; anything else (or no answer within 10 minutes)
// leaves the tasks as they are. Hidden: `tasks` starts it with the tasks it resolved.
command(
  CONFIRM,
  interactive(function* (caller, args, cmd) {
    const confirm = readConfirm(args);
    if (!confirm) {
      caller.msg(`Task command misformed.\n${USAGE}`);
      return;
    }
    const answer = yield* ask(confirm.question, { timeout: CONFIRM_TIMEOUT, default: null });
    if (answer === null || !['y', 'yes'].includes(answer.trim().toLowerCase())) {
      caller.msg(`No ${confirm.action} processed.`);
      return;
    }
    for (const id of confirm.ids) {
      const task = cmd.task(id);
      const step = confirm.action === 'fire' ? task.doTask() : task[confirm.action]();
      caller.msg(outcome(confirm.action, id, yield* step));
    }
  }),
  { hidden: true },
);

// Routing of one typed line: it answers the player's newest open prompt (exactly once), else runs the matching
// command (`key args`, aliases, case-insensitive), else gets Evennia's no-match reply in the outbox.
import { randomUUID } from 'node:crypto';
import type { DurableClient } from 'durable-functions';
import { ClientRuntime, isNotFound } from './clientRuntime';
import { rpcBaseUrlOf } from './instances';
import { CommandContext } from './context';
import { GameError, describeError, isBackendFailure, isGameError, untrappedNotice } from './errors';
import { claimKeyed, finishAction, finishKeyed, firstNames, holdKey, keptAction, KEY_LEASE_MS, KeyTaken, keyedLine, releaseKeyed, resumeKey, type KeyedLine, type KeyedRequest } from './idempotency';
import { admitLine, LIMIT_CODES } from './limits';
import { answerEvent } from './names';
import { ExtraConflict, writeMessages, type OutMessage } from './outbox';
import { claimPrompt, closePrompt, listPrompts, unclaimPrompt, type Prompt } from './prompts';
import { allCommands, findCommand } from './registry';

/** Longest accepted line, in UTF-8 bytes. */
export const MAX_LINE_BYTES = 4096;
/** A claimed prompt still open after this long is re-raised (the raise may have been lost in a crash). */
export const RERAISE_AFTER_MS = 1000;

/** What POST /api/input answers (202). */
export type InputResult =
  | { kind: 'answer'; promptId: string; instanceId: string }
  | { kind: 'command'; command: string; instanceId?: string; ok: boolean }
  | { kind: 'nomatch'; text: string };

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/**
 * Validates a typed line: not empty, at most 4 KiB, no control characters (tab allowed). Returns it right-trimmed.
 *
 * @example
 * checkLine('look  ') // "look"
 */
export function checkLine(text: string): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_LINE_BYTES) {
    throw new GameError('line_too_long', `The line is ${bytes} bytes; the limit is ${MAX_LINE_BYTES} bytes (4 KiB). Send shorter lines.`);
  }
  const bad = CONTROL.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new GameError('control_character', `The line contains the control character U+${code} at position ${bad.index}; send one line of printable text (tabs are fine).`);
  }
  const line = text.trimEnd();
  if (line.trim() === '') throw new GameError('empty_line', 'The line is empty; type a command (try "help").');
  return line;
}

/**
 * Splits a line into a command key and its arguments.
 *
 * @example
 * parseLine('remind 10 tea') // { key: 'remind', args: '10 tea' }
 */
export function parseLine(line: string): { key: string; args: string } {
  const trimmed = line.trim();
  const space = trimmed.search(/\s/);
  return space < 0 ? { key: trimmed, args: '' } : { key: trimmed.slice(0, space), args: trimmed.slice(space).trim() };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

/**
 * Evennia's reply to a line no command matches, with "Maybe you meant" suggestions.
 *
 * @example
 * noMatchReply('hepl') // 'Command \'hepl\' is not available. Maybe you meant "help"?'
 */
export function noMatchReply(line: string): string {
  const typed = parseLine(line).key.toLowerCase();
  const names = allCommands()
    .filter((c) => !c.hidden)
    .flatMap((c) => [c.key, ...c.aliases]);
  const close = names
    .map((name) => ({ name, d: distance(typed, name) }))
    .filter(({ name, d }) => d <= Math.min(2, Math.floor(name.length / 2)))
    .sort((a, b) => a.d - b.d || (a.name < b.name ? -1 : 1))
    .slice(0, 3)
    .map(({ name }) => `"${name}"`);
  const base = `Command '${line}' is not available.`;
  if (close.length === 0) return `${base} Type "help" for help.`;
  const list = close.length === 1 ? close[0] : `${close.slice(0, -1).join(', ')} or ${close[close.length - 1]}`;
  return `${base} Maybe you meant ${list}?`;
}

const LIVE = new Set(['Running', 'Pending', 'Suspended', 'ContinuedAsNew']);

async function instanceIsLive(client: DurableClient, id: string): Promise<boolean> {
  try {
    return LIVE.has((await client.getStatus(id)).runtimeStatus);
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Raises an event and says whether a live instance got it. The SDK's raiseEvent treats "410 Gone" (a finished
 * instance) as success, which would silently drop an answer; so this sends the same request the SDK sends, to the
 * same local RPC endpoint (the binding's rpcBaseUrl), and reads the status itself. Without that endpoint it checks
 * the instance's status first.
 *
 * @example
 * if ((await raiseToLive(client, id, answerEvent(promptId), { text })) !== 'raised') { ... route the line elsewhere ... }
 */
export async function raiseToLive(client: DurableClient, id: string, event: string, data: unknown): Promise<'raised' | 'gone'> {
  const rpcBaseUrl = rpcBaseUrlOf(client);
  if (rpcBaseUrl) {
    const res = await fetch(new URL(`instances/${id}/raiseEvent/${event}`, rpcBaseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(data),
    });
    await res.arrayBuffer();
    if (res.status === 202) return 'raised';
    if (res.status === 410 || res.status === 404) return 'gone';
    throw new Error(`raiseEvent ${event} to ${id} answered HTTP ${res.status}`);
  }
  if (!(await instanceIsLive(client, id))) return 'gone';
  try {
    await client.raiseEvent(id, event, data);
  } catch (err) {
    if (isNotFound(err)) return 'gone';
    throw err;
  }
  return 'raised';
}

/**
 * Re-raises answers that were claimed but whose prompt is still open after RERAISE_AFTER_MS (the process may have
 * died between the claim and the raise), and drops prompts whose instance is gone. Returns the open prompts.
 *
 * @example
 * const open = await openPrompts(client, 'alice');
 */
export async function openPrompts(client: DurableClient, player: string, nowMs = Date.now()): Promise<Prompt[]> {
  const prompts = await listPrompts(player);
  await Promise.all(
    prompts
      .filter((p) => p.state === 'claimed' && nowMs - (p.claimedAt ?? 0) >= RERAISE_AFTER_MS)
      .map(async (p) => {
        const outcome = await raiseToLive(client, p.instanceId, answerEvent(p.promptId), { text: p.answer ?? '' }).catch(() => 'retry later');
        if (outcome === 'gone') await closePrompt(player, p.promptId);
      }),
  );
  return prompts.filter((p) => p.state === 'open');
}

/** What routeLine answers: the result, and whether it is the kept answer of an earlier request with the same key. */
export interface LineAnswer {
  result: InputResult;
  replayed: boolean;
}

/** A line's key: as sent, and, once it holds it, the request (names what the line creates). */
interface KeyState {
  line: KeyedLine;
  held?: KeyedRequest;
}

/**
 * Handles one typed line of `player` (already authenticated), within the player's rate limit (GameError
 * rate_limited). With an Idempotency-Key the first answer is kept: a repeat gets it again (`replayed`), and a repeat of
 * a request that was cut off finishes its work without doing anything twice (idempotency.ts). The key costs no
 * storage call of its own when the line answers a prompt or matches no command (it is taken in the write those make
 * anyway), and one when it runs a command.
 *
 * @example
 * const { result } = await routeLine(client, 'alice', 'testdelay', (m) => context.log(m));
 */
export async function routeLine(client: DurableClient, player: string, text: string, log: (message: string) => void, key?: string): Promise<LineAnswer> {
  const line = checkLine(text);
  await admitLine(player);
  if (key === undefined) return { result: await runLine(client, player, line, log), replayed: false };
  const state: KeyState = { line: keyedLine(player, key, line, Date.now()) };
  let prompts: Prompt[] | undefined;
  let taken = false;
  if (findCommand(parseLine(line).key)) {
    // A line that starts like a command most likely runs one, which takes the key first: take it while the prompts
    // are read rather than after.
    const [held, open] = await Promise.allSettled([holdKey(state.line), openPrompts(client, player)]);
    if (held.status === 'rejected' && !(held.reason instanceof KeyTaken)) throw held.reason;
    if (held.status === 'fulfilled') state.held = held.value;
    else taken = true;
    if (open.status === 'rejected') {
      if (state.held) await releaseKeyed(state.held);
      throw open.reason;
    }
    prompts = open.value;
  }
  for (;;) {
    try {
      if (taken) throw new KeyTaken();
      return { result: await runLine(client, player, line, log, state, prompts), replayed: false };
    } catch (err) {
      if (err instanceof KeyTaken && !state.held) {
        // An earlier request with this key got there first: its answer, or its unfinished work to redo.
        const resumed = await resumeKey(state.line);
        if ('answer' in resumed) {
          if ('error' in resumed.answer) throw new GameError(resumed.answer.error.code, resumed.answer.error.message);
          return { result: resumed.answer.result as InputResult, replayed: true };
        }
        state.held = resumed;
        taken = false;
        if (!resumed.fresh) {
          const answered = await answerClaimedBy(client, player, line, resumed);
          if (answered) return { result: answered, replayed: false };
        }
        // A redo answers only a prompt that was already open when the line was first seen: one opened since may be
        // the question of the line's own command (its first run got that far, e.g. `tasks 12 cancel` asking "Cancel
        // task 12?"), and a line never meant to answer what it caused.
        prompts = resumed.fresh ? undefined : (await openPrompts(client, player)).filter((p) => p.openedAt < resumed.at);
        continue;
      }
      if (state.held) {
        if (isGameError(err) && LIMIT_CODES.has(err.code)) {
          // A refusal from inside the command is its answer: a repeat gets the same one.
          await finishKeyed(state.held, { error: { code: err.code, message: err.message } });
        } else if (!isGameError(err, 'answer_unavailable')) {
          // Nothing kept: a repeat redoes what is missing at once. (A failed answer has settled its key itself.)
          await releaseKeyed(state.held);
        }
      }
      throw err;
    }
  }
}

/**
 * The redo of a line whose first request claimed a prompt with it (the claim and the kept answer commit together),
 * could not raise it, let the key go and then failed to undo the claim (storage went away between the two): the line
 * is still that prompt's answer, so it is raised now and kept as the key's answer. Without this the redo found no open
 * prompt and answered "Command 'y' is not available" while the claim was re-raised later anyway. Undefined when no
 * prompt holds this key's claim (or its instance is gone).
 */
async function answerClaimedBy(client: DurableClient, player: string, line: string, request: KeyedRequest): Promise<InputResult | undefined> {
  const mine = (await listPrompts(player)).find((p) => p.state === 'claimed' && p.claimedAt === request.at && p.answer === line);
  if (!mine) return undefined;
  const answer: InputResult = { kind: 'answer', promptId: mine.promptId, instanceId: mine.instanceId };
  let outcome: 'raised' | 'gone';
  try {
    outcome = await raiseToLive(client, mine.instanceId, answerEvent(mine.promptId), { text: line });
  } catch (err) {
    await releaseKeyed(request);
    throw new GameError('answer_unavailable', `Your answer could not be delivered to the waiting command (${describeError(err).slice(0, 200)}); it was not accepted, send it again.`, { cause: err });
  }
  if (outcome === 'gone') {
    await closePrompt(player, mine.promptId);
    return undefined;
  }
  await finishKeyed(request, { result: answer });
  return answer;
}

/**
 * True when writeMessages commits `messages` and the extra actions in one transaction (one chunk: well under its
 * limits of rows and bytes), so a kept answer can never commit without all of the line's last messages.
 */
function fitsOneChunk(messages: OutMessage[]): boolean {
  return messages.length <= 40 && messages.reduce((n, m) => n + m.text.length, 0) <= 400_000;
}

/** Routes one checked line: the newest open prompt, else a command, else the no-match reply. */
async function runLine(client: DurableClient, player: string, line: string, log: (message: string) => void, keyed?: KeyState, prompts?: Prompt[]): Promise<InputResult> {
  for (const prompt of prompts ?? (await openPrompts(client, player))) {
    const answer: InputResult = { kind: 'answer', promptId: prompt.promptId, instanceId: prompt.instanceId };
    // With a key, the claim and the kept answer commit together: a retry can never find one without the other.
    const claimed = keyed ? await claimKeyed(prompt, line, keyed.line, keyed.held, { result: answer }) : await claimPrompt(prompt, line, Date.now());
    if (!claimed) continue; // another line took it: try the next prompt, then commands
    if (keyed) keyed.held ??= firstNames(keyed.line);
    try {
      if ((await raiseToLive(client, claimed.instanceId, answerEvent(claimed.promptId), { text: line })) === 'gone') {
        // The instance finished without closing its prompt (e.g. terminated): the line goes elsewhere.
        await closePrompt(player, claimed.promptId);
        if (keyed?.held && !(await releaseKeyed(keyed.held, Date.now() + KEY_LEASE_MS))) {
          throw new GameError('storage_unavailable', 'Your line could not be routed (storage did not answer); send it again.');
        }
        continue;
      }
      return answer;
    } catch (err) {
      // Undo the claim, unless the kept answer could not be undone with it: then the claim stands (and is re-raised
      // by the next read of the prompts), and a repeat of the request is told it was an answer, which it is.
      if (!keyed?.held || (await releaseKeyed(keyed.held))) await unclaimPrompt(claimed);
      throw new GameError('answer_unavailable', `Your answer could not be delivered to the waiting command (${describeError(err).slice(0, 200)}); it was not accepted, send it again.`, { cause: err });
    }
  }

  const { key, args } = parseLine(line);
  const def = findCommand(key);
  if (!def) {
    const result: InputResult = { kind: 'nomatch', text: line };
    const reply = [{ player, text: noMatchReply(line) }];
    if (!keyed) {
      await writeMessages({ source: `input.${randomUUID()}`, seq: 0, at: Date.now() }, reply);
    } else if (!keyed.held) {
      // The reply and the key's row commit together (the row is created: an earlier request's answer wins).
      const names = firstNames(keyed.line);
      try {
        await writeMessages({ source: names.base, seq: 0, at: names.at }, reply, Date.now(), { player, actions: [keptAction(keyed.line, { result })] });
      } catch (err) {
        if (err instanceof ExtraConflict && err.status === 409) throw new KeyTaken();
        throw err;
      }
    } else {
      await writeMessages({ source: keyed.held.base, seq: 0, at: keyed.held.at }, reply);
      await finishKeyed(keyed.held, { result });
    }
    return result;
  }

  // A command may write and start many things: it takes the key first, and names them all after it.
  const held = keyed ? (keyed.held ??= await holdKey(keyed.line)) : undefined;
  const source = held?.base ?? `input.${randomUUID()}`;
  const at = (): number => held?.at ?? Date.now();
  const runtime = new ClientRuntime(client, undefined, held && { base: held.base, fresh: held.fresh });
  let seq = 0;
  /**
   * The line's last write; with a key it keeps the answer too, in the same transaction when it can. A plain command
   * that said nothing (`quiet`) keeps none: its key's lease runs out, and a repeat redoes it under the same names (it
   * finds what the first run started, so it answers the same) instead of every such line paying a write.
   */
  const finish = async (result: InputResult, messages: OutMessage[], quiet = false): Promise<InputResult> => {
    if (!held) {
      await writeMessages({ source, seq, at: at() }, messages);
    } else if (quiet && held.fresh && messages.length === 0) {
      // nothing to write
    } else if (held.fresh && messages.length > 0 && fitsOneChunk(messages)) {
      await writeMessages({ source, seq, at: at() }, messages, Date.now(), { player, actions: [finishAction(held, { result })] });
    } else {
      await writeMessages({ source, seq, at: at() }, messages);
      await finishKeyed(held, { result });
    }
    return result;
  };
  if (typeof def.func !== 'function') {
    const id = await runtime.startCommand(player, def.key, args);
    return finish({ kind: 'command', command: def.key, instanceId: id, ok: true }, []);
  }
  const deliver = (messages: OutMessage[]): Promise<void> => writeMessages({ source, seq: seq++, at: at() }, messages);
  const cmd = new CommandContext({ key: def.key, args, player, runtime, deliver });
  let ok = true;
  try {
    await def.func(cmd.caller, args, cmd);
  } catch (err) {
    if (isGameError(err) && LIMIT_CODES.has(err.code)) {
      // A limit the command did not handle is the answer to the line (409); what it said before is delivered.
      await deliver(cmd.drain());
      throw err;
    }
    if (isGameError(err, 'storage_unavailable') || isBackendFailure(err)) {
      // Storage or the Durable backend did not answer: not the command's fault, and not its answer. The line is a
      // 503 to send again (with its key, the resend redoes it under the same names); what it said is said then.
      throw err;
    }
    ok = false;
    const message = err instanceof Error ? err.message : describeError(err);
    log(`command '${def.key}' of player ${player} failed: ${describeError(err)}`);
    cmd.caller.msg(untrappedNotice(def.key, message));
  }
  return finish({ kind: 'command', command: def.key, ok }, cmd.drain(), true);
}

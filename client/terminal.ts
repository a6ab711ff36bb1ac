#!/usr/bin/env node
// The terminal client: `npm run play -- --url http://localhost:7071 --name alice`. Signs in (a new name creates
// the character), prints the game's messages as they arrive, shows an open question as the input prompt, sends
// each typed line once (resent with its Idempotency-Key when no answer came), reconnects on its own, and exits
// with 0 on Ctrl-D or Ctrl-C.
import { parseArgs } from 'node:util';
import { ClientError, errorText, GameApi } from './api';
import { GameConsole } from './console';
import { MessageFeed } from './feed';
import { Questions } from './questions';

const USAGE = `Usage: npm run play -- --name <name> [--url <url>] [--long-poll]

  --name <name>   your character (a new name creates it)
  --url <url>     the game, default $GAME_URL or http://localhost:7071 (on Azure: https://<app>.azurewebsites.net)
  --long-poll     read messages by long polling instead of the event stream
  --help          this text

The password is asked without echo on a terminal; from a pipe it is the first line; GAME_PASSWORD, when set,
is used instead (for scripts). Type commands; Ctrl-D (end of input) or Ctrl-C quits. NO_COLOR turns colors off.`;

/** What the command line asked for. */
export interface PlayOptions {
  url: string;
  name: string;
  longPoll: boolean;
}

/**
 * Reads the command line; throws ClientError with the usage on a mistake, returns null for --help.
 * @example parsePlayArgs(['--name', 'alice'], {}) // → { url: 'http://localhost:7071', name: 'alice', longPoll: false }
 */
export function parsePlayArgs(argv: string[], env: NodeJS.ProcessEnv): PlayOptions | null {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { url: { type: 'string' }, name: { type: 'string' }, 'long-poll': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new ClientError(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  }
  if (values.help) return null;
  const name = values.name?.trim();
  if (!name) throw new ClientError(`--name is required.\n\n${USAGE}`);
  const raw = (values.url ?? env.GAME_URL ?? 'http://localhost:7071').trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClientError(`--url ${JSON.stringify(raw)} is not a URL: give one such as http://localhost:7071.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ClientError(`--url ${JSON.stringify(raw)} must start with http:// or https://.`);
  // The app's address, also when the web client's address (…/api/play) was pasted.
  const base = `${url.origin}${url.pathname}`.replace(/\/+$/, '').replace(/\/api(\/play)?$/, '');
  return { url: base, name, longPoll: Boolean(values['long-poll']) };
}

/** Runs a session; resolves with the exit code. */
export async function play(opts: PlayOptions, io: GameConsole, env: NodeJS.ProcessEnv): Promise<number> {
  const password = env.GAME_PASSWORD || (await io.readPassword(`Password for ${opts.name}: `));
  if (!password) {
    io.error('No password given: nothing was done.');
    return 1;
  }
  const api = new GameApi(opts.url);
  let created: boolean;
  try {
    ({ created } = await api.signIn(opts.name, password));
  } catch (err) {
    io.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  io.status(created ? `Created the character ${api.player} and signed in. Type "help" to begin.` : `Signed in as ${api.player}.`);
  if (io.interactive) io.status('Ctrl-D or Ctrl-C quits; Up and Down recall earlier lines.');

  const questions = new Questions(api, io);
  const feed = new MessageFeed(api, {
    longPoll: opts.longPoll,
    onMessages: (messages) => questions.show(messages),
    onStatus: (s) =>
      io.status(
        s.kind === 'reconnecting'
          ? `reconnecting… (${s.reason})`
          : s.kind === 'connected'
            ? 'connected'
            : s.kind === 'restarted'
              ? `the game refused this client's place in the messages (${s.reason}); reading them again, without repeating any shown`
              : `long polling: ${s.reason}`,
      ),
  });

  return new Promise<number>((resolve) => {
    let sending: Promise<void> = Promise.resolve();
    let finishing = false;
    const finish = async (code: number, how: 'drain' | 'now'): Promise<void> => {
      if (finishing) return;
      finishing = true;
      io.close();
      questions.close();
      if (how === 'drain') await sending; // end of input: the lines already typed are sent first
      await feed.stop();
      if (how === 'drain' && code === 0) await feed.drain();
      resolve(code);
    };
    const fatal = (err: unknown): void => {
      io.error(err instanceof Error ? err.message : String(err));
      void finish(1, 'now');
    };
    const send = async (text: string): Promise<void> => {
      const r = await api.sendLine(text, (why, waitMs) => io.error(`Sending ${JSON.stringify(text)} again in ${Math.ceil(waitMs / 1000)} s (${why})…`));
      if (r === null) io.error(`The game cannot be reached: ${JSON.stringify(text)} was not sent.`);
      else if (r.status !== 202) io.error(errorText(r));
      await questions.refresh(); // an answered question goes; one the line did not answer comes back
    };
    io.start({
      line: (text) => {
        sending = sending.then(() => send(text)).catch(fatal);
      },
      end: () => void finish(0, 'drain'),
      interrupt: () => void finish(0, 'now'),
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void finish(0, 'now'));
    feed.run().catch(fatal);
  });
}

async function main(): Promise<void> {
  const io = new GameConsole(process.stdin, process.stdout, process.stderr, process.env);
  let opts: PlayOptions | null;
  try {
    opts = parsePlayArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if (!opts) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const code = await play(opts, io, process.env);
  // Open keep-alive sockets would hold the process a few seconds more: leave once the output is written.
  process.stdout.write('', () => process.exit(code));
}

if (require.main === module) void main();

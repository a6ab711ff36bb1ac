// The terminal client (npm run play), run as a player runs it against the app on devhost: through pipes, and
// through a pseudo-terminal made by util-linux `script` (skipped, with one loud line, where that is missing). It
// signs up, `testdelay` says "Test!", `waitloop` shows its question distinctly and takes the answer, Ctrl-D exits 0,
// a wrong password or an unreachable app fails clearly, lines the rate limit turned away are resent, and the host
// going away and coming back is survived, over the stream and over long polling.
// UPDATE_TRANSCRIPT=1 writes the pseudo-terminal session to docs/terminal-session.txt.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { APP_DIR, Player, startGame } from '../game/harness';
import { Screen } from './screen';

const CLIENT = path.join(APP_DIR, 'dist/client/terminal.js');
const TRANSCRIPT = path.join(APP_DIR, 'docs/terminal-session.txt');
const QUESTION = 'Do you want to wait another 5 secs?';
/** util-linux `script` runs a command in a pseudo-terminal; the BSD one (macOS) takes other flags. */
const PTY = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') ?? false;
if (!PTY) console.warn('\n*** SKIPPED: the pseudo-terminal tests of the terminal client need util-linux `script` (not found); the pipe tests still run. ***\n');

/** The client as a child process: what it wrote, and (through a pty) what its screen shows. */
class Client {
  out = '';
  err = '';
  readonly screen = new Screen();
  readonly exited: Promise<number | null>;
  private changed: () => void = () => undefined;

  constructor(
    readonly child: ChildProcess,
    readonly tty: boolean,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      this.screen.write(d);
      this.changed();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
      this.changed();
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** Typed keys: through the pty a line ends with Enter (\r), through a pipe with \n. */
  type(line: string): void {
    this.child.stdin!.write(line + (this.tty ? '\r' : '\n'));
  }

  /** Waits until `check` holds, failing with everything the client said so far. */
  async until(what: string, check: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- screen/stdout:\n${this.tty ? this.screen.text() : this.out}\n--- stderr:\n${this.err}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Stdout lines (pipes) or screen lines (pty). */
  lines(): string[] {
    return (this.tty ? this.screen.text() : this.out).split(/\r?\n/);
  }

  count(line: string): number {
    return this.lines().filter((l) => l === line).length;
  }
}

const running: Client[] = [];

/** Starts the client (with `npm: true` as the README says, `npm run play -- …`; else node dist/client/terminal.js). */
function play(url: string, name: string, opts: { tty?: boolean; npm?: boolean; env?: Record<string, string>; args?: string[] } = {}): Client {
  const flags = ['--url', url, '--name', name, ...(opts.args ?? [])];
  const argv = opts.npm ? ['npm', 'run', 'play', '--', ...flags] : [process.execPath, CLIENT, ...flags];
  const env = { ...process.env, ...opts.env };
  delete env.NO_COLOR;
  delete env.GAME_PASSWORD;
  Object.assign(env, opts.env);
  let child: ChildProcess;
  if (opts.tty) {
    const command = ['stty cols 120 rows 50 &&', 'exec', ...argv.map(shellQuote)].join(' ');
    child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: APP_DIR, env: { ...env, TERM: 'xterm-256color' }, stdio: 'pipe' });
  } else {
    child = spawn(argv[0], argv.slice(1), { cwd: APP_DIR, env, stdio: 'pipe', shell: opts.npm && process.platform === 'win32' });
  }
  const client = new Client(child, Boolean(opts.tty));
  running.push(client);
  return client;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

beforeAll(() => {
  if (!fs.existsSync(CLIENT)) throw new Error(`${path.relative(APP_DIR, CLIENT)} is missing: run \`npm run build\` first.`);
});

afterAll(() => {
  for (const c of running) if (c.child.exitCode === null) c.child.kill('SIGKILL');
});

describe('the terminal client', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startGame({}, { autoSkip: true });
  });
  afterAll(async () => host?.dispose());

  it('through pipes: signs up, shows "Test!", shows the question on a line of its own, takes the answers, exits 0 at the end of input', async () => {
    const name = `piper${randomUUID().slice(0, 6)}`;
    const c = play(host.url, name);
    c.type('pipe secret');
    await c.until('the sign-up', () => c.err.includes(`* Created the character ${name} and signed in.`));
    c.type('testdelay');
    await c.until('"Test!"', () => c.count('Test!') === 1);
    c.type('waitloop');
    await c.until('the question', () => c.count(`? ${QUESTION}`) === 1);
    // The question's message is shown as the question, not a second time as plain text.
    expect(c.count(QUESTION)).toBe(0);
    c.type('y');
    await c.until('the question again', () => c.count(`? ${QUESTION}`) === 2);
    c.type('n');
    // The loop has ended: the next line runs as a command, not as an answer.
    const me = new Player(host, name, 'pipe secret');
    await waitUntil(async () => (await me.signIn()).status === 200 && ((await me.get('/api/prompts')).body.prompts as unknown[]).length === 0);
    c.type('testdelay');
    await c.until('"Test!" again', () => c.count('Test!') === 2);
    c.child.stdin!.end();
    expect(await c.exited).toBe(0);
    expect(c.err).not.toContain('long polling'); // the stream, not the fallback
    expect(c.lines().filter((l) => l !== '')).toEqual(['Test!', 'Getting ready to wait ...', 'Now 5 seconds have passed.', `? ${QUESTION}`, 'Getting ready to wait ...', 'Now 5 seconds have passed.', `? ${QUESTION}`, 'Test!']);
  });

  it.skipIf(!PTY)('through a pseudo-terminal (npm run play): no password echo, the question is the input prompt, Ctrl-D exits 0', async () => {
    const name = 'alice';
    const c = play(host.url, name, { tty: true, npm: true });
    await c.until('the password prompt', () => c.screen.current() === `Password for ${name}:`);
    c.type('correct horse');
    await c.until('the sign-up', () => c.screen.text().includes(`* Created the character ${name} and signed in.`));
    await c.until('the input prompt', () => c.screen.current() === '>');
    expect(c.out).not.toContain('correct horse');
    c.type('testdelay');
    await c.until('"Test!"', () => c.count('Test!') === 1);
    c.type('waitloop');
    await c.until('the question as the prompt', () => c.screen.current() === `? ${QUESTION}`);
    expect(c.out).toContain(`\x1b[1;33m? ${QUESTION}`); // bold yellow: colors on a terminal without NO_COLOR
    c.type('y');
    await c.until('the answered question in the scrollback, and the question again', () => c.count(`? ${QUESTION} y`) === 1 && c.count('Now 5 seconds have passed.') === 2 && c.screen.current() === `? ${QUESTION}`);
    c.type('n');
    await c.until('the plain prompt back', () => c.count(`? ${QUESTION} n`) === 1 && c.screen.current() === '>');
    // Up recalls earlier lines (readline's history): three back from "n" and "y" is "waitloop".
    c.child.stdin!.write('\x1b[A\x1b[A\x1b[A');
    await c.until('history recall', () => c.screen.current() === '> waitloop');
    c.child.stdin!.write('\x15'); // Ctrl-U clears the recalled line
    await c.until('an empty input line', () => c.screen.current() === '>');
    c.child.stdin!.write('\x04'); // Ctrl-D
    expect(await c.exited).toBe(0);
    const screen = c.screen.text();
    const session = screen.slice(screen.indexOf('Password for')); // after npm's own lines ("> node dist/client/terminal.js …")
    expect(session.split('\n').filter((l) => /^(> |\? |Test!|Getting|Now)/.test(l))).toEqual([
      '> testdelay',
      'Test!',
      '> waitloop',
      'Getting ready to wait ...',
      'Now 5 seconds have passed.',
      `? ${QUESTION} y`,
      'Getting ready to wait ...',
      'Now 5 seconds have passed.',
      `? ${QUESTION} n`,
    ]);
    if (process.env.UPDATE_TRANSCRIPT === '1') {
      const shown = screen.replaceAll(host.url, 'http://localhost:7071');
      fs.writeFileSync(TRANSCRIPT, `$ npm run play -- --url http://localhost:7071 --name ${name}\n${shown}\n$\n`);
    }
  });

  it.skipIf(!PTY)('through a pseudo-terminal: Ctrl-C with half a line typed exits 0; NO_COLOR means no colors', async () => {
    const c = play(host.url, `ctrlc${randomUUID().slice(0, 6)}`, { tty: true, env: { GAME_PASSWORD: 'from env', NO_COLOR: '1' } });
    await c.until('the input prompt', () => c.screen.current() === '>');
    expect(c.out).not.toContain('\x1b[1;33m');
    c.child.stdin!.write('half a line\x03');
    expect(await c.exited).toBe(0);
  });

  it('a wrong password is refused with the reason and exit code 1, from the pipe and from GAME_PASSWORD', async () => {
    const name = `bob${randomUUID().slice(0, 6)}`;
    await Player.join(host, name);
    const piped = play(host.url, name);
    piped.type('not it');
    expect(await piped.exited).toBe(1);
    expect(piped.err).toBe(`! Sign-in as ${JSON.stringify(name)} failed: Wrong password for player ${JSON.stringify(name)}.\n`);
    const fromEnv = play(host.url, name, { env: { GAME_PASSWORD: 'nor this' } });
    expect(await fromEnv.exited).toBe(1);
    expect(fromEnv.err).toContain('Wrong password');
    const none = play(host.url, name);
    none.child.stdin!.end();
    expect(await none.exited).toBe(1);
    expect(none.err).toBe('! No password given: nothing was done.\n');
  });

  it('from a script: the lines are sent, what they said is shown, and the end of input exits 0', async () => {
    const c = play(host.url, `scripted${randomUUID().slice(0, 6)}`, { env: { GAME_PASSWORD: 'pw' } });
    c.child.stdin!.end('help waitloop\nnosuchthing\n');
    expect(await c.exited).toBe(0);
    expect(c.out).toBe(`waitloop: Waits 5 seconds, then asks whether to wait again (seed example of @interactive).\nCommand 'nosuchthing' is not available. Type "help" for help.\n`);
  });

  it('SIGINT (Ctrl-C at a shell running it in a pipeline) exits 0', async () => {
    const c = play(host.url, `signalled${randomUUID().slice(0, 6)}`, { env: { GAME_PASSWORD: 'pw' } });
    c.type('testdelay');
    await c.until('"Test!"', () => c.count('Test!') === 1);
    c.child.kill('SIGINT');
    expect(await c.exited).toBe(0);
  });

  it('an app that cannot be reached is one line and exit code 1', async () => {
    const closed = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const c = play(`http://127.0.0.1:${closed}`, 'nobody', { env: { GAME_PASSWORD: 'pw' } });
    expect(await c.exited).toBe(1);
    expect(c.err).toBe(`! Cannot reach the game at http://127.0.0.1:${closed} (ECONNREFUSED). Is it running? Check --url.\n`);
  });

  it('a bad command line gets the usage and exit code 2', async () => {
    const c = play(host.url, 'x', { args: ['--nope'] });
    expect(await c.exited).toBe(2);
    expect(c.err).toMatch(/Unknown option '--nope'[^]*Usage: npm run play -- --name <name>/);
  });
});

describe.each([
  { mode: 'the stream', args: [] as string[] },
  { mode: 'long polling (--long-poll)', args: ['--long-poll'] },
])('over $mode', ({ args }) => {
  it('the host going away and coming back: says "reconnecting…" once, then "connected", and gets later messages', async () => {
    const id = randomUUID().replace(/-/g, '').slice(0, 12);
    const env = { GAME_TABLE_PREFIX: `tc${id}` };
    const opts = { storage: 'table' as const, autoSkip: true, taskHub: `Term${id}` };
    let host = await startGame(env, opts);
    try {
      const c = play(host.url, 'rejoiner', { env: { GAME_PASSWORD: 'pw' }, args });
      c.type('testdelay');
      await c.until('"Test!"', () => c.count('Test!') === 1);
      const port = Number(new URL(host.url).port);
      await host.dispose();
      await c.until('"reconnecting…"', () => /^\* reconnecting… \((ECONNRESET|ECONNREFUSED|other side closed)\)$/m.test(c.err));
      host = await startGame(env, { ...opts, port });
      await c.until('"connected"', () => c.err.includes('* connected'));
      c.type('testdelay');
      await c.until('the later "Test!"', () => c.count('Test!') === 2);
      c.child.stdin!.end();
      expect(await c.exited).toBe(0);
      expect(c.out).toBe('Test!\nTest!\n');
      expect(c.err.split('\n').filter((l) => l.startsWith('* reconnecting') || l === '* connected')).toHaveLength(2);
      expect(c.err).not.toContain('long polling');
    } finally {
      await host.dispose();
    }
  });
});

it('a stream the server ends (GAME_STREAM_SECONDS) is reopened quietly from the last id: nothing missed, nothing twice', async () => {
  const host = await startGame({ GAME_STREAM_SECONDS: '1' }, { autoSkip: true });
  try {
    const c = play(host.url, 'streamer', { env: { GAME_PASSWORD: 'pw' } });
    c.type('testdelay');
    await c.until('"Test!"', () => c.count('Test!') === 1);
    await new Promise((r) => setTimeout(r, 2500)); // two ends of a 1 s stream
    c.type('testdelay');
    await c.until('the later "Test!"', () => c.count('Test!') === 2);
    c.child.stdin!.end();
    expect(await c.exited).toBe(0);
    expect(c.out).toBe('Test!\nTest!\n');
    expect(c.err).not.toMatch(/reconnecting|connected\n|long polling/);
  } finally {
    await host.dispose();
  }
});

it('lines typed faster than the rate limit are sent again after Retry-After, and each runs once', async () => {
  const host = await startGame({ GAME_INPUT_BURST: '1', GAME_INPUT_RATE: '1' }, { autoSkip: true });
  try {
    const c = play(host.url, 'hasty', { env: { GAME_PASSWORD: 'pw' } });
    c.child.stdin!.write('testdelay\ntestdelay\n');
    await c.until('two "Test!"', () => c.count('Test!') === 2);
    expect(c.err).toContain('\n! Sending "testdelay" again in 1 s (rate_limited)…\n');
    c.child.stdin!.end();
    expect(await c.exited).toBe(0);
    expect(c.out).toBe('Test!\nTest!\n');
  } finally {
    await host.dispose();
  }
});

it('a server without /api/stream (404) is read by long polling, said once', async () => {
  const host = await startGame({ 'AzureWebJobs.stream.Disabled': 'true' }, { autoSkip: true });
  try {
    const c = play(host.url, 'older', { env: { GAME_PASSWORD: 'pw' } });
    c.type('testdelay');
    await c.until('"Test!"', () => c.count('Test!') === 1);
    c.child.stdin!.end();
    expect(await c.exited).toBe(0);
    expect(c.err.split('\n').filter((l) => l.includes('long polling'))).toEqual(['* long polling: the server has no /api/stream']);
  } finally {
    await host.dispose();
  }
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

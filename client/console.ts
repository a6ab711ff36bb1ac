// The terminal side of the client: the password without echo, typed lines (readline with history on a terminal,
// plain lines from a pipe), and output that does not tear the line being typed. On a terminal an open question is
// the input prompt itself ("? Do you want to wait another 5 secs? "), so the next line visibly answers it.
import readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';

/** What the console tells its owner. */
export interface ConsoleHandlers {
  /** A typed line (never empty or blank). */
  line(text: string): void;
  /** End of input: Ctrl-D on an empty line, or the end of a pipe. */
  end(): void;
  /** Ctrl-C (or SIGINT/SIGTERM from outside). */
  interrupt(): void;
}

/**
 * Control characters (ESC above all) made visible as ^X, so a message cannot move the cursor, retitle the window or
 * recolor the terminal: messages are shown as text only, as the web client does. Tabs and newlines stay.
 * @example sanitize('a\x1b[2Jb') // → 'a^[[2Jb'
 */
export function sanitize(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return '^' + String.fromCharCode(code + 64);
    if (code === 0x7f) return '^?';
    return '\ufffd';
  });
}

const PLAIN_PROMPT = '> ';

/**
 * The player's terminal (or pipes).
 * @example
 * const io = new GameConsole(process.stdin, process.stdout, process.stderr, process.env);
 * const password = await io.readPassword('Password: ');
 * io.start({ line: send, end: quit, interrupt: quit });
 * io.message('Test!');
 */
export class GameConsole {
  /** A person at a terminal: prompts, history and in-place redraws. Otherwise lines in, lines out. */
  readonly interactive: boolean;
  readonly color: boolean;
  private rl: readline.Interface | undefined;
  private handlers: ConsoleHandlers | undefined;
  private queued: string[] = [];
  private ended = false;
  private closed = false;
  private waiting: ((line: string | null) => void) | undefined;
  private linesOpen = false;
  private question: { promptId: string; question: string } | undefined;
  private typedSinceQuestion = false;

  constructor(
    private readonly input: NodeJS.ReadStream,
    private readonly output: NodeJS.WriteStream,
    private readonly errors: NodeJS.WriteStream,
    env: NodeJS.ProcessEnv,
  ) {
    this.interactive = Boolean(input.isTTY && output.isTTY);
    this.color = Boolean(output.isTTY) && !env.NO_COLOR;
  }

  /**
   * Asks for the password. On a terminal: raw mode, nothing echoed, Backspace works, Ctrl-C or Ctrl-D (on an empty
   * entry) cancel. From a pipe: its first line. Resolves null when cancelled or at the end of input.
   */
  readPassword(label: string): Promise<string | null> {
    if (!this.input.isTTY) return this.nextLine();
    const input = this.input;
    input.setRawMode(true); // before the label: a password typed the moment it shows is not echoed either
    this.output.write(label);
    return new Promise((resolve) => {
      const decoder = new StringDecoder('utf8');
      let typed = '';
      const finish = (value: string | null, rest: string): void => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
        if (rest) input.unshift(Buffer.from(rest, 'utf8')); // typed ahead: the first command lines
        this.output.write('\n');
        resolve(value);
      };
      const onData = (chunk: Buffer): void => {
        const text = decoder.write(chunk);
        for (let i = 0; i < text.length; i++) {
          const c = text[i];
          if (c === '\r' || c === '\n') return finish(typed, text.slice(i + 1).replace(/^\n/, ''));
          if (c === '\x03' || (c === '\x04' && typed === '')) return finish(null, '');
          if (c === '\x7f' || c === '\b') typed = [...typed].slice(0, -1).join('');
          else if (c === '\x15') typed = ''; // Ctrl-U
          else if (c >= ' ') typed += c;
        }
      };
      input.on('data', onData);
      input.resume();
    });
  }

  /** Starts taking lines: readline with history on a terminal; queued pipe lines are handed over first. */
  start(handlers: ConsoleHandlers): void {
    this.handlers = handlers;
    if (this.interactive) {
      const rl = readline.createInterface({ input: this.input, output: this.output, terminal: true, historySize: 1000, removeHistoryDuplicates: true, prompt: PLAIN_PROMPT });
      this.rl = rl;
      rl.on('line', (text) => {
        this.typedSinceQuestion = true;
        if (text.trim() !== '') {
          // The line answers the question shown: the next one is a command unless the game asks again.
          if (this.question) {
            this.question = undefined;
            rl.setPrompt(PLAIN_PROMPT);
          }
          handlers.line(text);
        }
        if (!this.closed) rl.prompt();
      });
      rl.on('SIGINT', () => handlers.interrupt());
      rl.on('close', () => {
        if (!this.closed) handlers.end();
      });
      rl.prompt();
      return;
    }
    this.openLines();
    for (const text of this.queued.splice(0)) if (text.trim() !== '') handlers.line(text);
    if (this.ended) handlers.end();
  }

  /** A message from the game. */
  message(text: string): void {
    this.write(this.output, sanitize(text));
  }

  /**
   * The question the next line answers (the newest open prompt), or undefined when none is open. On a terminal it
   * becomes the input prompt; a question that goes away without a line typed under it stays in the scrollback.
   * From a pipe a new question is printed as a line of its own, starting with "? ".
   */
  ask(prompt: { promptId: string; question: string } | undefined): void {
    if (prompt?.promptId === this.question?.promptId) return;
    const previous = this.question;
    this.question = prompt;
    if (!this.rl) {
      if (prompt) this.write(this.output, this.paint('1;33', `? ${sanitize(prompt.question)}`));
      return;
    }
    if (previous && !this.typedSinceQuestion) this.write(this.output, this.paint('33', `? ${sanitize(previous.question)}`));
    this.typedSinceQuestion = false;
    this.rl.setPrompt(prompt ? this.paint('1;33', `? ${sanitize(prompt.question)}`) + ' ' : PLAIN_PROMPT);
    this.redraw();
  }

  /** The promptId of the question shown now (see ask). */
  get asking(): string | undefined {
    return this.question?.promptId;
  }

  /**
   * A line about the connection or the session ("connected"), dim on a terminal; to stderr from a pipe. Shown as
   * text (sanitize): it may carry what the server said (a reconnect's reason).
   */
  status(text: string): void {
    this.write(this.interactive ? this.output : this.errors, this.paint('2', `* ${sanitize(text)}`));
  }

  /** A line about something that went wrong (often the server's error message, shown as text); red on a terminal; to stderr from a pipe. */
  error(text: string): void {
    this.write(this.interactive ? this.output : this.errors, this.paint('31', `! ${sanitize(text)}`));
  }

  /** Stops reading input and gives the terminal back (cooked mode, a fresh line). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.rl) {
      this.output.write('\n');
      this.rl.close();
    }
    this.input.pause();
  }

  /** Pipe input: one readline without terminal features; lines wait in `queued` until start(). */
  private openLines(): void {
    if (this.linesOpen) return;
    this.linesOpen = true;
    const rl = readline.createInterface({ input: this.input, terminal: false });
    rl.on('line', (text) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        return w(text);
      }
      if (this.handlers) {
        if (text.trim() !== '') this.handlers.line(text);
      } else this.queued.push(text);
    });
    rl.on('close', () => {
      this.ended = true;
      this.waiting?.(null);
      this.waiting = undefined;
      if (this.handlers && !this.closed) this.handlers.end();
    });
  }

  private nextLine(): Promise<string | null> {
    this.openLines();
    const queued = this.queued.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  /** Writes a whole line above the one being typed, then puts the prompt and the typed text back. */
  private write(stream: NodeJS.WriteStream, line: string): void {
    if (this.rl && this.interactive && !this.closed) {
      readline.cursorTo(this.output, 0);
      readline.clearLine(this.output, 0);
      stream.write(line + '\n');
      this.rl.prompt(true);
      return;
    }
    stream.write(line + '\n');
  }

  private redraw(): void {
    if (!this.rl || this.closed) return;
    readline.cursorTo(this.output, 0);
    readline.clearLine(this.output, 0);
    this.rl.prompt(true);
  }
}

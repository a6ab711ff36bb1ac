// Which open question the next line answers. The game says a question as a message and opens its prompt in the
// same commit, so when a batch of messages arrives the open prompts (GET /api/prompts) are read, and the message
// that is the newest prompt's question is shown as that question instead of as plain text.
import type { GameApi, Message, Prompt } from './api';
import type { GameConsole } from './console';

/** How long an open prompt waits for the message that asks it before it is shown without it. */
const MESSAGE_WAIT_MS = 1500;

/**
 * Shows messages and keeps the console's question in step with the open prompts.
 * @example
 * const questions = new Questions(api, io);
 * await questions.show([{ id: 'm1', text: 'Do you want to wait another 5 secs?', time: '…' }]); // → "? Do you …"
 */
export class Questions {
  private requested = 0;
  private applied = 0;
  /** Prompts already shown as the question once: when one comes back (a newer one was answered), no wait. */
  private seen = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly api: GameApi,
    private readonly io: GameConsole,
  ) {}

  /** Prints a batch of messages in order; the newest open prompt's question (its last copy) is shown as a question. */
  async show(messages: Message[]): Promise<void> {
    const open = await this.read();
    const newest = open?.[0];
    let questionAt = -1;
    if (newest && newest.promptId !== this.io.asking) {
      for (let i = messages.length - 1; i >= 0; i--) {
        if (messages[i].text === newest.question) {
          questionAt = i;
          break;
        }
      }
    }
    messages.forEach((m, i) => (i === questionAt && newest ? this.adopt(newest) : this.io.message(m.text)));
    if (open) this.apply(open, false);
  }

  /** Reads the open prompts again (after a line answered one) and shows the newest. */
  async refresh(): Promise<void> {
    const open = await this.read();
    if (open) this.apply(open, false);
  }

  /** Stops a pending check. */
  close(): void {
    clearTimeout(this.timer);
  }

  /**
   * Shows the newest open prompt. One not shown before waits for its message (the prompt row can be read a moment
   * before the feed brings the message that asks it, and the question should come after the lines said before
   * it); if that message never comes (trimmed from an old history), the question is shown anyway a moment later.
   */
  private apply(open: Prompt[], now: boolean): void {
    const newest = open[0];
    if (!newest) return this.io.ask(undefined);
    if (newest.promptId === this.io.asking) return;
    if (now || this.seen.has(newest.promptId)) return this.adopt(newest);
    if (this.io.asking && !open.some((p) => p.promptId === this.io.asking)) this.io.ask(undefined);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.read()
        .then((later) => later && this.apply(later, true))
        .catch(() => undefined);
    }, MESSAGE_WAIT_MS).unref();
  }

  private adopt(prompt: Prompt): void {
    this.seen.add(prompt.promptId);
    this.io.ask(prompt);
  }

  /** The open prompts, or null when they could not be read or a newer read already answered. */
  private async read(): Promise<Prompt[] | null> {
    const seq = ++this.requested;
    const open = await this.api.prompts();
    if (!open || seq < this.applied) return null;
    this.applied = seq;
    return open;
  }
}

// What a command sees: `caller` (who typed it; `caller.msg` buffers text for them) and `cmd` (the command's
// context, which delay()/runAsync() take as their first argument). One class serves HTTP functions,
// orchestrations and callbacks; only the runtime that executes steps differs.
import type { DurableOrchestrationContext } from 'durable-functions';
import { checkMessage, type OutMessage } from './outbox';
import type { Runtime } from './steps';
import { TaskHandle } from './tasks';

/** The player a command runs for. */
export interface Caller {
  /** The player's id (lower-case name). */
  readonly player: string;
  /**
   * Sends text to this player. Buffered, and delivered when the command returns (plain commands, callbacks)
   * or before the next wait (interactive commands).
   */
  msg(text: string): void;
}

/** A command's context: pass it to delay(), runAsync(), and use it to reach tasks and other players. */
export interface Cmd {
  /** The command key that was typed (for callbacks: the command that scheduled them). */
  readonly key: string;
  /** The text after the key. */
  readonly args: string;
  readonly caller: Caller;
  readonly player: string;
  /** Sends text to any player (buffered like caller.msg). */
  tell(player: string, text: string): void;
  /** A handle on one of this player's tasks by id (methods fail with task_not_found for other ids). */
  task(id: string): TaskHandle;
  /** Inside interactive() only: the Durable context, to yield Durable tasks directly. */
  readonly df?: DurableOrchestrationContext;
  /** @internal how steps started from this context run. */
  readonly runtime: Runtime;
}

/**
 * The one Cmd implementation: buffers messages, hands out task handles.
 *
 * @example
 * const cmd = new CommandContext({ key: 'look', args: '', player: 'alice', runtime });
 * cmd.caller.msg('You see a room.');
 * await writeMessages(batch, cmd.drain());
 */
export class CommandContext implements Cmd {
  readonly key: string;
  readonly args: string;
  readonly player: string;
  readonly caller: Caller;
  readonly runtime: Runtime;
  readonly df?: DurableOrchestrationContext;
  private buffer: OutMessage[] = [];

  /**
   * `deliver`, when given, writes the buffered messages before each step runs (HTTP functions and callbacks), so
   * what a command said before starting a task is readable before anything the task says.
   */
  constructor(init: { key: string; args: string; player: string; runtime: Runtime; df?: DurableOrchestrationContext; deliver?: (messages: OutMessage[]) => Promise<void> }) {
    this.key = init.key;
    this.args = init.args;
    this.player = init.player;
    const { runtime, deliver } = init;
    this.runtime = deliver
      ? {
          where: runtime.where,
          run: async (spec) => {
            const pending = this.drain();
            if (pending.length > 0) await deliver(pending);
            return runtime.run(spec);
          },
        }
      : runtime;
    this.df = init.df;
    const tell = (player: string, text: string): void => this.tell(player, text);
    const player = init.player;
    this.caller = Object.freeze({
      player,
      msg(text: string): void {
        tell(player, text);
      },
      toJSON: () => ({ player }),
    });
  }

  tell(player: string, text: string): void {
    this.buffer.push({ player, text: checkMessage(text) });
  }

  task(id: string): TaskHandle {
    return new TaskHandle(id, this.player, this.runtime);
  }

  /** Takes the buffered messages (the caller delivers them). */
  drain(): OutMessage[] {
    const out = this.buffer;
    this.buffer = [];
    return out;
  }

  /** True when messages wait for delivery. */
  get pending(): boolean {
    return this.buffer.length > 0;
  }
}

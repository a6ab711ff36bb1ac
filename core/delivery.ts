// The `deliver` activity's work: one flush of an interactive command. Messages and prompt changes of the command's
// player commit in one transaction (a question is readable exactly when its prompt is open); a retry is a no-op.
import type { DeliverInput } from './driver';
import { ExtraConflict, MAX_EXTRA_ACTIONS, writeMessages } from './outbox';
import { openAndClosePrompts, promptActions } from './prompts';

/**
 * Writes one flush. Falls back to separate writes (prompt first, then messages) when the prompt rows conflict,
 * e.g. a prompt another path already closed.
 *
 * @example
 * await deliver({ batch: { source: 'alice.cmd.1.g0', seq: 0 }, messages: [{ player: 'alice', text: 'Continue?' }], openPrompt });
 */
export async function deliver(d: DeliverInput, nowMs = Date.now()): Promise<void> {
  const closes = d.closePrompts ?? [];
  const player = d.openPrompt?.player ?? closes[0]?.player;
  const together = player !== undefined && closes.every((c) => c.player === player) && closes.length < MAX_EXTRA_ACTIONS; // + the open: at most MAX_EXTRA_ACTIONS
  if (together) {
    try {
      await writeMessages(d.batch, d.messages, nowMs, { player, actions: promptActions(d.openPrompt, closes) });
      return;
    } catch (err) {
      if (!(err instanceof ExtraConflict)) throw err;
    }
  }
  // The prompt opens before its question becomes readable, so a fast answer always finds it. A batch with prompt
  // changes is never written under its own time (`at`): a retry finds the marker of whichever path wrote it.
  await openAndClosePrompts(d.openPrompt, closes);
  const batch = player === undefined ? d.batch : { source: d.batch.source, seq: d.batch.seq };
  await writeMessages(batch, d.messages, nowMs);
}

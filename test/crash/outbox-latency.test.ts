// A message whose write is held up on its way to storage (a slow network, or the SDK retrying until an outage ends)
// still reaches a reader that follows along with a cursor. Readers look back WINDOW_MS behind their cursor, so a
// write must commit within that long of its rows' time, or fail and be written again (found by the outage test:
// "w3 to read the confirmation of reminder 606s" timed out, the message stored but never delivered).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { isGameError } from '../../core/errors';
import { readMessages, WINDOW_MS, writeMessages } from '../../core/outbox';
import { forward, type Forwarder } from './proxy';

let fwd: Forwarder;

beforeAll(async () => {
  // The game's tables through a forwarder in front of the test run's Azurite (this test file's process only).
  const cs = inject('azuriteConnectionString');
  const port = Number(/TableEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(cs)?.[1]);
  fwd = await forward(port);
  process.env.AzureWebJobsStorage = cs.replace(`127.0.0.1:${port}`, `127.0.0.1:${fwd.port}`);
  process.env.GAME_TABLE_PREFIX = `late${randomUUID().replace(/-/g, '').slice(0, 10)}`;
});
afterAll(async () => fwd?.close());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('a message write held up longer than the readers look back fails (and is written again) instead of landing unseen', async () => {
  const player = 'late';
  await writeMessages({ source: 'a', seq: 0 }, [{ player, text: 'A' }]);
  const first = await readMessages(player);
  expect(first.messages.map((m) => m.text)).toEqual(['A']);

  // B's request is held up on the network for longer than readers look back.
  fwd.hold();
  const b = writeMessages({ source: 'b', seq: 0 }, [{ player, text: 'B' }]).then(
    () => 'written' as const,
    (err: unknown) => err,
  );
  await sleep(WINDOW_MS + 500);
  // Meanwhile C is written and read: the reader's cursor moves past it.
  fwd.passNew();
  await writeMessages({ source: 'c', seq: 0 }, [{ player, text: 'C' }]);
  const second = await readMessages(player, first.cursor);
  expect(second.messages.map((m) => m.text)).toEqual(['C']);
  // Now B's request gets through, if it is still there.
  fwd.release();
  const outcome = await b;
  if (outcome !== 'written') {
    // Refused as storage trouble: its caller writes it again, as an activity retry or a client's resend does.
    expect(isGameError(outcome, 'storage_unavailable'), String(outcome)).toBe(true);
    await writeMessages({ source: 'b', seq: 0 }, [{ player, text: 'B' }]);
  }

  const later: string[] = [];
  let cursor = second.cursor;
  for (let page = await readMessages(player, cursor); page.messages.length > 0; page = await readMessages(player, cursor)) {
    later.push(...page.messages.map((m) => m.text));
    cursor = page.cursor;
  }
  expect(later, 'what the reader gets after C').toEqual(['B']);
  expect((await readMessages(player)).messages.map((m) => m.text).sort(), 'everything, once').toEqual(['A', 'B', 'C']);
}, 30_000);

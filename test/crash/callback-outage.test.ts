// A callback that cannot reach storage runs again until it can (for OUTAGE_RETRY_MS), and only then: a failure of its
// own is reported at once, as before. test/crash/outage.test.ts shows why (a reminder due during an outage was lost).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DurableClient } from 'durable-functions';
import { runCallback } from '../../core/callbackRunner';
import { GameError } from '../../core/errors';
import { readMessages } from '../../core/outbox';
import { callback } from '../../core/registry';

const calls = new Map<string, number>();
const outage = (): GameError => new GameError('storage_unavailable', 'Table storage failed to write 1 message(s): read ECONNRESET');

beforeAll(() => {
  process.env.GAME_TABLE_PREFIX = `cb${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  // Says something, then fails as storage would for its first `n` runs, then says more (each run says the same first).
  callback('outageThenOk', (ctx, n: number) => {
    const run = (calls.get(ctx.taskId) ?? 0) + 1;
    calls.set(ctx.taskId, run);
    ctx.caller.msg('working');
    if (run <= n) throw outage();
    ctx.caller.msg('done');
    return run;
  });
  callback('ownFailure', (ctx) => {
    calls.set(ctx.taskId, (calls.get(ctx.taskId) ?? 0) + 1);
    throw new Error('the callback gave up');
  });
});

const noClient = (() => {
  throw new Error('no Durable client in this test');
}) as unknown as () => DurableClient;

function input(player: string, args: unknown[]): { player: string; command: string; taskId: string; batch: string; args: unknown[] } {
  const taskId = `${player}.delay.${randomUUID()}`;
  return { player, command: 'remind', taskId, batch: `${taskId}.fire`, args };
}

describe('runCallback while storage is unavailable', () => {
  it('runs the callback again, 0.5 s, 1 s, 2 s ... apart, and what it said is written once', async () => {
    const waits: number[] = [];
    const i = input('cbretry', [3]);
    const result = await runCallback('outageThenOk', i, noClient, () => undefined, { sleep: async (ms) => void waits.push(ms) });
    expect(result).toBe(4);
    expect(calls.get(i.taskId)).toBe(4);
    expect(waits).toEqual([500, 1000, 2000]);
    const { messages } = await readMessages('cbretry');
    expect(messages.map((m) => m.text)).toEqual(['working', 'done']);
  });

  it('gives up after retryForMs with the storage error as the callback failure', async () => {
    const i = input('cbgiveup', [100]);
    await expect(runCallback('outageThenOk', i, noClient, () => undefined, { retryForMs: 0, sleep: async () => undefined })).rejects.toThrow(/^Table storage failed to write/);
    expect(calls.get(i.taskId)).toBe(1);
  });

  it("does not run a callback again for a failure of its own", async () => {
    const i = input('cbown', []);
    await expect(runCallback('ownFailure', i, noClient, () => undefined, { sleep: async () => undefined })).rejects.toThrow(/^the callback gave up$/);
    expect(calls.get(i.taskId)).toBe(1);
  });
});

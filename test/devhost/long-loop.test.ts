// A plain orchestration loop (no continue-as-new) keeps a meta of constant size on the table store: the engine's
// bookkeeping holds only what is pending now, and what grows with every round (the history and the action
// signatures of the determinism check) is appended in rows of its own. Before, the meta grew about 164 characters a
// round (activity + timer + event) and the instance failed with PayloadTooLarge after about 2,800 rounds.
// The 10,000-round run itself is a benchmark (npm run bench -- --only long-loop): the SDK replays the whole
// history every episode, so it takes minutes, as it would on Azure.
import { expect, it } from 'vitest';
import { startFixture, uid } from './support';

it('the meta of a plain loop does not grow from round to round (table store)', async () => {
  const host = await startFixture('episodes-app', 'table');
  try {
    const client = host.client();
    const id = await client.startNew('plainLoop', { instanceId: uid('loop'), input: { rounds: 200 } });
    const metaSize = async (): Promise<number> => JSON.stringify(await host.host.store.getMeta(id)).length;
    const sizes: Record<number, number> = {};
    for (let round = 0; round < 200; ) {
      await host.advance('1s');
      round = ((await host.host.status(id))?.customStatus as { round?: number } | null)?.round ?? round;
      if (round === 30 || round === 199) sizes[round] = await metaSize();
    }
    expect(await host.waitFor(id)).toMatchObject({ runtimeStatus: 'Completed', output: 200 });
    expect(sizes[30]).toBeGreaterThan(0);
    // The ids and times in it gain a digit now and then; nothing is added per round.
    expect(Math.abs(sizes[199] - sizes[30])).toBeLessThan(40);
  } finally {
    await host.dispose();
  }
}, 120_000);

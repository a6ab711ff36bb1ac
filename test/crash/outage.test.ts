// Storage outage under load: the game runs as a devhost process on the table store, on an Azurite of its own (with a
// data folder) reached through TCP forwarders; Azurite is stopped for 10 s and started again on the same data while
// players keep typing, reading and answering. After it: the crash test's invariants (every accepted line ran or
// answered once, every reminder fired once or was cancelled, no message twice or lost, nothing unfinished), and the
// only 5xx the players saw are 503s to requests made while storage was down.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { AZURITE_ACCOUNT, AZURITE_KEY, startAzurite, type RunningAzurite } from '../support/azurite';
import { killAllHostProcesses, startHostProcess } from './devhost-process';
import { Client, Player, settleAndCheck, until, wait, work, type Target } from './load';
import { forward, type Forwarder } from './proxy';

/**
 * How long Azurite stays stopped: longer than the retries of one storage request (the Azure SDK's 3, about 7 s) and
 * than the 5 tries of the driver's own activities (0.5 + 1 + 2 + 4 s apart), shorter than the host's lease (17 s).
 */
const OUTAGE_MS = 10_000;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'outage-azurite-'));
let azurite: RunningAzurite | undefined;
afterAll(async () => {
  killAllHostProcesses();
  await azurite?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it.skipIf(process.platform === 'win32')(
  `Azurite stopped for ${OUTAGE_MS / 1000} s under load: nothing lost, repeated or stuck, and 503s only while it is down`,
  async () => {
    azurite = await startAzurite({ location: dataDir });
    const services = ['blob', 'queue', 'table'] as const;
    const fwd = {} as Record<(typeof services)[number], Forwarder>;
    for (const s of services) fwd[s] = await forward(azurite.ports[s]);
    const endpoint = (port: number): string => `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
    const connectionString =
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${endpoint(fwd.blob.port)};QueueEndpoint=${endpoint(fwd.queue.port)};TableEndpoint=${endpoint(fwd.table.port)};`;
    const host = await startHostProcess({
      taskHub: 'Outage',
      env: {
        AzureWebJobsStorage: connectionString,
        GAME_TOKEN_SECRET: 'outage-secret-0123456789abcdef0123456789',
        GAME_PASSWORD_COST: '10',
        GAME_SIGNUPS_PER_HOUR: '10000',
        GAME_TABLE_PREFIX: `o${randomUUID().replace(/-/g, '').slice(0, 12)}`,
        GAME_DEV_COMMANDS: '0',
        DEVHOST_FAULTS: undefined,
      },
    });
    const target: Target = { url: host.url };
    const deadline = Date.now() + 150_000;
    const client = new Client(target, () => deadline);
    const workers = ['w1', 'w2', 'w3'].map((n) => new Player(n, client));
    const waiters = ['q1', 'q2'].map((n) => new Player(n, client));
    const players = [...workers, ...waiters];
    let downAt = Infinity;
    let upAt = Infinity;
    fwd.table.cutWhen('Reminder: r-w1-4', () => {
      downAt = Date.now();
      for (const s of services) fwd[s].retarget(undefined);
    });
    try {
      await Promise.all(players.map((p) => p.signIn()));
      let workersDone = false;
      let waitersDone = false;
      const readers = players.map((p) => p.readUntil(() => workersDone));
      const waiting = Promise.all(waiters.map((p) => wait(p, [['yes', 'no']]))).then(() => (waitersDone = true));
      const working = Promise.all(workers.map((p) => work(p, () => (waitersDone && Date.now() > upAt + 3000) || Date.now() > deadline - 60_000, 150))).then(() => (workersDone = true));

      // The outage begins the moment w1's 4th reminder is being written (its callback activity is running): storage
      // refuses every connection from then on, and Azurite stops (saving its data). OUTAGE_MS later it starts again on
      // the same data and the forwarders point at its new ports.
      await until(
        "w1's 4th reminder on its way to storage",
        () => (downAt < Infinity ? true : undefined),
        60_000,
      );
      await azurite.stop();
      await sleep(downAt + OUTAGE_MS - Date.now());
      azurite = await startAzurite({ location: dataDir });
      for (const s of services) fwd[s].retarget(azurite.ports[s]);
      upAt = Date.now();

      await Promise.all([waiting, working, ...readers]);
      const { problems, figures } = await settleAndCheck(players, client, 60_000);
      const outOfOutage = client.exchanges
        .filter((e) => e.status >= 500 && !(e.status === 503 && e.at >= downAt && e.sentAt < upAt))
        .map((e) => `${e.method} ${e.path} ${e.status} ${e.code ?? ''} sent ${e.sentAt - downAt} ms after the outage began, answered ${e.at - downAt} ms after (it ended at ${upAt - downAt} ms)`);
      console.info(`outage test: Azurite down ${upAt - downAt} ms; ${JSON.stringify(figures)}`);
      expect(host.child.exitCode, `the host kept running. Output:\n${host.output()}`).toBe(null);
      expect(problems).toEqual([]);
      expect(outOfOutage, '5xx other than 503, or outside the outage').toEqual([]);
      expect(figures.status503, 'players felt the outage').toBeGreaterThan(0);
    } finally {
      host.kill();
      for (const s of services) await fwd[s].close();
    }
  },
  180_000,
);

// Crash test that can fail: the game runs as a separate devhost process on the table store (the test run's Azurite)
// under a mixed load, and is killed with SIGKILL mid-episode, mid-activity, mid-commit and with an answer unsent
// (devhost fault points, devhost/faults.ts, choose the moment: the n-th pass of a point), then started again on the
// same storage and task hub. The load resends like the web client. After it: every accepted line ran or answered
// exactly once, every reminder fired exactly once or was cancelled, no message was delivered twice or lost, no
// instance is left unfinished.
import { randomUUID } from 'node:crypto';
import { afterAll, expect, inject, it } from 'vitest';
import { killAllHostProcesses, startHostProcess, type HostProcess } from './devhost-process';
import { Client, Player, settleAndCheck, until, wait, work, type Target } from './load';

afterAll(killAllHostProcesses);

/** One host process per entry, killed at that fault point; then one without faults. */
const FAULTS = [
  'episode.commit:delay@8', // mid-episode: a reminder's episode ran, nothing of it stored
  'activity.done:cb_remind@2', // mid-activity: "Reminder: ..." is written, the callback's completion is lost
  'store.commit.after:command@6', // mid-commit: a waitloop episode landed, the store's bookkeeping did not
  'http.response:input@12', // a typed line ran, its answer never reached the player (who sends it again)
  'store.commit.before:runAsync@5', // mid-commit: the index row may say "unfinished", the job's transaction was not sent
  'activity.done:deliver@4', // mid-activity: a waitloop's messages and prompt are written, the completion is lost
  'store.commit.after:delay@12', // mid-commit: a reminder's transaction landed, its bookkeeping did not
];

it.skipIf(process.platform === 'win32')(
  'a devhost killed with SIGKILL at 7 fault points under load loses, repeats and strands nothing',
  async () => {
    const taskHub = `Crash${Date.now().toString(36)}${Math.floor(performance.now() % 1e6).toString(36)}`;
    const env = {
      AzureWebJobsStorage: inject('azuriteConnectionString'),
      GAME_TOKEN_SECRET: 'crash-secret-0123456789abcdef0123456789',
      GAME_PASSWORD_COST: '10',
      GAME_SIGNUPS_PER_HOUR: '10000',
      GAME_TABLE_PREFIX: `c${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      GAME_DEV_COMMANDS: '0',
      // Index rows say "idle" after 100 ms of quiet (not 30 s), so the kills also meet hints raised and lowered under
      // load, and the restarts leave idle instances in the store (devhost/store/idle-hints.ts).
      DEVHOST_IDLE_AFTER_MS: '100',
    };
    const target: Target = { url: undefined };
    const kills: { fault: string; signal: string | null; reached: boolean; atMs: number }[] = [];
    let stopping = false;
    let current: HostProcess | undefined;
    const t0 = Date.now();

    // The supervisor: a host per fault; when one dies, the next starts on the same storage at once.
    const supervisor = (async () => {
      for (let i = 0; !stopping; i++) {
        const fault = FAULTS[i];
        current = await startHostProcess({ taskHub, env: { ...env, DEVHOST_FAULTS: fault } });
        target.url = current.url;
        const exit = await current.exited;
        target.url = undefined;
        if (stopping) return;
        kills.push({ fault: fault ?? '(none)', signal: exit.signal, reached: fault !== undefined && current.output().includes(`devhost: fault ${fault} reached`), atMs: Date.now() - t0 });
        if (fault === undefined) throw new Error(`the host without faults exited (${JSON.stringify(exit)}). Output:\n${current.output()}`);
      }
    })();

    const deadline = t0 + 150_000;
    const client = new Client(target, () => deadline);
    const workers = ['w1', 'w2', 'w3'].map((n) => new Player(n, client));
    const waiters = ['q1', 'q2', 'q3'].map((n) => new Player(n, client));
    const players = [...workers, ...waiters];
    const hostFailed = supervisor.then(() => undefined as never);
    try {
      await Promise.race([until('the first host', () => target.url, 60_000), hostFailed]);
      await Promise.race([Promise.all(players.map((p) => p.signIn())), hostFailed]);
      let waitersDone = false;
      let workersDone = false;
      const allKilled = () => kills.length >= FAULTS.length;
      const readers = players.map((p) => p.readUntil(() => workersDone));
      const waiting = Promise.all(waiters.map((p) => wait(p, [['yes', 'no'], ['no']]))).then(() => (waitersDone = true));
      // Workers keep the load on until the waiters are done and every fault has fired (or the deadline is near).
      const working = Promise.all(workers.map((p) => work(p, () => (waitersDone && allKilled()) || Date.now() > deadline - 60_000, 150))).then(() => (workersDone = true));
      await Promise.race([Promise.all([waiting, working, ...readers]), hostFailed]);
      expect(kills.map((k) => ({ fault: k.fault, signal: k.signal, reached: k.reached })), 'each host died of SIGKILL at its fault point').toEqual(
        FAULTS.map((fault) => ({ fault, signal: 'SIGKILL', reached: true })),
      );

      const { problems, figures } = await settleAndCheck(players, client, 60_000);
      const serverErrors = client.exchanges.filter((e) => e.status >= 500).map((e) => `${e.method} ${e.path} ${e.status} ${e.code ?? ''}`);
      console.info(`crash test: ${kills.length + 1} host runs, ${kills.length} kills at ${kills.map((k) => `${k.fault} (${k.atMs} ms)`).join(', ')}; ` + `${JSON.stringify(figures)}`);
      expect(problems).toEqual([]);
      expect(serverErrors, 'no 5xx without a storage outage').toEqual([]);
    } finally {
      stopping = true;
      current?.kill();
      await supervisor.catch(() => undefined);
    }
  },
  180_000,
);

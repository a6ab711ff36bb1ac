// The public Durable management API under /runtime/webhooks/durabletask, called with raw HTTP on both stores:
// documented codes, headers and JSON (start, status, history, events, terminate, suspend/resume, restart, purge, list).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { MGMT, STORES, type StatusJson, expectHostError, historyOf, peek, postJson, startFixture, startViaHttp, statusViaHttp, uid } from './support';

const MANAGEMENT_KEYS = [
  'id',
  'statusQueryGetUri',
  'sendEventPostUri',
  'terminatePostUri',
  'purgeHistoryDeleteUri',
  'restartPostUri',
  'suspendPostUri',
  'resumePostUri',
];
const STATUS_KEYS = ['name', 'instanceId', 'runtimeStatus', 'input', 'customStatus', 'output', 'createdTime', 'lastUpdatedTime'];
/** Status times are formatted yyyy-MM-ddTHH:mm:ssZ, without fraction. */
const STATUS_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];

describe.each(STORES)('management API on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  /** Starts a 'waiter' (waits for 'Proceed') and lets it reach its wait. */
  async function startWaiter(): Promise<string> {
    const id = await startViaHttp(host, 'waiter');
    await host.idle();
    return id;
  }

  /** Starts a 'hello' and waits until it completed. */
  async function finishedHello(): Promise<string> {
    const id = await startViaHttp(host, 'hello');
    await host.waitFor(id);
    return id;
  }

  describe('POST orchestrators/{name}[/{id}]', () => {
    it('without an id: 202, Location, Retry-After and the management URLs for a new 32-hex id', async () => {
      const res = await host.fetch(`${MGMT}/orchestrators/hello`, { method: 'POST' });
      expect(res.status, await peek(res)).toBe(202);
      const body = (await res.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual([...MANAGEMENT_KEYS].sort());
      expect(body.id).toMatch(/^[0-9a-f]{32}$/);
      expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
      expect(res.headers.get('retry-after')).toBe('10');
      const base = `${host.url}${MGMT}/instances/${body.id}`;
      expect(body.statusQueryGetUri.startsWith(base)).toBe(true);
      expect(body.sendEventPostUri.startsWith(`${base}/raiseEvent/{eventName}`)).toBe(true);
      expect(body.terminatePostUri.startsWith(`${base}/terminate?reason={text}`)).toBe(true);
      expect(body.suspendPostUri.startsWith(`${base}/suspend?reason={text}`)).toBe(true);
      expect(body.resumePostUri.startsWith(`${base}/resume?reason={text}`)).toBe(true);
      expect(body.purgeHistoryDeleteUri.startsWith(base)).toBe(true);
      expect(body.restartPostUri.startsWith(`${base}/restart`)).toBe(true);

      await host.waitFor(body.id);
      const status = await fetch(body.statusQueryGetUri);
      expect(status.status).toBe(200);
      expect(((await status.json()) as StatusJson).output).toEqual(HELLO);
    });

    it('with an id and a JSON input: 202 for that id, and the status shows the input', async () => {
      const id = uid('mgmt-start');
      const res = await postJson(host, `${MGMT}/orchestrators/fanOutFanIn/${id}`, 2);
      expect(res.status, await peek(res)).toBe(202);
      expect(((await res.json()) as { id: string }).id).toBe(id);
      const done = await host.waitFor(id);
      expect(done.input).toBe(2);
      expect(done.output).toEqual({ results: [2, 4], sum: 6 });
    });

    it('refuses the id of a running instance with a JSON error, and leaves that instance alone', async () => {
      const id = await startWaiter();
      const res = await postJson(host, `${MGMT}/orchestrators/hello/${id}`, 'other input');
      expect(res.status, await peek(res)).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message).toContain(id);

      const { code, body: status } = await statusViaHttp(host, id);
      expect(code).toBe(202);
      expect(status.name).toBe('waiter');
      expect(status.runtimeStatus).toBe('Running');
      expect(status.input).toBeNull();
    });

    it('accepts the id of a finished instance and runs it again', async () => {
      const id = await finishedHello();
      const again = await postJson(host, `${MGMT}/orchestrators/fanOutFanIn/${id}`, 1);
      expect(again.status, await peek(again)).toBe(202);
      const done = await host.waitFor(id);
      expect(done.name).toBe('fanOutFanIn');
      expect(done.output).toEqual({ results: [2], sum: 2 });
    });
    it.each(['player 1:look', "o'brien", 'héllo✓ wörld'])('accepts the valid id %j and hands back URLs that work', async (id) => {
      const res = await postJson(host, `${MGMT}/orchestrators/fanOutFanIn/${encodeURIComponent(id)}`, 1);
      expect(res.status, await peek(res)).toBe(202);
      const body = (await res.json()) as { id: string; statusQueryGetUri: string };
      expect(body.id).toBe(id);
      await host.waitFor(id);
      for (const url of [res.headers.get('location') ?? '', body.statusQueryGetUri]) {
        const status = await fetch(url);
        expect(status.status, url).toBe(200);
        expect(((await status.json()) as StatusJson).instanceId).toBe(id);
      }
    });

    it('instance ids are case-sensitive', async () => {
      const upper = uid('Case');
      const lower = upper.toLowerCase();
      await startViaHttp(host, 'fanOutFanIn', 1, upper);
      await startViaHttp(host, 'fanOutFanIn', 2, lower);
      expect((await host.waitFor(upper)).output).toEqual({ results: [2], sum: 2 });
      expect((await host.waitFor(lower)).output).toEqual({ results: [2, 4], sum: 6 });
    });

    it('with ?timeout: 200 with the output when it finishes in time, else the 202 check-status response', async () => {
      const quick = await host.fetch(`${MGMT}/orchestrators/hello?timeout=10&pollingInterval=1`, { method: 'POST' });
      expect(quick.status, await peek(quick)).toBe(200);
      expect(await quick.json()).toEqual(HELLO);

      const slow = await host.fetch(`${MGMT}/orchestrators/waiter?timeout=1&pollingInterval=1`, { method: 'POST' });
      expect(slow.status, await peek(slow)).toBe(202);
      const body = (await slow.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual([...MANAGEMENT_KEYS].sort());
      expect((await statusViaHttp(host, body.id)).body.runtimeStatus).toBe('Running');
    });

    it('with ?timeout: a failed instance answers 500 with its status object, as waitForCompletion does', async () => {
      const res = await host.fetch(`${MGMT}/orchestrators/throws?timeout=10&pollingInterval=1`, { method: 'POST' });
      expect(res.status, await peek(res)).toBe(500);
      const body = (await res.json()) as StatusJson;
      expect(body.runtimeStatus).toBe('Failed');
      expect(body.output).toMatch(/orchestrator exploded/);
    });
  });

  describe('GET instances/{id}', () => {
    it('202 with Location and Retry-After while running, 200 with the full status JSON when done', async () => {
      const id = await startWaiter();
      const running = await statusViaHttp(host, id);
      expect(running.code).toBe(202);
      expect(running.res.headers.get('location')).toBe(`${host.url}${MGMT}/instances/${id}`);
      expect(running.res.headers.get('retry-after')).toBe('5');
      expect(running.body.runtimeStatus).toBe('Running');
      expect(running.body.output).toBeNull();

      await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, { ok: 1 });
      await host.waitFor(id);
      const done = await statusViaHttp(host, id);
      expect(done.code).toBe(200);
      expect(Object.keys(done.body).sort()).toEqual([...STATUS_KEYS].sort());
      expect(done.body).toMatchObject({ name: 'waiter', instanceId: id, runtimeStatus: 'Completed', input: null, output: { proceededWith: { ok: 1 } } });
      expect(done.body.createdTime).toMatch(STATUS_TIME);
      expect(done.body.lastUpdatedTime).toMatch(STATUS_TIME);
      expect(Date.parse(done.body.lastUpdatedTime)).toBeGreaterThanOrEqual(Date.parse(done.body.createdTime));
    });

    it('200 (not 500) for a Failed instance, with the failure reason as output', async () => {
      const id = await startViaHttp(host, 'throws', 'over http');
      await host.waitFor(id);
      const { code, body } = await statusViaHttp(host, id);
      expect(code).toBe(200);
      expect(body.runtimeStatus).toBe('Failed');
      expect(body.output).toBe("Orchestrator function 'throws' failed: orchestrator exploded: over http");
    });

    it('404 for an unknown instance', async () => {
      const res = await host.fetch(`${MGMT}/instances/${uid('nobody')}`);
      expect(res.status).toBe(404);
    });

    it('showInput=false leaves the input out; returnInternalServerErrorOnFailure=true answers 500 for Failed', async () => {
      const id = await startViaHttp(host, 'throws', 'secret input');
      await host.waitFor(id);
      const noInput = await statusViaHttp(host, id, '?showInput=false');
      expect(noInput.code).toBe(200);
      expect(noInput.body.input ?? null).toBeNull();
      expect(noInput.body.runtimeStatus).toBe('Failed');
      const strict = await statusViaHttp(host, id, '?returnInternalServerErrorOnFailure=true');
      expect(strict.code).toBe(500);
      expect(strict.body.runtimeStatus).toBe('Failed');
    });

    it('showHistory=true gives historyEvents with string EventTypes; Result only with showHistoryOutput', async () => {
      const id = await finishedHello();
      const history = await historyOf(host, id);
      expect(history.map((e) => e.EventType)).toEqual([
        'ExecutionStarted',
        'TaskCompleted',
        'TaskCompleted',
        'TaskCompleted',
        'ExecutionCompleted',
      ]);
      expect(history[0]).toMatchObject({ FunctionName: 'hello' });
      expect(history.slice(1, 4).map((e) => e.FunctionName)).toEqual(['sayHello', 'sayHello', 'sayHello']);
      expect(history[1]).not.toHaveProperty('Result');

      const withOutput = await historyOf(host, id, true);
      // The extension may give Result as JSON text or parsed; either way it carries the activity's output.
      expect(withOutput.slice(1, 4).map((e) => JSON.stringify(e.Result))).toEqual([
        expect.stringContaining('Hello Tokyo!'),
        expect.stringContaining('Hello Seattle!'),
        expect.stringContaining('Hello London!'),
      ]);
    });

    it('without showHistory there are no historyEvents', async () => {
      const id = await finishedHello();
      const { body } = await statusViaHttp(host, id);
      expect(body).not.toHaveProperty('historyEvents');
    });
  });

  describe('POST instances/{id}/raiseEvent/{name}', () => {
    it('202, and the waiting instance receives the JSON data', async () => {
      const id = await startWaiter();
      const res = await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, { answer: 42 });
      expect(res.status, await peek(res)).toBe(202);
      const done = await host.waitFor(id);
      expect(done.output).toEqual({ proceededWith: { answer: 42 } });
    });

    it('410 for a finished instance', async () => {
      const id = await finishedHello();
      const res = await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, 1);
      expect(res.status).toBe(410);
    });

    it('404 for an unknown instance', async () => {
      const res = await postJson(host, `${MGMT}/instances/${uid('nobody')}/raiseEvent/Proceed`, 1);
      expect(res.status).toBe(404);
    });

    it('400 without a JSON content type, and 400 for invalid JSON; the instance keeps waiting', async () => {
      const id = await startWaiter();
      const plain = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: '"hi"',
      });
      await expectHostError(plain, 400);
      const invalid = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"answer": ',
      });
      await expectHostError(invalid, 400, [/JSON/]);

      await host.idle();
      expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Running');
      await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, 'finally');
      expect((await host.waitFor(id)).output).toEqual({ proceededWith: 'finally' });
    });
  });

  describe('POST instances/{id}/terminate', () => {
    it('202 for a running instance, which becomes Terminated with the reason as output', async () => {
      const id = await startWaiter();
      const res = await host.fetch(`${MGMT}/instances/${id}/terminate?reason=enough`, { method: 'POST' });
      expect(res.status, await peek(res)).toBe(202);
      const done = await host.waitFor(id);
      expect(done.runtimeStatus).toBe('Terminated');
      expect(done.output).toBe('enough');
    });

    it('410 for a finished instance, 404 for an unknown one', async () => {
      const id = await finishedHello();
      expect((await host.fetch(`${MGMT}/instances/${id}/terminate?reason=late`, { method: 'POST' })).status).toBe(410);
      expect((await host.fetch(`${MGMT}/instances/${uid('nobody')}/terminate?reason=x`, { method: 'POST' })).status).toBe(404);
      expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Completed');
    });
  });

  describe('POST instances/{id}/suspend and /resume', () => {
    it('202 each; Suspended in between; an event raised while suspended is applied after resume', async () => {
      const id = await startWaiter();
      const suspend = await host.fetch(`${MGMT}/instances/${id}/suspend?reason=hold`, { method: 'POST' });
      expect(suspend.status, await peek(suspend)).toBe(202);
      await host.idle();
      const suspended = await statusViaHttp(host, id);
      expect(suspended.code).toBe(202);
      expect(suspended.body.runtimeStatus).toBe('Suspended');

      const raise = await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, 'buffered');
      expect(raise.status).toBe(202);
      await host.idle();
      expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Suspended');

      const resume = await host.fetch(`${MGMT}/instances/${id}/resume?reason=release`, { method: 'POST' });
      expect(resume.status, await peek(resume)).toBe(202);
      const done = await host.waitFor(id);
      expect(done.runtimeStatus).toBe('Completed');
      expect(done.output).toEqual({ proceededWith: 'buffered' });

      const history = await historyOf(host, id);
      const types = history.map((e) => e.EventType);
      expect(types).toContain('ExecutionSuspended');
      expect(types).toContain('ExecutionResumed');
    });

    it('410 for a finished instance, 404 for an unknown one', async () => {
      const id = await finishedHello();
      const unknown = uid('nobody');
      for (const op of ['suspend', 'resume']) {
        expect((await host.fetch(`${MGMT}/instances/${id}/${op}?reason=x`, { method: 'POST' })).status, op).toBe(410);
        expect((await host.fetch(`${MGMT}/instances/${unknown}/${op}?reason=x`, { method: 'POST' })).status, op).toBe(404);
      }
    });
  });

  describe('POST instances/{id}/restart', () => {
    it('202 with the check-status response for a new id, running the same orchestration with the same input', async () => {
      const id = await startViaHttp(host, 'fanOutFanIn', 2);
      await host.waitFor(id);
      const res = await host.fetch(`${MGMT}/instances/${id}/restart`, { method: 'POST' });
      expect(res.status, await peek(res)).toBe(202);
      const body = (await res.json()) as { id: string };
      expect(body.id).not.toBe(id);
      const done = await host.waitFor(body.id);
      expect(done).toMatchObject({ name: 'fanOutFanIn', input: 2, output: { results: [2, 4], sum: 6 } });
    });

    it('restartWithNewInstanceId=false runs it again under the same id', async () => {
      const id = await startViaHttp(host, 'fanOutFanIn', 1);
      await host.waitFor(id);
      const res = await host.fetch(`${MGMT}/instances/${id}/restart?restartWithNewInstanceId=false`, { method: 'POST' });
      expect(res.status, await peek(res)).toBe(202);
      expect(((await res.json()) as { id: string }).id).toBe(id);
      expect((await host.waitFor(id)).output).toEqual({ results: [2], sum: 2 });
    });

    it('404 for an unknown instance', async () => {
      expect((await host.fetch(`${MGMT}/instances/${uid('nobody')}/restart`, { method: 'POST' })).status).toBe(404);
    });
  });

  describe('DELETE instances/{id}', () => {
    it('200 {instancesDeleted:1}, after which the instance is gone; 404 for an unknown instance', async () => {
      const id = await finishedHello();
      const res = await host.fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ instancesDeleted: 1 });
      expect((await host.fetch(`${MGMT}/instances/${id}`)).status).toBe(404);
      expect((await host.fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' })).status).toBe(404);
    });
  });

  describe('GET instances/', () => {
    it('200 with an array of status objects, filterable by runtimeStatus', async () => {
      const done = await finishedHello();
      const waiting = await startWaiter();
      const all = await host.fetch(`${MGMT}/instances/`);
      expect(all.status).toBe(200);
      const list = (await all.json()) as StatusJson[];
      expect(list.map((s) => s.instanceId)).toEqual(expect.arrayContaining([done, waiting]));

      const running = (await (await host.fetch(`${MGMT}/instances/?runtimeStatus=Running`)).json()) as StatusJson[];
      expect(running.map((s) => s.instanceId)).toContain(waiting);
      expect(running.map((s) => s.instanceId)).not.toContain(done);
      expect(running.every((s) => s.runtimeStatus === 'Running')).toBe(true);
    });

    it('pages with top and x-ms-continuation-token: every instance exactly once, no token on the last page', async () => {
      for (let i = 0; i < 5; i++) await startViaHttp(host, 'hello');
      await host.idle();
      const everything = (await (await host.fetch(`${MGMT}/instances/`)).json()) as StatusJson[];
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const res: Response = await host.fetch(`${MGMT}/instances/?top=3`, { headers: token ? { 'x-ms-continuation-token': token } : {} });
        expect(res.status).toBe(200);
        const page = (await res.json()) as StatusJson[];
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...page.map((s) => s.instanceId));
        token = res.headers.get('x-ms-continuation-token');
        pages += 1;
        expect(pages).toBeLessThan(1000);
      } while (token);
      expect(pages).toBeGreaterThan(1);
      expect(seen.sort()).toEqual(everything.map((s) => s.instanceId).sort());
    });
  });
});

describe.each(STORES)('purge by filter on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('DELETE instances/: 400 without createdTimeFrom; 200 {instancesDeleted} for the matches only; 404 when none match', async () => {
    const failed = [await startViaHttp(host, 'throws', 'a'), await startViaHttp(host, 'throws', 'b')];
    const completed = await startViaHttp(host, 'hello');
    for (const id of [...failed, completed]) await host.waitFor(id);

    await expectHostError(await host.fetch(`${MGMT}/instances/`, { method: 'DELETE' }), 400, ['createdTimeFrom']);

    const filter = `${MGMT}/instances/?createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Failed`;
    const res = await host.fetch(filter, { method: 'DELETE' });
    expect(res.status, await peek(res)).toBe(200);
    expect(await res.json()).toEqual({ instancesDeleted: 2 });
    for (const id of failed) expect((await host.fetch(`${MGMT}/instances/${id}`)).status).toBe(404);
    expect((await statusViaHttp(host, completed)).code).toBe(200);

    expect((await host.fetch(filter, { method: 'DELETE' })).status).toBe(404);
  });
});

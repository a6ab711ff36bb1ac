// Bad input on both stores: malformed JSON, wrong content types, unknown functions, invalid ids, oversized bodies get a
// 4xx `{"error":{"code","message"}}` naming the problem; a throwing handler is a 500 for that request only; nothing is stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../../devhost';
import { MGMT, STORES, expectHostError, fixture, peek, postJson, startFixture, startViaHttp, statusViaHttp } from './support';

/** Just over 100 MB, the Functions host's documented HTTP request length limit. */
const OVERSIZED_BYTES = 100 * 1024 * 1024 + 1;

describe.each(STORES)('bad input on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  async function instanceIds(): Promise<string[]> {
    return (await host.client().getStatusAll()).map((s) => String(s.instanceId));
  }

  /** Starts a 'waiter' and lets it reach its wait. */
  async function startWaiter(): Promise<string> {
    const id = await startViaHttp(host, 'waiter');
    await host.idle();
    return id;
  }

  describe('starting an orchestration', () => {
    it('malformed JSON input: 400 naming JSON, and no instance is created', async () => {
      const before = await instanceIds();
      const res = await host.fetch(`${MGMT}/orchestrators/hello/bad-json-${storage}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"name": "Tokyo"',
      });
      await expectHostError(res, 400, [/JSON/]);
      expect(await instanceIds()).toEqual(before);
      expect((await host.fetch(`${MGMT}/instances/bad-json-${storage}`)).status).toBe(404);
    });

    it('an orchestrator that is not registered: 400 naming the function', async () => {
      const res = await postJson(host, `${MGMT}/orchestrators/noSuchOrchestrator`, 1);
      await expectHostError(res, 400, ['noSuchOrchestrator']);
    });

    it('an activity name is not an orchestrator: 400 naming the function', async () => {
      const res = await postJson(host, `${MGMT}/orchestrators/sayHello`, 'x');
      await expectHostError(res, 400, ['sayHello']);
    });

    it('the durable client reports an unknown orchestrator as an error', async () => {
      await expect(host.client().startNew('noSuchOrchestrator')).rejects.toThrow();
    });

    const invalidIds: Array<[string, string, RegExp]> = [
      ['a slash', 'a%2Fb', /\//],
      ['a backslash', 'a%5Cb', /\\/],
      ["a '?'", 'a%3Fb', /\?/],
      ["a '#'", 'a%23b', /#/],
      ['a control character', 'a%01b', /control/i],
      ['more than 256 characters', 'x'.repeat(257), /256/],
      ["a leading '@'", '%40abc', /@/],
    ];
    it.each(invalidIds)('an instance id with %s: 400 naming the problem, nothing stored', async (_what, encoded, problem) => {
      const before = await instanceIds();
      const res = await postJson(host, `${MGMT}/orchestrators/hello/${encoded}`, 1);
      await expectHostError(res, 400, [/instance ?id/i, problem]);
      expect(await instanceIds()).toEqual(before);
    });

    it('an instance id of exactly 256 characters is fine', async () => {
      const id = 'y'.repeat(256);
      expect(await startViaHttp(host, 'hello', undefined, id)).toBe(id);
      expect((await host.waitFor(id)).runtimeStatus).toBe('Completed');
    });

    it('an oversized input: 413, nothing stored', async () => {
      const before = await instanceIds();
      const res = await host.fetch(`${MGMT}/orchestrators/hello/too-big-${storage}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify('x'.repeat(OVERSIZED_BYTES)),
      });
      await expectHostError(res, 413);
      expect(await instanceIds()).toEqual(before);
    });
  });

  describe('a body over a table entity (under the request limit): kept on both stores (the table store puts it in a blob)', () => {
    const big = JSON.stringify('x'.repeat(2 * 1024 * 1024));
    it('an input: 202, and the status shows it', async () => {
      const res = await host.fetch(`${MGMT}/orchestrators/hello/store-big-${storage}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
      expect(res.status, await peek(res)).toBe(202);
      await host.idle();
      expect((await statusViaHttp(host, `store-big-${storage}`)).body.input).toBe(JSON.parse(big));
    });
    it('an event: 202; the instance keeps waiting', async () => {
      const id = await startWaiter();
      const res = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Other`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: big });
      expect(res.status, await peek(res)).toBe(202);
      await host.idle();
      expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Running');
    });
  });


  describe('raising an event', () => {
    it('wrong content type (text/plain, or none): 400 naming the content type; the instance keeps waiting', async () => {
      const id = await startWaiter();
      const plain = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: '1',
      });
      await expectHostError(plain, 400, [/content.?type|application\/json/i]);
      const none = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, { method: 'POST', body: new TextEncoder().encode('1') });
      await expectHostError(none, 400, [/content.?type|application\/json/i]);

      await host.idle();
      const { body } = await statusViaHttp(host, id);
      expect(body.runtimeStatus).toBe('Running');
      expect(body.output).toBeNull();
    });

    it('malformed JSON: 400 naming JSON; a good event afterwards still works', async () => {
      const id = await startWaiter();
      const res = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: "{'single': 'quotes'}",
      });
      await expectHostError(res, 400, [/JSON/]);
      await postJson(host, `${MGMT}/instances/${id}/raiseEvent/Proceed`, 'good');
      expect((await host.waitFor(id)).output).toEqual({ proceededWith: 'good' });
    });

    it('an oversized event body: 413; the instance keeps waiting', async () => {
      const id = await startWaiter();
      const res = await host.fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify('x'.repeat(OVERSIZED_BYTES)),
      });
      await expectHostError(res, 413);
      await host.idle();
      expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Running');
    });
  });

  describe('the management API itself', () => {
    it('an unknown route: 404 JSON error', async () => {
      await expectHostError(await host.fetch(`${MGMT}/nonsense/route`), 404);
    });
  });

  describe('HTTP triggers', () => {
    it('an exception in a handler is a 500 for that request only, logged with the invocation id', async () => {
      const res = await host.fetch('/api/fail');
      expect(res.status).toBe(500);
      const errorLog = host.logs.find((l) => l.functionName === 'fail' && l.message.includes('handler exploded on purpose'));
      expect(errorLog, JSON.stringify(host.logs.slice(-5))).toBeDefined();
      expect(errorLog?.level).toMatch(/error/i);
      expect(errorLog?.invocationId).toBeTruthy();

      const next = await host.fetch('/api/echo/still-here');
      expect(next.status).toBe(200);
      expect(await next.json()).toMatchObject({ word: 'still-here' });
    });

    it('an oversized request body: 413, and the host keeps serving', async () => {
      const res = await host.fetch('/api/echo/big', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain' },
        body: 'x'.repeat(OVERSIZED_BYTES),
      });
      await expectHostError(res, 413);
      expect((await host.fetch('/api/echo/after-big')).status).toBe(200);
    });
  });

  it('after all of the above the host still runs orchestrations', async () => {
    const id = await startViaHttp(host, 'hello');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus, await peek(await host.fetch(`${MGMT}/instances/${id}`))).toBe('Completed');
  });
});

describe('bad apps', () => {
  it('two functions with the same name: the host refuses to start, naming the function', async () => {
    await expect(startTestHost({ appDir: fixture('duplicate-app') })).rejects.toThrow(/'twin'/);
  });

  it('an app that throws while loading: the host refuses to start and passes the error on', async () => {
    await expect(startTestHost({ appDir: fixture('throwing-app') })).rejects.toThrow('throwing-app: GAME_DB_URL is not set');
  });

  it('a package.json main that matches no file: the host refuses to start, naming the pattern', async () => {
    await expect(startTestHost({ appDir: fixture('missing-main-app') })).rejects.toThrow('dist/functions/*.js');
  });

  it('registering a function after start-up is refused with a clear message; the host keeps serving', async () => {
    const host = await startFixture('late-registration-app', 'memory');
    try {
      const res = await host.fetch('/api/register');
      expect(res.status).toBe(409);
      const body = (await res.json()) as { registered: boolean; message: string };
      expect(body.registered).toBe(false);
      expect(body.message).toContain('tooLate');
      expect((await host.fetch('/api/too-late')).status).toBe(404);
      expect((await host.fetch('/api/register')).status).toBe(409);
    } finally {
      await host.dispose();
    }
  });
});

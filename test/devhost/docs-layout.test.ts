// An app laid out as Microsoft's Functions TypeScript docs lay it out ("main": "dist/src/{index.js,functions/*.js}",
// HTTP streams on in index.ts), driven over HTTP: loading, route constraints, defaults, catch-all, the host's route
// order, query values in request.params, and functions disabled by app settings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../../devhost';
import { MGMT, expectHostError, fixture, startFixture } from './support';

const APP = 'docs-layout-app';

/** GET a path; the function that answered and the params it saw, or the status. */
async function get(host: TestHost, path: string): Promise<{ status: number; fn?: string; params?: Record<string, string> }> {
  const res = await host.fetch(path);
  if (res.status !== 200) return { status: res.status };
  const body = (await res.json()) as { fn: string; params: Record<string, string> };
  return { status: 200, ...body };
}

describe('an app in the docs layout', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture(APP, 'memory');
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('loads every file the brace-set "main" names: functions from each are served', async () => {
    expect(await (await host.fetch('/api/ping')).text()).toBe('pong');
    expect((await get(host, '/api/c/int/5')).fn).toBe('intMin');
    const id = await host.client().startNew('greetAll');
    expect((await host.waitFor(id)).output).toEqual(['Hi Ann!', 'Hi Bo!']);
  });

  it('warns about a matched file that registers nothing, and only about that one', () => {
    const warnings = host.logs.filter((l) => l.level === 'warning').map((l) => l.message);
    expect(warnings.filter((m) => m.includes('registered no function'))).toEqual([expect.stringContaining('"dist/src/functions/notes.js"')]);
  });

  it('honours chained constraints and regex constraints instead of never matching them', async () => {
    expect(await get(host, '/api/c/int/7')).toEqual({ status: 200, fn: 'intMin', params: { id: '7' } });
    expect((await get(host, '/api/c/int/0')).status).toBe(404);
    expect((await get(host, '/api/c/int/seven')).status).toBe(404);
    expect(await get(host, '/api/c/letter/B')).toMatchObject({ fn: 'letter', params: { x: 'B' } });
    expect((await get(host, '/api/c/letter/ab')).status).toBe(404);
    expect((await get(host, '/api/c/contains/abc')).fn).toBe('containsB'); // unanchored, as ASP.NET Core runs it
    expect((await get(host, '/api/c/digits/123')).fn).toBe('threeDigits');
    expect((await get(host, '/api/c/digits/1234')).status).toBe(404);
    expect((await get(host, '/api/c/long/-5')).fn).toBe('longRange');
    expect((await get(host, '/api/c/long/6')).status).toBe(404);
  });

  it('no longer ignores length, datetime and the other typed constraints', async () => {
    expect((await get(host, '/api/c/code/abc')).fn).toBe('code');
    expect((await get(host, '/api/c/code/abcd')).status).toBe(404);
    expect((await get(host, '/api/c/span/a')).status).toBe(404);
    expect((await get(host, '/api/c/alpha/Word')).fn).toBe('word');
    expect((await get(host, '/api/c/alpha/w0rd')).status).toBe(404);
    expect((await get(host, '/api/c/when/2024-02-29T10:00:00Z')).fn).toBe('when');
    expect((await get(host, '/api/c/when/2023-02-29')).status).toBe(404);
    expect((await get(host, '/api/c/price/1,000.50')).fn).toBe('price');
    expect((await get(host, '/api/c/ratio/1.5e3')).fn).toBe('ratio');
    expect((await get(host, '/api/c/flag/True')).fn).toBe('flag');
    expect((await get(host, '/api/c/flag/yes')).status).toBe(404);
    expect((await get(host, '/api/c/guid/6f9619ff-8b86-d011-b42d-00cf4fc964ff')).fn).toBe('ident');
    expect((await get(host, '/api/c/guid/6f9619ff')).status).toBe(404);
  });

  it('fills default values and catch-all parameters', async () => {
    expect(await get(host, '/api/greet')).toMatchObject({ fn: 'greet', params: { name: 'world' } });
    expect(await get(host, '/api/greet/ann')).toMatchObject({ params: { name: 'ann' } });
    expect(await get(host, '/api/files/a/b/c.txt')).toMatchObject({ fn: 'files', params: { rest: 'a/b/c.txt' } });
    expect(await get(host, '/api/files')).toMatchObject({ fn: 'files', params: {} });
    expect((await get(host, '/api/asset/css/site.css')).fn).toBe('asset');
    expect((await get(host, '/api/asset/css')).status).toBe(404);
    expect(await get(host, '/api/page')).toMatchObject({ fn: 'page', params: {} });
    expect((await get(host, '/api/page/app.js')).status).toBe(404);
  });

  it('tries routes in function-name order, as the host does: the first match wins, not the most specific', async () => {
    expect(await get(host, '/api/shop/special')).toMatchObject({ fn: 'shopItem', params: { item: 'special' } });
  });

  it('with HTTP streams on, request.params has the query values too (not code; a route value wins)', async () => {
    expect(await get(host, '/api/status?instanceId=abc123&code=secret')).toMatchObject({ params: { instanceId: 'abc123' } });
    expect((await get(host, '/api/status?code=secret')).params).toEqual({});
    expect((await get(host, '/api/lookup/7?id=1&x=1&x=2')).params).toEqual({ id: '7', x: '1,2' });
  });
});

describe('request.params without HTTP streams', () => {
  it('holds the route values only, as the host fills it (query values stay in request.query)', async () => {
    const host = await startFixture('durable-basics', 'memory');
    try {
      const res = await host.fetch('/api/params/7?instanceId=abc&id=1');
      expect(await res.json()).toEqual({ id: '7' });
    } finally {
      await host.dispose();
    }
  });
});

describe('functions disabled by app settings', () => {
  it('a disabled HTTP function keeps its route and answers 404, naming the setting', async () => {
    const host = await startFixture(APP, 'memory', { env: { 'AzureWebJobs.ping.Disabled': 'true' } });
    try {
      expect((await expectHostError(await host.fetch('/api/ping'), 404, ["Function 'ping' is disabled (app setting AzureWebJobs.ping.Disabled)"])).code).toBe('NotFound');
      expect(host.logs.some((l) => l.message === "Function 'ping' is disabled")).toBe(true);
      expect(host.host.describe()).toContain(`ping: [GET] ${host.host.displayUrl}/api/ping (disabled)`);
      expect((await get(host, '/api/c/int/5')).fn).toBe('intMin');
    } finally {
      await host.dispose();
    }
  });

  it("an orchestration calling a disabled activity fails with the extension's message (Linux setting form, value 1)", async () => {
    const host = await startFixture(APP, 'memory', { env: { AzureWebJobs_sayHi_Disabled: '1' } });
    try {
      const res = await host.fetch('/api/start/greetAll', { method: 'POST' });
      expect(res.status).toBe(202);
      const done = await host.waitFor(((await res.json()) as { id: string }).id);
      expect(done.runtimeStatus).toBe('Failed');
      expect(String(done.output)).toContain("The function 'sayHi' doesn't exist, is disabled, or is not an activity function.");
    } finally {
      await host.dispose();
    }
  });

  it('a disabled orchestrator cannot be started; setting names are case-insensitive', async () => {
    const host = await startFixture(APP, 'memory', { env: { 'AZUREWEBJOBS.GREETALL.DISABLED': 'TRUE' } });
    try {
      const err = await expectHostError(await host.fetch(`${MGMT}/orchestrators/greetAll`, { method: 'POST' }), 400, ["The function 'greetAll' doesn't exist, is disabled, or is not an orchestrator function."]);
      expect(err.code).toBe('UnknownFunction');
    } finally {
      await host.dispose();
    }
  });

  it('false, 0 and a setting naming no function change nothing; the last one is a warning', async () => {
    const host = await startFixture(APP, 'memory', { env: { 'AzureWebJobs.ping.Disabled': 'false', 'AzureWebJobs.intMin.Disabled': '0', 'AzureWebJobs.pong.Disabled': 'true' } });
    try {
      expect((await host.fetch('/api/ping')).status).toBe(200);
      expect((await get(host, '/api/c/int/5')).fn).toBe('intMin');
      expect(host.logs.some((l) => l.level === 'warning' && l.message.includes("'AzureWebJobs.pong.Disabled' names no function"))).toBe(true);
    } finally {
      await host.dispose();
    }
  });

  it('a value the host would quietly read as "enabled" stops the start, naming the setting and the value', async () => {
    await expect(startTestHost({ appDir: fixture(APP), env: { 'AzureWebJobs.ping.Disabled': 'yes' } })).rejects.toThrow(
      "App setting 'AzureWebJobs.ping.Disabled' is 'yes': the Functions host disables a function only for 'true' or '1'",
    );
  });
});

// Strict parsing on the management API, both stores: numbers in query strings are decimal digits only, a
// continuation token is one this host issued, deep JSON and overlong prefixes are 4xx JSON errors naming the
// problem, and what was refused stored nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { MGMT, STORES, expectHostError, postJson, startFixture, startViaHttp, uid } from './support';

describe.each(STORES)('management API parsing on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('numbers in query strings are decimal digits only', async () => {
    for (const top of ['0x10', '1e2', '+5', '-1', ' 5', '5.0', '99999999999', 'Infinity', '0']) {
      await expectHostError(await host.fetch(`${MGMT}/instances/?top=${encodeURIComponent(top)}`), 400, [/'top'/]);
    }
    const id = uid('parse-timeout');
    for (const timeout of ['0x10', '1e1', '-1', '16 ', '100000000']) {
      await expectHostError(await postJson(host, `${MGMT}/orchestrators/hello/${id}?timeout=${encodeURIComponent(timeout)}`), 400, [/'timeout'/, /decimal digits/]);
    }
    await expectHostError(await postJson(host, `${MGMT}/orchestrators/hello/${id}?timeout=5&pollingInterval=0x1`), 400, [/'pollingInterval'/]);
    expect((await host.fetch(`${MGMT}/instances/${id}`)).status).toBe(404); // nothing was started
    expect((await host.fetch(`${MGMT}/instances/?top=2`)).status).toBe(200);
  });

  it('a continuation token this host did not issue is a 400, not the whole list', async () => {
    for (let i = 0; i < 3; i++) await startViaHttp(host, 'hello');
    await host.idle();
    const first = await host.fetch(`${MGMT}/instances/?top=1`);
    const token = first.headers.get('x-ms-continuation-token');
    expect(token).toMatch(/^v1\./);
    expect((await host.fetch(`${MGMT}/instances/?top=1`, { headers: { 'x-ms-continuation-token': token! } })).status).toBe(200);
    for (const bad of ['garbage', 'MTA=', `${token}!`, `${token}=`, 'v1.', 'v1.!!', 'v1.AAAA', token!.replace('v1.', 'v2.')]) {
      await expectHostError(await host.fetch(`${MGMT}/instances/?top=1`, { headers: { 'x-ms-continuation-token': bad } }), 400, [/x-ms-continuation-token/]);
    }
  });

  it('an overlong instanceIdPrefix and a malformed date are 400s naming the parameter', async () => {
    await expectHostError(await host.fetch(`${MGMT}/instances/?instanceIdPrefix=${'a'.repeat(10_000)}`), 400, [/instanceIdPrefix is 10000 characters long/]);
    for (const t of ['yesterday', '2024-13-01', '1', '2024-01-01T25:00:00Z', 'Mon, 01 Jan 2024 00:00:00 GMT']) {
      await expectHostError(await host.fetch(`${MGMT}/instances/?createdTimeFrom=${encodeURIComponent(t)}`), 400, [/'createdTimeFrom'/, /ISO-8601/]);
    }
    expect((await host.fetch(`${MGMT}/instances/?createdTimeFrom=2024-01-01T00:00:00Z&createdTimeTo=2999-01-01`)).status).toBe(200);
  });

  it('JSON nested deeper than 1000 levels is refused at start and raiseEvent; the instance list stays readable', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const id = uid('deep');
    const res = await host.fetch(`${MGMT}/orchestrators/hello/${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    await expectHostError(res, 400, [/nested 100000 levels deep; the limit is 1000/]);
    expect((await host.fetch(`${MGMT}/instances/${id}`)).status).toBe(404);
    const ok = await startViaHttp(host, 'waiter', JSON.parse('['.repeat(1000) + ']'.repeat(1000)));
    await host.idle();
    const ev = await host.fetch(`${MGMT}/instances/${ok}/raiseEvent/Proceed`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    await expectHostError(ev, 400, [/event body is JSON nested 100000 levels deep/]);
    expect((await host.fetch(`${MGMT}/instances/${ok}`)).status).toBe(202);
    expect((await host.fetch(`${MGMT}/instances/`)).status).toBe(200);
  });
});

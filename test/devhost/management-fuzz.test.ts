// Property-based tests of the management API (fast-check): thousands of generated ids, query strings, headers and
// bodies (deep and wide JSON included) per route, on both stores. Every answer is below 500 except the 500s the
// real extension gives on purpose and devhost keeps (a Failed instance with returnInternalServerErrorOnFailure, a
// start-and-wait whose instance failed); every 4xx is a JSON error naming the problem; the host stays healthy.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { MGMT, STORES, startFixture, startViaHttp } from './support';

/** Generated requests per route: thousands on the memory store, fewer on Azurite (each costs storage calls). */
const RUNS = { memory: 1000, table: 150 } as const;
// Orchestrators whose work does not depend on their input (fanOutFanIn with a generated n of 2^31 would fan out forever).
const NAMES = ['hello', 'waiter', 'approval', 'tenDayTimer', 'nope', 'Hello', ''];
const QUERY_KEYS = ['top', 'instanceIdPrefix', 'runtimeStatus', 'createdTimeFrom', 'createdTimeTo', 'showInput', 'showHistory', 'showHistoryOutput', 'timeout', 'pollingInterval', 'reason', 'restartWithNewInstanceId', 'taskHub', 'connection', 'version', 'code'];

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
const numberish = fc.oneof(fc.nat().map(String), fc.integer().map(String), fc.constantFrom('0x10', '1e3', '+1', ' 1', '1.5', 'NaN', '-0', '99999999999999999999', ''));
const queryValue = fc.oneof(text, numberish, fc.constantFrom('true', 'false', 'TRUE', 'Running,Completed', 'Running,,', 'bogus', '2024-01-01T00:00:00Z', '2024-13-45', 'x'.repeat(10_000)));
const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), text), queryValue), { maxLength: 5 }).map((pairs) => {
  const q = new URLSearchParams();
  for (const [k, v] of pairs) q.append(k, v);
  return pairs.length > 0 ? `?${q}` : '';
}).filter((q) => q.length < 12_000); // Node's HTTP server answers a request line over 16 KB itself (431), before any route
const deep = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
const body = fc.oneof(
  fc.constant(''),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.integer({ min: 500, max: 20_000 }).map((n) => JSON.stringify(Array.from({ length: n }, (_, i) => (i % 3 ? i : { k: String(i) })))),
  fc.integer({ min: 1, max: 3000 }).map((n) => deep(n)),
  fc.integer({ min: 1, max: 2000 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constant(deep(100_000)),
  text,
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);
const contentType = fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/xml', ''), text);
const token = fc.oneof(fc.constant(undefined), text, fc.constantFrom('v1.', 'v1.AAAA', 'v1.b3JkZXItNDI', 'MTA='));
/** An id as it appears in the path: percent-encoded, raw, or odd. */
const pathId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%2F', '@ent', '..', '.', 'a%00b', 'x'.repeat(257)),
);

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** Sent first (any answer): a start with a generated input, so status and list also meet what was stored. */
  before?: Req;
}

let seq = 0;
/** A start of 'waiter' with a generated body under a fresh id, to be read back by the request that follows. */
function startWith(b: string): { id: string; req: Req } {
  const id = `fz-${seq++}`;
  return { id, req: { method: 'POST', path: `${MGMT}/orchestrators/waiter/${id}`, headers: { 'content-type': 'application/json' }, body: b } };
}

describe.each(STORES)('management API under generated input (%s store)', (storage) => {
  // A fresh host per route: what one route stored (thousands of instances with wide inputs) does not slow the next.
  let host: TestHost;
  let known: string[] = [];

  beforeEach(async () => {
    host = await startFixture('durable-basics', storage);
    // Instances in every kind of state, so generated requests also meet real ids.
    known = [await startViaHttp(host, 'hello'), await startViaHttp(host, 'waiter'), await startViaHttp(host, 'approval')];
    await host.idle();
  });
  afterEach(async () => {
    await host?.dispose();
  });

  const id = () => fc.oneof(pathId, fc.constantFrom(...known));

  async function send(r: Req): Promise<void> {
    if (r.before) await (await host.fetch(r.before.path, { method: r.before.method, headers: r.before.headers, body: r.before.body })).arrayBuffer();
    const res = await host.fetch(r.path, { method: r.method, headers: r.headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body });
    const textBody = await res.text();
    const where = `${r.method} ${r.path.slice(0, 300)} -> ${res.status} ${textBody.slice(0, 300)}`;
    const failOnPurpose = res.status === 500 && (/returnInternalServerErrorOnFailure=true/i.test(r.path) || /[?&]timeout=/.test(r.path)) && /"runtimeStatus":"Failed"/.test(textBody);
    if (!failOnPurpose) expect(res.status, where).toBeLessThan(500);
    if (res.status >= 400) {
      expect(res.headers.get('content-type') ?? '', where).toMatch(/application\/json/);
      const err = (JSON.parse(textBody) as { error?: { code?: unknown; message?: unknown } }).error;
      expect(typeof err?.code, where).toBe('string');
      expect(String(err?.message ?? '').length, where).toBeGreaterThan(10);
    }
  }

  function headersOf(ct: string, tok: string | undefined): Record<string, string> {
    const h: Record<string, string> = {};
    // Header values Node's fetch refuses (CR, LF, NUL, non-Latin-1) cannot reach a server: leave those out.
    const ok = (v: string) => /^[\t\x20-\x7e\x80-\xff]*$/.test(v);
    if (ct && ok(ct)) h['content-type'] = ct;
    if (tok !== undefined && ok(tok)) h['x-ms-continuation-token'] = tok;
    return h;
  }

  const routes: Array<[string, () => fc.Arbitrary<Req>]> = [
    ['start', () => fc.record({ name: fc.oneof(fc.constantFrom(...NAMES), text.map(encodeURIComponent)), id: fc.option(id(), { nil: undefined }), q: query, b: body, ct: contentType })
      .map(({ name, id: i, q, b, ct }) => ({ method: 'POST', path: `${MGMT}/orchestrators/${name}${i === undefined ? '' : `/${i}`}${q.replace(/([?&])timeout=[^&]*/g, '$1timeout=0')}`, headers: headersOf(ct, undefined), body: b }))],
    ['status', () => fc.record({ id: fc.option(id(), { nil: undefined }), q: query, b: body }).map(({ id: i, q, b }) => {
      const s = startWith(b);
      return { method: 'GET', path: `${MGMT}/instances/${i ?? s.id}${q}`, headers: {}, body: '', before: s.req };
    })],
    // One list in ten first stores a generated input (every list reads them all back: a start per run made the route quadratic).
    ['list', () => fc.record({ q: query, tok: token, b: fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: body, weight: 1 }) })
      .map(({ q, tok, b }) => ({ method: 'GET', path: `${MGMT}/instances/${q}`, headers: headersOf('', tok), body: '', before: b === undefined ? undefined : startWith(b).req }))],
    ['raiseEvent', () => fc.record({ id: id(), ev: fc.oneof(text.filter((s) => s.length > 0).map(encodeURIComponent), fc.constant('Proceed')), b: body, ct: contentType })
      .map(({ id: i, ev, b, ct }) => ({ method: 'POST', path: `${MGMT}/instances/${i}/raiseEvent/${ev}`, headers: headersOf(ct, undefined), body: b }))],
    ...(['terminate', 'suspend', 'resume', 'restart'] as const).map((verb): [string, () => fc.Arbitrary<Req>] => [
      verb,
      () => fc.record({ id: id(), q: query, b: body }).map(({ id: i, q, b }) => ({ method: 'POST', path: `${MGMT}/instances/${i}/${verb}${q}`, headers: {}, body: b })),
    ]),
    ['purge', () => fc.record({ id: fc.option(id(), { nil: undefined }), q: query })
      .map(({ id: i, q }) => ({ method: 'DELETE', path: `${MGMT}/instances/${i ?? ''}${q}`, headers: {}, body: '' }))],
  ];

  for (const [route, arb] of routes) {
    it(`${route}: no 5xx, JSON errors, host healthy after`, async () => {
      await fc.assert(fc.asyncProperty(arb(), send), { numRuns: RUNS[storage], seed: 20261201, endOnFailure: true });
      await host.idle();
      expect((await host.fetch('/admin/host/status')).status).toBe(200);
      const after = await startViaHttp(host, 'hello');
      expect((await host.waitFor(after)).runtimeStatus).toBe('Completed');
    }, 300_000);
  }
});

// devhost's dashboard over HTTP (the page itself runs in test/browser/dashboard.test.ts): the page's headers, the
// devhost-only JSON under /_devhost/api (events an instance waits for, its timers and queued messages, the clock)
// on both stores, the virtual clock's jump to the next timer, and bad input answered with JSON errors.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { MGMT, STORES, expectHostError, peek, postJson, startFixture, startViaHttp, statusViaHttp, uid } from './support';

const API = '/_devhost/api';
const MINUTE = 60_000;

interface View {
  instanceId: string;
  runtimeStatus: string;
  waitingFor: string[];
  timers: Array<{ instanceId: string; id: number; fireAt: string; final?: string; kind: string }>;
  queued: Array<{ eventType: string; name?: string; time: string }>;
}
interface HostInfo {
  taskHub: string;
  store: string;
  clock: { kind: string; now: string; nextTimer: string | null };
}

async function getJson<T>(host: TestHost, path: string): Promise<T> {
  const res = await host.fetch(path);
  expect(res.status, await peek(res)).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return (await res.json()) as T;
}

const viewOf = (host: TestHost, id: string) => getJson<View>(host, `${API}/instances/${encodeURIComponent(id)}`);
const iso = (ms: number) => new Date(ms).toISOString();

describe('GET /_devhost: the dashboard page', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('dashboard-app', 'memory');
  });
  afterAll(() => host?.dispose());

  it('is one HTML page, never cached, whose policy lets only its own inline script and style run', async () => {
    for (const path of ['/_devhost', '/_devhost/']) {
      const res = await host.fetch(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const csp = res.headers.get('content-security-policy') ?? '';
      const html = await res.text();
      const hash = (tag: string) => {
        const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))];
        expect(blocks).toHaveLength(1);
        return `'sha256-${createHash('sha256').update(blocks[0][1]).digest('base64')}'`;
      };
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain(`script-src ${hash('script')};`);
      expect(csp).toContain(`style-src ${hash('style')};`);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)="(?!data:)/i);
      expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
    }
  });

  it('answers other methods with 405 and the allowed one', async () => {
    const res = await host.fetch('/_devhost', { method: 'POST' });
    await expectHostError(res, 405, ['POST is not allowed here; use GET.']);
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe.each(STORES)('/_devhost/api on the %s store', (storage) => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('dashboard-app', storage);
  });
  afterAll(() => host?.dispose());

  it('names the events a waiting instance waits for, its timeout timer, and nothing once it completed', async () => {
    const event = '<img src=x onerror=alert(1)> it\'s "done", go)';
    const id = await startViaHttp(host, 'waiter', { event, note: 'n', timeoutMinutes: 30 }, uid('waits'));
    await host.idle();
    const view = await viewOf(host, id);
    expect(view).toMatchObject({ instanceId: id, runtimeStatus: 'Running', waitingFor: [event], queued: [] });
    expect(view.timers).toHaveLength(1);
    expect(view.timers[0]).toMatchObject({ instanceId: id, kind: 'timer' });
    expect(Date.parse(view.timers[0].fireAt) - host.now().getTime()).toBe(30 * MINUTE);

    const raised = await postJson(host, `${MGMT}/instances/${id}/raiseEvent/${encodeURIComponent(event)}`, { ok: true });
    expect(raised.status, await peek(raised)).toBe(202);
    expect((await host.waitFor(id)).output).toEqual({ outcome: 'answered', answer: { ok: true }, note: 'n' });
    expect(await viewOf(host, id)).toMatchObject({ runtimeStatus: 'Completed', waitingFor: [], timers: [], queued: [] });
  });

  it('shows an event raised while suspended as queued, and the wait as still open', async () => {
    const id = await startViaHttp(host, 'waiter', { event: 'go' }, uid('queued'));
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/suspend?reason=hold`)).status).toBe(202);
    await host.idle();
    expect((await postJson(host, `${MGMT}/instances/${id}/raiseEvent/go`, 1)).status).toBe(202);
    await host.idle();
    const view = await viewOf(host, id);
    expect(view).toMatchObject({ runtimeStatus: 'Suspended', waitingFor: ['go'] });
    expect(view.queued).toEqual([{ eventType: 'EventRaised', name: 'go', time: expect.any(String) }]);
    expect((await postJson(host, `${MGMT}/instances/${id}/resume`)).status).toBe(202);
    expect((await host.waitFor(id)).runtimeStatus).toBe('Completed');
  });

  it('lists an entity as an instance with its queued operations and no waits', async () => {
    const res = await host.fetch(`${MGMT}/entities/box/k1?op=set`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '"<b>x</b>"' });
    expect(res.status).toBe(202);
    await host.idle();
    expect(await viewOf(host, '@box@k1')).toEqual({ instanceId: '@box@k1', runtimeStatus: 'Running', waitingFor: [], timers: [], queued: [] });
  });

  it('lists every pending timer earliest first, and the clock with the next one', async () => {
    const later = await startViaHttp(host, 'sleeper', 90, uid('later'));
    const sooner = await startViaHttp(host, 'sleeper', 45, uid('sooner'));
    await host.idle();
    const now = host.now().getTime();
    const { timers } = await getJson<{ timers: View['timers'] }>(host, `${API}/timers`);
    const mine = timers.filter((t) => t.instanceId === later || t.instanceId === sooner);
    expect(mine.map((t) => [t.instanceId, t.fireAt])).toEqual([
      [sooner, iso(now + 45 * MINUTE)],
      [later, iso(now + 90 * MINUTE)],
    ]);
    expect(timers.map((t) => t.fireAt)).toEqual([...timers.map((t) => t.fireAt)].sort());
    const info = await getJson<HostInfo>(host, `${API}/host`);
    expect(info).toMatchObject({ store: storage, clock: { kind: 'virtual', now: iso(now), nextTimer: timers[0].fireAt } });
    expect(info.taskHub).toBe(host.host.taskHub);
  });
});

describe('POST /_devhost/api/clock/next-timer', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('dashboard-app', 'memory');
  });
  afterAll(() => host?.dispose());

  it('jumps the virtual clock to the next timer, fires it and lets its work finish, one timer at a time', async () => {
    const start = host.now().getTime();
    const first = await startViaHttp(host, 'sleeper', 10, uid('first'));
    const second = await startViaHttp(host, 'sleeper', 20, uid('second'));
    await host.idle();

    const res = await host.fetch(`${API}/clock/next-timer`, { method: 'POST', headers: { Origin: host.url } });
    expect(res.status, await peek(res)).toBe(200);
    expect(await res.json()).toEqual({ jumpedTo: iso(start + 10 * MINUTE), clock: { kind: 'virtual', now: iso(start + 10 * MINUTE), nextTimer: iso(start + 20 * MINUTE) } });
    expect((await statusViaHttp(host, first)).body).toMatchObject({ runtimeStatus: 'Completed', output: 'woke' });
    expect((await statusViaHttp(host, second)).body.runtimeStatus).toBe('Running');

    expect((await host.fetch(`${API}/clock/next-timer`, { method: 'POST' })).status).toBe(200);
    expect((await statusViaHttp(host, second)).body).toMatchObject({ runtimeStatus: 'Completed', output: 'woke' });

    await expectHostError(await host.fetch(`${API}/clock/next-timer`, { method: 'POST' }), 409, ['No timer is pending']);
    expect(host.now().getTime()).toBe(start + 20 * MINUTE);
  });

  it('refuses a post from another site, and a GET', async () => {
    await startViaHttp(host, 'sleeper', 5, uid('kept'));
    await host.idle();
    const before = host.now().getTime();
    await expectHostError(await host.fetch(`${API}/clock/next-timer`, { method: 'POST', headers: { Origin: 'http://evil.example' } }), 400, ["Origin 'http://evil.example' is not this host"]);
    await expectHostError(await host.fetch(`${API}/clock/next-timer`, { method: 'POST', headers: { Origin: 'null' } }), 400, ["Origin 'null'"]);
    const get = await host.fetch(`${API}/clock/next-timer`);
    await expectHostError(get, 405, ['GET is not allowed here; use POST.']);
    expect(get.headers.get('allow')).toBe('POST');
    expect(host.now().getTime()).toBe(before);
  });

  it('says how to get a virtual clock when the host runs on the real one', async () => {
    const real = await startFixture('dashboard-app', 'memory', { clock: 'real' });
    try {
      await expectHostError(await real.fetch(`${API}/clock/next-timer`, { method: 'POST' }), 409, ['real clock', '--clock virtual']);
      expect((await getJson<HostInfo>(real, `${API}/host`)).clock.kind).toBe('real');
    } finally {
      await real.dispose();
    }
  });
});

describe('bad input on /_devhost', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startFixture('dashboard-app', 'memory');
  });
  afterAll(() => host?.dispose());

  it('answers each with a JSON error naming the problem, and keeps serving', async () => {
    await expectHostError(await host.fetch(`${API}/instances/nobody`), 404, ["No instance with ID 'nobody' found."]);
    await expectHostError(await host.fetch(`${API}/instances/%E0%A4%A`), 400, ["'%E0%A4%A' is not valid percent-encoding"]);
    await expectHostError(await host.fetch(`${API}/instances/a%01b`), 400, ['control character U+0001']);
    await expectHostError(await host.fetch(`${API}/instances/${'x'.repeat(300)}`), 400, ['the limit is 256']);
    await expectHostError(await host.fetch(`${API}/instances/a%2Fb`), 400, ["contains '/'"]);
    await expectHostError(await host.fetch(`${API}/instances/a/b`), 404, ['No devhost route matches GET /_devhost/api/instances/a/b', `GET /_devhost/api/instances/{instanceId}`]);
    await expectHostError(await host.fetch(`${API}/instances`), 404, ['No devhost route matches']);
    await expectHostError(await host.fetch('/_devhost/nope'), 404, ['No devhost route matches GET /_devhost/nope']);
    await expectHostError(await host.fetch(`${API}/timers`, { method: 'DELETE' }), 405, ['use GET']);
    await expectHostError(await host.fetch(`${API}/host`, { method: 'PUT', body: 'x'.repeat(100_000) }), 405, ['use GET']);
    // Not the dashboard: a path that only starts like it is the app's (this app has no HTTP functions).
    await expectHostError(await host.fetch('/_devhostx'), 404, ['No function matches']);
    expect((await host.fetch('/_devhost')).status).toBe(200);
  });
});

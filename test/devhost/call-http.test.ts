// context.df.callHttp as the extension runs it: the built-in activity BuiltIn::HttpActivity (input: the request in a
// one-element array; result: {statusCode, headers (response headers only), content}), the 202 polling pattern (a
// timer of Retry-After seconds or httpSettings.defaultAsyncRequestSleepTimeMilliseconds, then a GET to Location, in
// virtual time), network errors as a TaskFailed the orchestrator can catch, and tokenSource refused with a message.
// The targets are local HTTP servers on ports the OS picks. Each scenario on both stores.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { EVENT_TYPE_NAMES } from '../../devhost/durable/history';
import { fixture, STORES, startFixture, uid } from './support';
import { startTestHost } from '../../devhost';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The target: /echo answers 200 with what it got; /jobs/{n} is a job that answers 202 n times, then 200. */
function startTarget(): Promise<{ server: http.Server; base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const polls = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const job = /^\/jobs\/(\d+)(?:\/(\w+))?$/.exec(req.url ?? '');
      if (req.url === '/echo') {
        res.setHeader('X-Test', 'a');
        res.setHeader('Set-Cookie', ['one=1', 'two=2']);
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'] ?? null, body }));
      } else if (job && req.method === 'POST') {
        const id = uid('job');
        polls.set(id, Number(job[1]));
        res.writeHead(202, { Location: `${base}/status/${id}`, ...(job[2] === 'noretry' ? {} : { 'Retry-After': job[2] === 'date' ? 'Wed, 21 Oct 2015 07:28:00 GMT' : '5' }) });
        res.end();
      } else if (req.url === '/reset') {
        res.writeHead(200, { 'Content-Length': '100' });
        res.write('partial');
        setImmediate(() => res.destroy());
      } else if (req.url?.startsWith('/status/')) {
        const id = req.url.slice('/status/'.length);
        const left = polls.get(id) ?? 0;
        polls.set(id, left - 1);
        if (left > 1) res.writeHead(202, { Location: `${base}${req.url}`, 'Retry-After': '5' }).end();
        else res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`job ${id} done`);
      } else res.writeHead(404).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen })));
}

/** A port nothing listens on: listen, note the port, close. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe.each(STORES)('callHttp on the %s store', (storage) => {
  let host: TestHost;
  let target: Awaited<ReturnType<typeof startTarget>>;
  beforeAll(async () => {
    target = await startTarget();
    host = await startFixture('http-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
    await new Promise((resolve) => target?.server.close(resolve));
  });

  async function run(input: Record<string, unknown>): Promise<{ id: string; output: { seen: Record<string, unknown>; after: string } }> {
    const id = uid('fetch');
    await host.client().startNew('fetch', { instanceId: id, input });
    const s = await host.waitFor(id);
    expect(s.runtimeStatus, JSON.stringify(s)).toBe('Completed');
    return { id, output: s.output as { seen: Record<string, unknown>; after: string } };
  }
  async function stored(id: string) {
    return ((await host.host.engine.getHistory(id)) ?? []).map((e) => ({ ...e, EventType: EVENT_TYPE_NAMES[e.EventType] }));
  }

  it('a plain call: the built-in activity with the request as its one argument, the response with its response headers only', async () => {
    const url = `${target.base}/echo`;
    const { id, output } = await run({ url, method: 'POST', body: { hello: 'world' }, headers: { 'Content-Type': 'application/json', 'X-Api': 'k' } });
    expect(output.after).toBe('after');
    expect(output.seen).toMatchObject({ statusCode: 200, content: JSON.stringify({ method: 'POST', type: 'application/json', body: '{"hello":"world"}' }) });
    const headers = output.seen.headers as Record<string, unknown>;
    expect(headers['X-Test']).toBe('a');
    expect(headers['Set-Cookie']).toEqual(['one=1', 'two=2']);
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('content-type');
    expect(target.seen.find((s) => s.url === '/echo' && s.body === '{"hello":"world"}')?.headers['x-api']).toBe('k');

    const scheduled = (await stored(id)).filter((e) => e.EventType === 'TaskScheduled');
    expect(scheduled[0]).toMatchObject({ EventId: 0, Name: 'BuiltIn::HttpActivity', Version: '' });
    const input = JSON.parse(String(scheduled[0].Input)) as unknown[];
    expect(input).toHaveLength(1);
    expect(input[0]).toMatchObject({ method: 'POST', uri: url, content: '{"hello":"world"}', asynchronousPatternEnabled: true });
  });

  it('202 + Location + Retry-After: waits 5 s of virtual time, GETs Location until it is no longer 202, then returns the last response', async () => {
    const before = host.now().getTime();
    const { id, output } = await run({ url: `${target.base}/jobs/3`, method: 'POST', headers: { 'X-Api': 'k', 'x-functions-key': 'secret' } });
    expect(output.seen).toMatchObject({ statusCode: 200, content: expect.stringMatching(/^job job-\w+ done$/) });
    expect(output.after).toBe('after'); // the activity after the polling got its own id and result
    expect(host.now().getTime() - before).toBeGreaterThanOrEqual(15_000);
    const job = String(output.seen.content).split(' ')[1];
    const polls = target.seen.filter((s) => s.url === `/status/${job}`);
    expect(polls.map((p) => p.method)).toEqual(['GET', 'GET', 'GET']);
    expect(polls[0].headers['x-api']).toBe('k');
    expect(polls[0].headers['x-functions-key']).toBeUndefined();

    const history = await stored(id);
    const timers = history.filter((e) => e.EventType === 'TimerCreated');
    expect(timers.map((t) => Date.parse(String(t.FireAt)) - Date.parse(t.Timestamp))).toEqual([5000, 5000, 5000]);
    // Ids as the SDK allocates them: the call, then per 202 a timer and the next GET; then the echo activity.
    expect(history.filter((e) => e.EventType === 'TaskScheduled' || e.EventType === 'TimerCreated').map((e) => `${e.EventType}:${e.EventId}`)).toEqual([
      'TaskScheduled:0',
      'TimerCreated:1',
      'TaskScheduled:2',
      'TimerCreated:3',
      'TaskScheduled:4',
      'TimerCreated:5',
      'TaskScheduled:6',
      'TaskScheduled:7',
    ]);
  });

  it('a 202 without Retry-After waits host.json httpSettings.defaultAsyncRequestSleepTimeMilliseconds', async () => {
    const { id, output } = await run({ url: `${target.base}/jobs/1/noretry`, method: 'POST' });
    expect(output.seen).toMatchObject({ statusCode: 200 });
    const timers = (await stored(id)).filter((e) => e.EventType === 'TimerCreated');
    expect(timers.map((t) => Date.parse(String(t.FireAt)) - Date.parse(t.Timestamp))).toEqual([7000]);
  });

  it('polling off (enablePolling: false): the 202 itself is the result', async () => {
    const { output } = await run({ url: `${target.base}/jobs/2`, method: 'POST', enablePolling: false });
    expect(output.seen).toMatchObject({ statusCode: 202, location: 'no getHeader' });
    expect(output.after).toBe('after');
  });

  it('a Retry-After that is not whole seconds fails the call with a message naming it', async () => {
    const { output } = await run({ url: `${target.base}/jobs/2/date`, method: 'POST' });
    expect(output.seen.error).toMatch(/Retry-After header "Wed, 21 Oct 2015 07:28:00 GMT" is not a whole number of seconds/);
    expect(output.after).toBe('after');
  });

  it('a refused connection, or one cut mid-response, is a failure the orchestrator catches, naming the request', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/nothing`;
    const { output } = await run({ url });
    expect(output.seen.error).toContain(`callHttp GET ${url} failed: connect ECONNREFUSED`);
    expect(output.after).toBe('after');
    const reset = await run({ url: `${target.base}/reset` });
    expect(reset.output.seen.error).toContain(`callHttp GET ${target.base}/reset failed:`);
  });

  it('tokenSource (managed identity) fails with a message naming the limitation; bad requests fail with their reason', async () => {
    const { output } = await run({ url: `${target.base}/echo`, token: 'https://management.core.windows.net/.default' });
    expect(output.seen.error).toMatch(/tokenSource \(a managed identity token for 'https:\/\/management\.core\.windows\.net\/\.default'\) needs the Azure managed identity endpoint, which the devhost does not have/);
    expect(target.seen.filter((s) => s.url === '/echo' && s.method === 'GET')).toHaveLength(0);
    expect((await run({ url: 'not a url' })).output.seen.error).toMatch(/url "not a url" is not an absolute http or https URL/);
    expect((await run({ url: `${target.base}/echo`, method: 'GE T' })).output.seen.error).toMatch(/method "GE T" is not an HTTP method/);
  });
});

describe('httpSettings in host.json', () => {
  it.each(['0', 'soon', '-5'])('defaultAsyncRequestSleepTimeMilliseconds %s stops the start, naming the setting', async (value) => {
    const err = await startTestHost({ appDir: fixture('http-app'), env: { AzureFunctionsJobHost__extensions__durableTask__httpSettings__defaultAsyncRequestSleepTimeMilliseconds: value } }).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`host.json extensions.durableTask.httpSettings.defaultAsyncRequestSleepTimeMilliseconds is "${value}"; use a whole number of milliseconds from 1`);
  });
});

// HTTP triggers as a user calls them: the Durable starter, params, query, headers, text and binary bodies, 405/404,
// routePrefix, ESM and glob-"main" apps (orchestrations on both stores), streamed responses and request bodies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { STORES, type StatusJson, peek, postJson, startFixture, uid } from './support';

const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];

describe.each(STORES)('the HTTP starter on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('POST /api/orchestrators/hello starts it and answers with the check-status response', async () => {
    const res = await host.fetch('/api/orchestrators/hello', { method: 'POST' });
    expect(res.status, await peek(res)).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { id: string; statusQueryGetUri: string; sendEventPostUri: string };
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    // The SDK rewrites the URLs' origin to the incoming request's origin.
    expect(body.statusQueryGetUri.startsWith(`${host.url}/runtime/webhooks/durabletask/instances/${body.id}`)).toBe(true);

    await host.waitFor(body.id);
    const status = await fetch(body.statusQueryGetUri);
    expect(status.status).toBe(200);
    expect((await status.json()) as StatusJson).toMatchObject({ name: 'hello', instanceId: body.id, runtimeStatus: 'Completed', output: HELLO });
    expect(host.logs.some((l) => l.functionName === 'start' && l.message.includes(`with ID '${body.id}'`))).toBe(true);
  });

  it('the optional {id?} route parameter becomes the instance id, the JSON body the input', async () => {
    const id = uid('starter');
    const res = await postJson(host, `/api/orchestrators/fanOutFanIn/${id}`, 4);
    expect(res.status, await peek(res)).toBe(202);
    expect(((await res.json()) as { id: string }).id).toBe(id);
    const done = await host.waitFor(id);
    expect(done.input).toBe(4);
    expect(done.output).toEqual({ results: [2, 4, 6, 8], sum: 20 });
  });
});

describe('plain HTTP functions', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('durable-basics', 'memory');
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('binds route params, query and headers, and returns status, headers and JSON body', async () => {
    const res = await host.fetch('/api/echo/hi?x=1&y=two', { headers: { 'x-test': 'yes' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-echo')).toBe('hi');
    expect(await res.json()).toEqual({ method: 'GET', word: 'hi', query: { x: '1', y: 'two' }, header: 'yes', body: '' });
  });

  it('matches routes case-insensitively and decodes route params, as the Functions host does', async () => {
    const res = await host.fetch('/api/ECHO/Hello%20World');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ word: 'Hello World' });
  });

  it('passes a POST body through, UTF-8 intact', async () => {
    const res = await host.fetch('/api/echo/post', { method: 'POST', body: 'some text: héllo ✓ 🎮', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: 'POST', word: 'post', body: 'some text: héllo ✓ 🎮' });
  });

  it('round-trips a binary body byte for byte', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const res = await host.fetch('/api/bytes', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it("records the handler's context.log with its function name and invocation id", async () => {
    await host.fetch('/api/echo/logged');
    const entry = host.logs.find((l) => l.message.includes("echo called with 'logged'"));
    expect(entry).toBeDefined();
    expect(entry?.functionName).toBe('echo');
    expect(entry?.invocationId).toBeTruthy();
  });

  it('405 with an Allow header for a method the function does not accept', async () => {
    const res = await host.fetch('/api/echo/hi', { method: 'DELETE' });
    expect(res.status).toBe(405);
    const allow = (res.headers.get('allow') ?? '').toUpperCase();
    expect(allow).toContain('GET');
    expect(allow).toContain('POST');
  });

  it('404 for a route no function serves', async () => {
    expect((await host.fetch('/api/no-such-function')).status).toBe(404);
    expect((await host.fetch('/echo/hi')).status).toBe(404);
  });
});

describe.each(STORES)('an ESM app on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('esm-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('loads as an ES module and serves its HTTP function under the host.json routePrefix', async () => {
    const res = await host.fetch('/esm/ping');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ module: 'esm' });
    expect((await host.fetch('/api/ping')).status).toBe(404);
  });

  it('runs its hello sequence', async () => {
    const id = await host.client().startNew('helloEsm');
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual(['Hello Tokyo from ESM!', 'Hello Seattle from ESM!', 'Hello London from ESM!']);
  });
});

describe.each(STORES)('an app whose package.json main is a glob, on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('glob-app', storage);
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('loads every matching file: HTTP functions from both are served', async () => {
    expect(await (await host.fetch('/api/greet/ann')).text()).toBe('greetings, ann');
    expect(await (await host.fetch('/api/whisper/bo')).text()).toBe('psst, bo');
  });

  it('an orchestration in one file calls an activity registered in another', async () => {
    const id = await host.client().startNew('shoutTwice', { input: 'hey' });
    const done = await host.waitFor(id);
    expect(done.runtimeStatus).toBe('Completed');
    expect(done.output).toEqual(['HEY!', 'HEY AGAIN!']);
  });
});

describe('an app without HTTP streams', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('stream-app', 'memory', { env: { FIXTURE_HTTP_STREAM: '0' } });
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('answers a streamed body only once it has ended, as the worker does without enableHttpStream', { timeout: 15_000 }, async () => {
    const res = host.fetch('/api/stream');
    // Nothing arrives, not even the status, while the handler's body waits for /api/release.
    const early = await Promise.race([res.then(() => 'answered'), new Promise((resolve) => setTimeout(() => resolve('waiting'), 300))]);
    expect(early).toBe('waiting');
    expect((await host.fetch('/api/release', { method: 'POST' })).status).toBe(204);
    const done = await res;
    expect(done.headers.get('content-length')).toBe(String('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n'.length));
    expect(await done.text()).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });
});

describe('an app with HTTP streams enabled', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('stream-app', 'memory');
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('streams a response: the first chunk arrives before the handler finishes the body', { timeout: 15_000 }, async () => {
    const res = await host.fetch('/api/stream');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe('chunk 0\n');

    expect((await host.fetch('/api/release', { method: 'POST' })).status).toBe(204);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    expect(text).toBe('chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n');
  });

  it("cancels the handler's body stream when the client goes away", async () => {
    const abort = new AbortController();
    const res = await host.fetch('/api/endless', { signal: abort.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toMatch(/^tick/);
    expect(await (await host.fetch('/api/cancelled')).json()).toEqual({ cancelled: 0, running: 1 });
    abort.abort();
    const deadline = Date.now() + 5000;
    let state: unknown;
    while (Date.now() < deadline) {
      state = await (await host.fetch('/api/cancelled')).json();
      if ((state as { running: number }).running === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(state).toEqual({ cancelled: 1, running: 0 });
  });

  it("cancels the handler's body stream when the client went away before the answer began", async () => {
    const abort = new AbortController();
    const res = host.fetch('/api/endless?wait=300', { signal: abort.signal }).catch(() => undefined);
    const before = (await (await host.fetch('/api/cancelled')).json()) as { cancelled: number };
    await new Promise((resolve) => setTimeout(resolve, 50)); // the handler is waiting (300 ms) when the client leaves
    abort.abort();
    await res;
    const deadline = Date.now() + 5000;
    let state: { cancelled: number; running: number } | undefined;
    while (Date.now() < deadline) {
      state = (await (await host.fetch('/api/cancelled')).json()) as { cancelled: number; running: number };
      if (state.running === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(state).toEqual({ cancelled: before.cancelled + 1, running: 0 });
  });

  it('hands the handler the request body as a stream', async () => {
    const body = 'a'.repeat(1024 * 1024 - 5) + 'zzzzz';
    const res = await host.fetch('/api/upload', { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    expect(res.status, await peek(res)).toBe(200);
    const out = (await res.json()) as { bytes: number; chunks: number; first: string; last: string };
    expect(out).toMatchObject({ bytes: 1024 * 1024, first: 'aaaaa', last: 'zzzzz' });
    expect(out.chunks).toBeGreaterThanOrEqual(1);
  });

  it('round-trips a binary body byte for byte', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const res = await host.fetch('/api/bytes', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  it('request.json() works on a streamed body', async () => {
    const res = await postJson(host, '/api/json', { hello: ['world', 1] });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: { hello: ['world', 1] } });
  });
});

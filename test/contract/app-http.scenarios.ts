// Contract scenarios: the app loaded as the Node worker loads it (package.json "main" a globby brace set) and its
// HTTP triggers served as the Functions host serves them (ASP.NET Core route templates and constraints, defaults,
// catch-all, route order, request.params with HTTP streams on).
import { expect, it } from 'vitest';
import { peek } from './calls';
import type { Target, TargetInfo } from './target';

/** GET a path; the function that answered and the params it saw, or only the status. */
async function get(t: Target, path: string): Promise<{ status: number; fn?: string; params?: Record<string, string> }> {
  const res = await t.fetch(path);
  if (res.status !== 200) {
    await res.arrayBuffer();
    return { status: res.status };
  }
  return { status: 200, ...((await res.json()) as { fn: string; params: Record<string, string> }) };
}

/** [path, the function that should answer (or 404), the params it should see]. */
const ROUTES: Array<[string, string | 404, Record<string, string>?]> = [
  ['/api/c/int/7', 'intMin', { id: '7' }],
  ['/api/c/int/0', 404],
  ['/api/c/int/seven', 404],
  ['/api/c/long/-5', 'longRange', { n: '-5' }],
  ['/api/c/long/6', 404],
  ['/api/c/letter/B', 'letter', { x: 'B' }], // regex constraints ignore case
  ['/api/c/letter/ab', 404],
  ['/api/c/contains/abc', 'containsB', { x: 'abc' }], // and are not anchored
  ['/api/c/digits/123', 'threeDigits', { d: '123' }],
  ['/api/c/digits/1234', 404],
  ['/api/c/code/abc', 'code', { code: 'abc' }],
  ['/api/c/code/abcd', 404],
  ['/api/c/span/a', 404],
  ['/api/c/span/abcd', 'span', { v: 'abcd' }],
  ['/api/c/alpha/Word', 'word', { w: 'Word' }],
  ['/api/c/alpha/w0rd', 404],
  ['/api/c/alpha/toolong', 404],
  ['/api/c/max/10', 'small', { m: '10' }],
  ['/api/c/max/11', 404],
  ['/api/c/when/2024-02-29T10:00:00Z', 'when', { at: '2024-02-29T10:00:00Z' }],
  ['/api/c/when/2023-02-29', 404],
  ['/api/c/price/1,000.50', 'price', { p: '1,000.50' }],
  ['/api/c/ratio/1.5e3', 'ratio', { r: '1.5e3' }],
  ['/api/c/float/2.5', 'single', { f: '2.5' }],
  ['/api/c/flag/True', 'flag', { on: 'True' }],
  ['/api/c/flag/yes', 404],
  ['/api/c/guid/6f9619ff-8b86-d011-b42d-00cf4fc964ff', 'ident', { g: '6f9619ff-8b86-d011-b42d-00cf4fc964ff' }],
  ['/api/c/guid/6f9619ff', 404],
  ['/api/greet', 'greet', { name: 'world' }],
  ['/api/greet/ann', 'greet', { name: 'ann' }],
  ['/api/files/a/b/c.txt', 'files', { rest: 'a/b/c.txt' }],
  ['/api/files', 'files', {}],
  // The host tries routes in function-name order and takes the first match, not the most specific one.
  ['/api/shop/special', 'shopItem', { item: 'special' }],
];

/**
 * The app-loading and HTTP-trigger scenarios, for the target `t()` returns.
 * @example describe('HTTP', () => appHttpScenarios(() => target, spec));
 */
export function appHttpScenarios(t: () => Target, on: TargetInfo): void {
  const { kind } = on;
  it('loads every file the brace-set "main" names: index.js (HTTP streams on) and each functions/*.js', async () => {
    const ping = await t().fetch('/api/ping');
    expect(await ping.text()).toBe('pong');
    expect((await get(t(), '/api/c/int/5')).fn).toBe('intMin');
    const started = await t().fetch('/api/orchestrators/hello', { method: 'POST' });
    expect(started.status, await peek(started)).toBe(202);
    // Query values in request.params: only with streams on, which index.js (a file of the brace set) turns on.
    expect((await get(t(), '/api/lookup/1?extra=yes')).params).toEqual({ id: '1', extra: 'yes' });
  });

  it.each(ROUTES)('GET %s: %s', async (path, fn, params) => {
    const got = await get(t(), path);
    if (fn === 404) expect(got).toEqual({ status: 404 });
    else expect(got).toEqual({ status: 200, fn, params });
  });

  it('with HTTP streams on, request.params has the query values too (not code; a route value wins; repeats joined by commas)', async () => {
    expect((await get(t(), '/api/lookup/7?id=1&x=1&x=2&code=secret')).params).toEqual({ id: '7', x: '1,2' });
  });

  it('a route that matches nothing: 404 (empty body from the host; devhost says which route it looked for)', async () => {
    const res = await t().fetch('/api/c/int/0');
    expect(res.status).toBe(404);
    const text = await res.text();
    if (kind === 'func') expect(text).toBe('');
    else expect(JSON.parse(text)).toMatchObject({ error: { code: 'NotFound' } });
  });

  it('a method the route does not take: 404 on the host (the method is part of the route), 405 with Allow on devhost', async () => {
    // README, differences table: "a method the matching route does not take".
    const res = await t().fetch('/api/ping', { method: 'POST' });
    expect(res.status).toBe(kind === 'func' ? 404 : 405);
    if (kind === 'devhost') expect(res.headers.get('allow')).toBe('GET');
    await res.arrayBuffer();
  });
}

// Browser test of the players' web client (GET /api/play): a headless Chromium (the system's, or the one inside the
// @sparticuz/chromium dev dependency; see test/support/browser.ts), driven by playwright-core, which never downloads a
// browser, signs in, plays delayed and interactive commands, reconnects, and sees untrusted text as text.
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { startGame } from '../game/harness';
import { BROWSER_ARGS, findBrowser } from '../support/browser';

const SEEN = { timeout: 15_000, interval: 50 };

// Only where no browser can be had at all are these tests skipped, and then one loud line says so.
const found = await findBrowser();
if ('missing' in found) console.warn(`\n!!! BROWSER TESTS SKIPPED: ${found.missing}\n`);

let host: TestHost;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  host = await startGame();
  // A browser that is there but does not start is a failure, not a skip.
  if ('executablePath' in found) browser = await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await host?.dispose();
});

interface Tab {
  page: Page;
  /** Uncaught script errors and Content-Security-Policy violations seen by the page. */
  problems: string[];
}

/** A fresh browser profile (its own sessionStorage) on the play page. */
async function openPlay(): Promise<Tab> {
  if (!browser) throw new Error('The browser did not start (see beforeAll).');
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${host.url}/api/play`);
  return { page, problems };
}

const scrollback = (page: Page) => page.getByRole('log', { name: 'Game messages' });
const question = (page: Page) => page.getByRole('region', { name: 'The game asks' });
const lines = (page: Page) => scrollback(page).locator('p').allInnerTexts();
const inputHasFocus = (page: Page) => page.locator('#line').evaluate((el) => el === el.ownerDocument.activeElement);

async function signIn(page: Page, name: string, password = `pw-${name}`): Promise<void> {
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function join(name: string): Promise<Tab> {
  const tab = await openPlay();
  await signIn(tab.page, name);
  await expect.poll(() => lines(tab.page), SEEN).toContain(`Welcome, ${name}! Your character has been created. Type "help" to begin.`);
  return tab;
}

/** Types a line into the input (whatever its label says) and presses Enter; resolves to the server's reply. */
async function typeLine(page: Page, text: string): Promise<Response> {
  const reply = page.waitForResponse((r) => r.url().endsWith('/api/input') && r.request().method() === 'POST');
  const input = page.locator('#line');
  await input.fill(text);
  await input.press('Enter');
  return reply;
}

describe.skipIf('missing' in found)('web client /api/play', () => {
  it('is one HTML page whose Content-Security-Policy allows only its own inline code', async () => {
    const res = await host.fetch('/api/play');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)="(?!data:)/i);
  });

  it('signs in, focuses the input and shows "Test!" when testdelay fires 10 s later', async () => {
    const { page, problems } = await join('webdelay');
    await expect.poll(() => inputHasFocus(page), SEEN).toBe(true);
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Connected');
    expect(await page.getByText('Signed in as webdelay').isVisible()).toBe(true);

    const reply = await typeLine(page, 'testdelay');
    expect(reply.status()).toBe(202);
    await host.idle();
    expect(await lines(page)).toContain('> testdelay');
    expect(await lines(page)).not.toContain('Test!');
    await host.advance('10s');
    await expect.poll(() => lines(page), SEEN).toContain('Test!');
    expect(problems).toEqual([]);
  });

  it('answers the waitloop prompt "no" through the page, which ends the loop', async () => {
    const { page, problems } = await join('webloop');
    const started = await typeLine(page, 'waitloop');
    const { instanceId } = (await started.json()) as { instanceId: string };
    await expect.poll(() => lines(page), SEEN).toContain('Getting ready to wait ...');
    await host.advance('5s');
    await expect.poll(() => question(page).innerText(), SEEN).toContain('Do you want to wait another 5 secs?');
    expect(await lines(page)).toContain('Now 5 seconds have passed.');
    expect(await page.locator('#line-label').innerText()).toBe('Answer');

    const answered = await typeLine(page, 'no');
    expect(await answered.json()).toMatchObject({ kind: 'answer', instanceId });
    expect(await host.waitFor(instanceId)).toMatchObject({ runtimeStatus: 'Completed' });
    await expect.poll(() => question(page).isVisible(), SEEN).toBe(false);
    expect(await page.locator('#line-label').innerText()).toBe('Command');
    expect((await lines(page)).filter((l) => l === 'Getting ready to wait ...')).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('after a reload shows the open question again, still signed in, and takes the answer', async () => {
    const { page, problems } = await join('webreload');
    const started = await typeLine(page, 'waitloop');
    const { instanceId } = (await started.json()) as { instanceId: string };
    await host.advance('5s');
    await expect.poll(() => question(page).innerText(), SEEN).toContain('Do you want to wait another 5 secs?');

    await page.reload();
    await expect.poll(() => question(page).innerText(), SEEN).toContain('Do you want to wait another 5 secs?');
    expect(await page.getByText('Signed in as webreload').isVisible()).toBe(true);
    await expect.poll(() => lines(page), SEEN).toEqual(expect.arrayContaining(['Now 5 seconds have passed.', 'Reconnected as webreload.']));
    expect(await inputHasFocus(page)).toBe(true);

    expect(await (await typeLine(page, 'no')).json()).toMatchObject({ kind: 'answer', instanceId });
    expect(await host.waitFor(instanceId)).toMatchObject({ runtimeStatus: 'Completed' });
    await expect.poll(() => question(page).isVisible(), SEEN).toBe(false);
    expect(problems).toEqual([]);
  });

  it('shows a message containing HTML as text, never as markup', async () => {
    const { page, problems } = await join('webxss');
    const attack = '<img src=x onerror=window.__xss=1><b>bold</b>';
    expect((await typeLine(page, `echo ${attack}`)).status()).toBe(202);
    await expect.poll(() => lines(page), SEEN).toContain(attack);
    expect(await scrollback(page).locator('img, b').count()).toBe(0);
    expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
    expect(problems).toEqual([]);
  });

  it('shows a refused line (4xx) inline and gives the line back', async () => {
    const { page } = await join('weblong');
    const long = 'é'.repeat(3000);
    expect((await typeLine(page, long)).status()).toBe(413);
    await expect.poll(() => page.locator('#input-error').innerText(), SEEN).toContain('the limit is 4096 bytes');
    expect(await page.locator('#line').inputValue()).toBe(long);
  });

  it('sends each line with an Idempotency-Key and, when the answer is lost, sends it again with the same key: it runs once', async () => {
    const { page, problems } = await join('webkeyed');
    const keys: string[] = [];
    const replayed: (string | null)[] = [];
    let lost = false;
    await page.route('**/api/input', async (route) => {
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (!lost) {
        // The server runs the line, but its answer never reaches the page (a dropped connection).
        lost = true;
        await route.fetch();
        return route.abort('connectionreset');
      }
      const res = await route.fetch();
      replayed.push(res.headers()['idempotent-replayed'] ?? null);
      return route.fulfill({ response: res });
    });
    const input = page.locator('#line');
    await input.fill('echo only once');
    await input.press('Enter');
    await expect.poll(() => replayed, SEEN).toEqual(['true']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(keys[1]).toBe(keys[0]);
    await expect.poll(() => page.locator('#input-error').innerText(), SEEN).toBe('');
    await typeLine(page, 'echo next line');
    expect(keys[2]).not.toBe(keys[0]);
    await expect.poll(() => lines(page), SEEN).toContain('next line');
    expect((await lines(page)).filter((l) => l === 'only once')).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('tells a wrong password on the sign-in form', async () => {
    await join('webpw');
    const { page } = await openPlay();
    await signIn(page, 'webpw', 'not-the-password');
    await expect.poll(() => page.getByRole('alert').first().innerText(), SEEN).toBe('Wrong password for player "webpw".');
    expect(await scrollback(page).isVisible()).toBe(false);
  });

  it('keeps polling after the message endpoint fails, and shows it is reconnecting', async () => {
    const { page } = await join('webretry');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Connected');
    let failures = 0;
    await page.route('**/api/messages?*', (route) => {
      failures++;
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'storage_unavailable', message: 'Storage is down.' } }) });
    });
    // The poll already in flight returns with this message; the next ones fail until the route is removed.
    await typeLine(page, 'echo before the outage');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Reconnecting in 1 s: Storage is down.');
    await page.unroute('**/api/messages?*');
    expect(failures).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Connected');
    await typeLine(page, 'echo after the outage');
    await expect.poll(() => lines(page), SEEN).toEqual(expect.arrayContaining(['before the outage', 'after the outage']));
  });
});

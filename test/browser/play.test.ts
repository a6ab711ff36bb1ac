// Browser test of the players' web client (GET /api/play): a headless Chromium (the system's, or the one inside the
// @sparticuz/chromium dev dependency; see test/support/browser.ts), driven by playwright-core, which never downloads a
// browser, signs in, plays delayed and interactive commands, reconnects, sees untrusted text as text, reads messages
// from the event stream (or the long poll where there is none), and manages its tasks in the task panel, also at
// 390 px. UPDATE_SCREENSHOTS=1 writes docs/screenshots/play.png and play-390.png for the README.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { startGame } from '../game/harness';
import { BROWSER_ARGS, findBrowser } from '../support/browser';

const SEEN = { timeout: 15_000, interval: 50 };
const SCREENSHOTS = path.resolve(__dirname, '../../docs/screenshots');
const PHONE = { width: 390, height: 844 };
const STREAM_SECONDS = 2;

// Only where no browser can be had at all are these tests skipped, and then one loud line says so.
const found = await findBrowser();
if ('missing' in found) console.warn(`\n!!! BROWSER TESTS SKIPPED: ${found.missing}\n`);

let host: TestHost;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // Streams end (event: end) after 2 s instead of 120, so every test also crosses reconnects with Last-Event-ID.
  host = await startGame({ GAME_STREAM_SECONDS: String(STREAM_SECONDS) });
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
  /** The page's requests to /api/stream (with the Last-Event-ID they sent) and to /api/messages (with their wait=). */
  streams: { lastEventId: string | undefined }[];
  polls: { wait: string | null }[];
}

/** A fresh browser profile (its own sessionStorage) on the play page (of `origin`: the host, or a proxy in front of it). */
async function openPlay(viewport = { width: 1000, height: 700 }, origin = host.url): Promise<Tab> {
  if (!browser) throw new Error('The browser did not start (see beforeAll).');
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  const streams: Tab['streams'] = [];
  const polls: Tab['polls'] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/stream') streams.push({ lastEventId: r.headers()['last-event-id'] });
    if (url.pathname === '/api/messages') polls.push({ wait: url.searchParams.get('wait') });
  });
  await page.goto(`${origin}/api/play`);
  return { page, problems, streams, polls };
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

/** Makes the page's server look like one from before /api/stream: that route answers 404. */
async function withoutStream(page: Page): Promise<void> {
  await page.route('**/api/stream*', (route) =>
    route.fulfill({ status: 404, contentType: 'application/json', body: JSON.stringify({ error: { code: 'not_found', message: 'No such route.' } }) }),
  );
}

const STORAGE_DOWN = { status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'storage_unavailable', message: 'Storage is down.' } }) };

async function join(name: string, viewport?: { width: number; height: number }, origin?: string): Promise<Tab> {
  const tab = await openPlay(viewport, origin);
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

/** The task panel's row of a task, found by the short id the page shows (as the in-game `tasks` command does). */
const jobRow = (page: Page): Locator => page.getByRole('complementary', { name: 'Your tasks' }).getByRole('listitem').filter({ hasText: 'longJob' });
const taskRow = (page: Page, id: string): Locator =>
  page.getByRole('complementary', { name: 'Your tasks' }).getByRole('listitem').filter({ has: page.locator('.task-id', { hasText: shortId(id) }) });
const shortId = (id: string) => id.split('.').slice(2).join('.').slice(0, 8);
const panelSaid = (page: Page) => page.locator('#task-said').innerText();

/** Seconds in a countdown the panel shows: "fires in 1m 5s" -> 65. */
function seconds(text: string): number {
  const m = /fires in ((?:\d+[dhms] ?)+)/.exec(text);
  if (!m) return NaN;
  const size: Record<string, number> = { d: 86_400, h: 3600, m: 60, s: 1 };
  return [...m[1].matchAll(/(\d+)([dhms])/g)].reduce((sum, [, n, unit]) => sum + Number(n) * size[unit], 0);
}

/** Types `remind <when> <text>` and resolves to the task id the reply names. */
async function remind(page: Page, args: string): Promise<string> {
  await typeLine(page, `remind ${args}`);
  let id = '';
  await expect
    .poll(async () => {
      id = (await lines(page)).map((l) => /^I will remind you in .+ \(task (.+)\)\.$/.exec(l)?.[1]).find((x) => x !== undefined && !seenIds.has(x)) ?? '';
      return id;
    }, SEEN)
    .not.toBe('');
  seenIds.add(id);
  return id;
}
const seenIds = new Set<string>();

/** Whether the element's box lies wholly inside the page's viewport. */
async function insideViewport(page: Page, locator: Locator): Promise<boolean> {
  const box = await locator.boundingBox();
  const vp = page.viewportSize();
  if (!box || !vp) return false;
  return box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width && box.y + box.height <= vp.height && box.width > 0 && box.height > 0;
}

/** The width and height a PNG says it has (its IHDR chunk). */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

async function screenshot(page: Page, file: string): Promise<Buffer> {
  const png = await page.screenshot();
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.writeFileSync(path.join(SCREENSHOTS, file), png);
  }
  return png;
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

  it('signs in, focuses the input and shows "Test!" over the event stream when testdelay fires 10 s later', async () => {
    const { page, problems, streams, polls } = await join('webdelay');
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
    // It came over /api/stream: the only read of /api/messages is the history at sign-in, which does not wait.
    expect(streams.length).toBeGreaterThanOrEqual(1);
    expect(polls).toEqual([{ wait: '0' }]);
    expect(await page.getByRole('status').getAttribute('title')).toBe('Messages arrive over a live event stream.');
    expect(problems).toEqual([]);
  });

  it('reopens the stream with Last-Event-ID each time the server ends it, and shows every message once', async () => {
    const { page, problems, streams, polls } = await join('webresume');
    await typeLine(page, 'echo first');
    await expect.poll(() => lines(page), SEEN).toContain('first');
    const before = streams.length;
    await expect.poll(() => streams.length, SEEN).toBeGreaterThanOrEqual(before + 2); // two ends of the stream later
    await typeLine(page, 'echo second');
    await expect.poll(() => lines(page), SEEN).toContain('second');
    await expect.poll(() => streams.length, SEEN).toBeGreaterThanOrEqual(before + 3);
    const shown = await lines(page);
    expect(shown.filter((l) => l === 'first')).toHaveLength(1);
    expect(shown.filter((l) => l === 'second')).toHaveLength(1);
    expect(streams.every((s) => typeof s.lastEventId === 'string' && s.lastEventId.length > 0)).toBe(true);
    expect(new Set(streams.map((s) => s.lastEventId)).size).toBeGreaterThanOrEqual(3); // moved past each message
    expect(polls).toEqual([{ wait: '0' }]);
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

  it('keeps reconnecting the stream while it fails, shows it is reconnecting, and loses nothing', async () => {
    const { page, problems } = await join('webstreamretry');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toBe('Connected');
    let failures = 0;
    await page.route('**/api/stream*', (route) => {
      failures++;
      return route.fulfill(STORAGE_DOWN);
    });
    // The open stream still delivers this; when the server ends it, the reconnects fail until the route is removed.
    await typeLine(page, 'echo before the outage');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Reconnecting in 1 s: Storage is down.');
    await typeLine(page, 'echo during the outage');
    await page.unroute('**/api/stream*');
    expect(failures).toBeGreaterThan(0);
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toBe('Connected');
    await typeLine(page, 'echo after the outage');
    await expect.poll(() => lines(page), SEEN).toEqual(expect.arrayContaining(['before the outage', 'during the outage', 'after the outage']));
    for (const text of ['before the outage', 'during the outage', 'after the outage']) expect((await lines(page)).filter((l) => l === text)).toHaveLength(1);
    expect(problems).toEqual([]);
  });

  it('keeps polling after the message endpoint fails (server without a stream), and shows it is reconnecting', async () => {
    const { page } = await openPlay();
    await withoutStream(page);
    await signIn(page, 'webretry');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Connected');
    let failures = 0;
    await page.route('**/api/messages?*', (route) => {
      failures++;
      return route.fulfill(STORAGE_DOWN);
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

  it('shows a delay in the task panel counting down, and cancels it there: it is gone and never fires', async () => {
    const { page, problems } = await join('webtasks');
    const id = await remind(page, '60 x');
    const row = taskRow(page, id);
    await expect.poll(() => row.locator('.task-name').innerText(), SEEN).toBe('remind');
    await expect.poll(() => page.locator('#task-summary').innerText(), SEEN).toBe('Tasks (1)');
    // About a minute: /api/tasks counts from the wall clock, which the earlier tests' advance() of the host's
    // virtual clock has left behind by some seconds.
    const first = seconds(await row.locator('.task-when').innerText());
    expect(first).toBeGreaterThan(50);
    expect(first).toBeLessThan(120);
    await expect.poll(async () => seconds(await row.locator('.task-when').innerText()), SEEN).toBeLessThan(first);

    await page.getByRole('button', { name: `Cancel remind ${shortId(id)}` }).click();
    await expect.poll(() => panelSaid(page), SEEN).toBe(`Cancelled remind ${shortId(id)}.`);
    await expect.poll(() => row.count(), SEEN).toBe(0);
    expect(await page.locator('#task-summary').innerText()).toBe('Tasks');
    expect(await page.locator('#task-empty').isVisible()).toBe(true);
    await host.advance('61s');
    await host.idle();
    expect(await lines(page)).not.toContain('Reminder: x');
    expect(problems).toEqual([]);
  });

  it('pauses, resumes and fires a delay from the task panel', async () => {
    const { page, problems } = await join('webpause');
    const id = await remind(page, '5m tea is ready');
    const row = taskRow(page, id);
    const label = `remind ${shortId(id)}`;
    await page.getByRole('button', { name: `Pause ${label}` }).click();
    await expect.poll(() => row.locator('.task-when').innerText(), SEEN).toMatch(/^paused with (5m|4m 5\ds) left$/);
    await page.getByRole('button', { name: `Resume ${label}` }).click();
    await expect.poll(() => row.locator('.task-when').innerText(), SEEN).toMatch(/^fires in [4-6]m( \d+s)?$/);
    expect(await row.getByRole('button').allInnerTexts()).toEqual(['Pause', 'Fire now', 'Cancel']);
    await page.getByRole('button', { name: `Fire now ${label}` }).click();
    await expect.poll(() => lines(page), SEEN).toContain('Reminder: tea is ready');
    await expect.poll(() => row.count(), SEEN).toBe(0);
    expect(problems).toEqual([]);
  });

  it('shows a background job (longjob) with its progress moving, until it finishes', async () => {
    const { page, problems } = await join('webjob');
    await typeLine(page, 'longjob 8 0.5');
    const row = jobRow(page);
    const seen: number[] = [];
    await expect
      .poll(async () => {
        const text = (await row.count()) > 0 ? await row.locator('.task-progress span').innerText() : '';
        const pct = /^(\d+)%/.exec(text);
        if (pct && seen[seen.length - 1] !== Number(pct[1])) seen.push(Number(pct[1]));
        return seen.filter((p) => p > 0 && p < 100).length;
      }, { timeout: 20_000, interval: 100 })
      .toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await row.locator('.task-progress span').innerText()).toMatch(/^\d+% · \d of 8 steps$/);
    expect(await row.getByRole('button').allInnerTexts()).toEqual(['Cancel']);
    await expect.poll(() => lines(page), { timeout: 20_000, interval: 100 }).toContain('longjob finished: the sum of the squares is 204.');
    await expect.poll(() => row.count(), SEEN).toBe(0);
    expect(problems).toEqual([]);
  });

  it('walks the typed lines with Up and Down, and keeps the line being typed', async () => {
    const { page } = await join('webhistory');
    await typeLine(page, 'echo one');
    await typeLine(page, 'echo two');
    const input = page.locator('#line');
    await input.fill('ech');
    await input.press('ArrowUp');
    expect(await input.inputValue()).toBe('echo two');
    await input.press('ArrowUp');
    expect(await input.inputValue()).toBe('echo one');
    await input.press('ArrowUp');
    expect(await input.inputValue()).toBe('echo one');
    await input.press('ArrowDown');
    expect(await input.inputValue()).toBe('echo two');
    await input.press('ArrowDown');
    expect(await input.inputValue()).toBe('ech');
    // A reload keeps the history (for the tab's life).
    await page.reload();
    await expect.poll(() => page.getByText('Signed in as webhistory').isVisible(), SEEN).toBe(true);
    await input.press('ArrowUp');
    expect(await input.inputValue()).toBe('echo two');
  });

  it('long polls /api/messages where /api/stream answers 404 (an older server)', async () => {
    const { page, problems, streams, polls } = await openPlay();
    await withoutStream(page);
    await signIn(page, 'webold');
    await expect.poll(() => page.getByRole('status').innerText(), SEEN).toContain('Connected');
    await typeLine(page, 'testdelay');
    await host.advance('10s');
    await expect.poll(() => lines(page), SEEN).toContain('Test!');
    expect(streams).toHaveLength(1);
    expect(polls.filter((p) => p.wait !== '0').length).toBeGreaterThan(0);
    expect(await page.getByRole('status').getAttribute('title')).toContain('long polling');
    expect(problems).toEqual([]);
  });

  it('at 390 px keeps the input line in view, with the task panel folded under it and opened', async () => {
    const { page, problems } = await join('webphone', PHONE);
    await typeLine(page, 'help');
    await remind(page, '10m tea');
    await typeLine(page, 'longjob 12 0.25');
    await expect.poll(() => page.locator('#task-summary').innerText(), SEEN).toBe('Tasks (2)');
    const input = page.getByRole('textbox', { name: 'Command' });
    expect(await insideViewport(page, input)).toBe(true);
    expect(await insideViewport(page, page.getByRole('button', { name: 'Send' }))).toBe(true);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await page.locator('#task-list').isVisible()).toBe(false);

    await page.locator('#task-summary').click();
    await expect.poll(() => page.getByRole('button', { name: /^Cancel remind / }).isVisible(), SEEN).toBe(true);
    await expect.poll(() => jobRow(page).locator('.task-progress span').innerText(), { timeout: 20_000, interval: 100 }).toMatch(/^[1-9]\d*% /);
    expect(await insideViewport(page, input)).toBe(true);
    expect(await insideViewport(page, page.getByRole('button', { name: /^Cancel remind / }))).toBe(true);
    const png = await screenshot(page, 'play-390.png');
    expect(pngSize(png)).toEqual(PHONE);
    await input.fill('echo typed at 390 px');
    await input.press('Enter');
    await expect.poll(() => lines(page), SEEN).toContain('typed at 390 px');
    expect(await insideViewport(page, input)).toBe(true);
    expect(problems).toEqual([]);
  });

  it('shows messages, an open question and the task panel side by side on a desktop screen', async () => {
    const desktop = { width: 1200, height: 720 };
    const { page, problems } = await join('webdesk', desktop);
    await typeLine(page, 'testdelay');
    await host.advance('10s');
    await expect.poll(() => lines(page), SEEN).toContain('Test!');
    const tea = await remind(page, '5m tea is ready');
    const paused = await remind(page, '1h stretch');
    await page.getByRole('button', { name: `Pause remind ${shortId(paused)}` }).click();
    await typeLine(page, 'longjob 40 0.25');
    await typeLine(page, `tasks ${shortId(tea)} cancel`);
    await expect.poll(() => question(page).innerText(), SEEN).toContain(`Cancel task ${shortId(tea)} (remind, fires in`);
    await expect.poll(() => jobRow(page).locator('.task-progress span').innerText(), { timeout: 20_000, interval: 100 }).toMatch(/^[1-9]\d*% /);
    const panel = page.getByRole('complementary', { name: 'Your tasks' });
    const log = await scrollback(page).boundingBox();
    const side = await panel.boundingBox();
    expect(side && log && side.x >= log.x + log.width).toBe(true);
    expect(await insideViewport(page, page.locator('#line'))).toBe(true);
    expect(pngSize(await screenshot(page, 'play.png'))).toEqual(desktop);

    // A background job can be cancelled from the panel too.
    await jobRow(page).getByRole('button', { name: /^Cancel longJob / }).click();
    await expect.poll(() => panelSaid(page), SEEN).toMatch(/^Cancelled longJob \S+\.$/);
    await expect.poll(() => jobRow(page).count(), SEEN).toBe(0);
    expect(problems).toEqual([]);
  });
});

/**
 * A proxy in front of the test host that answers GET /api/stream itself, from a script of raw byte chunks per
 * connection (split inside a CRLF and inside a UTF-8 character), and passes every other request to the host: the
 * page's SSE parser and reconnects are tested against exactly the bytes a server or proxy may send.
 */
async function streamProxy(script: ((res: http.ServerResponse) => Promise<void>)[]) {
  const seen: { lastEventId: string | undefined; authorization: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith('/api/stream')) {
        seen.push({ lastEventId: req.headers['last-event-id'] as string | undefined, authorization: req.headers.authorization });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.flushHeaders();
        const step = script[seen.length - 1];
        if (step) await step(res);
        return; // past the script: held open, as a quiet stream
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k))) as Record<string, string>;
      const upstream = await fetch(host.url + req.url, { method: req.method, headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined });
      const out: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
      });
      res.writeHead(upstream.status, out);
      res.end(Buffer.from(await upstream.arrayBuffer()));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function writeChunks(res: http.ServerResponse, chunks: (string | Buffer)[]): Promise<void> {
  for (const c of chunks) {
    res.write(c);
    await pause(30); // separate reads in the page
  }
}

describe.skipIf('missing' in found)('web client: the event stream as bytes', () => {
  it('parses split chunks, CRLF and CR, multi-line data and comments, and resumes with Last-Event-ID after an end and a break', async () => {
    const event = (id: string, text: string) => `id: ${id}\r\nevent: message\r\ndata: ${JSON.stringify({ id: `m-${id}`, text, time: '2024-01-01T00:00:00.000Z' })}\r\n\r\n`;
    const cafe = Buffer.from(event('c1', 'café one'), 'utf8');
    const split = cafe.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    const crlf = cafe.indexOf('\r\n'); // between \r and \n
    const proxy = await streamProxy([
      async (res) => {
        await writeChunks(res, ['retry: 100\r\n\r\n: keepalive\r\n\r\n', cafe.subarray(0, crlf + 1), cafe.subarray(crlf + 1, split), cafe.subarray(split)]);
        // Multi-line data (joined with "\n": still one JSON object), a comment in between, an unknown field, LF only.
        await writeChunks(res, ['id: c2\nevent: message\ndata: {"id": "m-c2",\n: keepalive\ndata: "text": "two <b>lines</b>",\nfoo: bar\ndata: "time": "2024-01-01T00:00:01.000Z"}\n\n']);
        // The server ends the stream on purpose; the page must reconnect at once even though the socket stays open.
        await writeChunks(res, ['event: end\r\ndata: {"reason":"reconnect"}\r\n\r\n']);
      },
      async (res) => {
        // Bare CR line ends, then the connection breaks without an end event.
        await writeChunks(res, [event('c3', 'three').replace(/\r\n/g, '\r')]);
        res.destroy();
      },
    ]);
    try {
      const { page, problems } = await join('webbytes', undefined, proxy.url);
      await expect.poll(() => proxy.seen.length, SEEN).toBe(3);
      await expect.poll(() => lines(page), SEEN).toEqual(expect.arrayContaining(['café one', 'two <b>lines</b>', 'three']));
      const shown = (await lines(page)).filter((l) => ['café one', 'two <b>lines</b>', 'three'].includes(l));
      expect(shown).toEqual(['café one', 'two <b>lines</b>', 'three']);
      expect(proxy.seen[0].authorization).toMatch(/^Bearer .+/);
      expect(proxy.seen[0].lastEventId).toBeTruthy(); // the cursor of the history read before it
      expect(proxy.seen.slice(1).map((s) => s.lastEventId)).toEqual(['c2', 'c3']);
      expect(await scrollback(page).locator('b').count()).toBe(0);
      expect(await page.getByRole('status').innerText()).toBe('Connected');
      expect(problems).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('takes a stream the server replaced (another tab of the player) back after the retry time, twice as long the next time', async () => {
    const at: number[] = [];
    const replaced = async (res: http.ServerResponse) => {
      at.push(performance.now());
      await writeChunks(res, ['retry: 150\n\nevent: end\ndata: {"reason":"replaced"}\n\n']);
    };
    const proxy = await streamProxy([
      replaced,
      replaced,
      async (res) => {
        at.push(performance.now());
        await writeChunks(res, [`id: r1\nevent: message\ndata: ${JSON.stringify({ id: 'm-r1', text: 'back again', time: '2024-01-01T00:00:00.000Z' })}\n\n`]);
      },
    ]);
    try {
      const { page, problems } = await join('webreplaced', undefined, proxy.url);
      await expect.poll(() => lines(page), SEEN).toContain('back again');
      expect(at[1] - at[0]).toBeGreaterThanOrEqual(150);
      expect(at[2] - at[1]).toBeGreaterThanOrEqual(300);
      expect(await page.getByRole('status').innerText()).toBe('Connected');
      expect(problems).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

// Browser test of devhost's dashboard (GET /_devhost) in a headless Chromium driven by playwright-core (see
// test/support/browser.ts): on the game, a waiting command is answered from the page and the virtual clock jumps to
// the next timer; on a fixture app, every button works and ids, inputs, outputs, event names, custom status and
// entity state holding HTML stay text. UPDATE_SCREENSHOTS=1 writes docs/screenshots/dashboard.png for the README.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { Player, startGame } from '../game/harness';
import { MGMT, postJson, startFixture, startViaHttp, uid } from '../devhost/support';
import { BROWSER_ARGS, findBrowser } from '../support/browser';

const SEEN = { timeout: 15_000, interval: 50 };
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshots/dashboard.png');

const found = await findBrowser();
if ('missing' in found) console.warn(`\n!!! BROWSER TESTS SKIPPED: ${found.missing}\n`);

let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if ('executablePath' in found) browser = await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
});
afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await browser?.close();
});

interface Tab {
  page: Page;
  /** Uncaught script errors and Content-Security-Policy violations seen by the page. */
  problems: string[];
}

/** A fresh browser profile on the dashboard of `host`, with an instance selected when one is given. */
async function openDashboard(host: TestHost, instanceId?: string): Promise<Tab> {
  if (!browser) throw new Error('The browser did not start (see beforeAll).');
  const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, timezoneId: 'UTC' });
  contexts.push(context);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.goto(`${host.url}/_devhost${instanceId === undefined ? '' : `#instance=${encodeURIComponent(instanceId)}`}`);
  return { page, problems };
}

const table = (page: Page) => page.getByRole('table', { name: 'Instances' });
const row = (page: Page, id: string) => table(page).getByRole('button', { name: id, exact: true });
const detailStatus = (page: Page) => page.locator('#summary dd.st').innerText();
const waits = (page: Page) => page.locator('#waits button').allInnerTexts();
/** A time as the page shows it: 2026-01-31 12:00:05Z. */
const shown = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
const value = (page: Page, heading: string) => page.locator('#values h3', { hasText: heading }).locator('xpath=following-sibling::pre[1]').innerText();

/** Nothing from the host became markup: no element of those kinds in the page, no script ran. */
async function expectNoMarkupRan(page: Page): Promise<void> {
  expect(await page.locator('main img, main b, main i, main svg, main script:not(:first-child)').count()).toBe(0);
  expect(await page.locator('body script').count()).toBe(1);
  expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
}

describe.skipIf('missing' in found)('devhost dashboard /_devhost', () => {
  describe('on the game', () => {
    let host: TestHost;
    beforeAll(async () => {
      host = await startGame();
    });
    afterAll(() => host?.dispose());

    it('answers a waiting command from the page and sees it complete, and jumps the virtual clock to each next timer', async () => {
      const ana = await Player.join(host, 'dashana');
      await ana.type('testdelay'); // a delay: "Test!" in 10 s
      const { instanceId } = (await ana.type('waitloop')) as { instanceId: string }; // waits 5 s, then asks
      await host.idle();
      const start = host.now().getTime();
      const { page, problems } = await openDashboard(host);

      await row(page, instanceId).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Running');
      await expect.poll(() => page.locator('#inst-timers').innerText(), SEEN).toContain(`${shown(start + 5000)} timer`);
      expect(await waits(page)).toEqual([]);

      await page.getByRole('button', { name: 'Jump to next timer' }).click();
      await expect.poll(() => page.locator('#said').innerText(), SEEN).toBe(`Jumped to ${shown(start + 5000)}.`);
      await expect.poll(() => waits(page), SEEN).toEqual([expect.stringMatching(/^answer:dashana\.cmd\..+\.p0$/)]);
      expect(await page.locator('#event-name').inputValue()).toBe((await waits(page))[0]);
      expect(await page.locator('#clock').innerText()).toContain(`next timer ${shown(start + 10_000)}`);
      await expect.poll(() => page.locator('#timeline').innerText(), SEEN).toContain('Now 5 seconds have passed.');
      if (process.env.UPDATE_SCREENSHOTS === '1') {
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
      }

      await page.getByLabel('Event data (JSON)').fill('"no"');
      await page.getByRole('button', { name: 'Raise event' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Completed');
      expect(await waits(page)).toEqual([]);
      expect((await host.waitFor(instanceId)).runtimeStatus).toBe('Completed');

      await page.getByRole('button', { name: 'Jump to next timer' }).click();
      await expect.poll(() => ana.read(), SEEN).toContain('Test!');
      await expect.poll(() => page.locator('#clock').innerText(), SEEN).toContain('next timer none');
      expect(host.now().getTime()).toBe(start + 10_000);
      expect(await page.getByRole('button', { name: 'Jump to next timer' }).isDisabled()).toBe(true);
      expect(problems).toEqual([]);
    });
  });

  describe('on a fixture app', () => {
    let host: TestHost;
    beforeAll(async () => {
      host = await startFixture('dashboard-app', 'memory');
    });
    afterAll(() => host?.dispose());

    it('shows ids, inputs, event names, custom status, outputs and entity state holding HTML as text', async () => {
      const id = '<img src=x onerror=window.__xss=1> "quoted" & it\'s';
      const event = '<b onmouseover=window.__xss=2>go</b>';
      const note = '<script>window.__xss=3</script><img src=x onerror=window.__xss=3>';
      const answer = '<img src=x onerror=window.__xss=4><i>done</i>';
      const key = '<svg onload=window.__xss=5>';
      const state = { html: '<img src=x onerror=window.__xss=6>' };
      await startViaHttp(host, 'waiter', { event, note }, encodeURIComponent(id));
      const set = await host.fetch(`${MGMT}/entities/box/${encodeURIComponent(key)}?op=set`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(state) });
      expect(set.status).toBe(202);
      await host.idle();
      const { page, problems } = await openDashboard(host);

      await row(page, id).click();
      await expect.poll(() => waits(page), SEEN).toEqual([event]);
      expect(await page.locator('#summary').innerText()).toContain(id);
      expect(await value(page, 'Input')).toContain(JSON.stringify(note));
      expect(await value(page, 'Custom status')).toContain(JSON.stringify(note));
      expect(await table(page).locator('td.custom').allInnerTexts()).toEqual(expect.arrayContaining([JSON.stringify({ note, waitingFor: event }), JSON.stringify(state)]));

      await page.getByLabel('Event data (JSON)').fill(JSON.stringify(answer));
      await page.getByRole('button', { name: 'Raise event' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Completed');
      expect(await page.locator('#said').innerText()).toBe(`Raise event '${event}': accepted.`);
      expect(await value(page, 'Output')).toContain(JSON.stringify(answer));
      expect(await page.locator('#timeline').innerText()).toContain(event);

      await row(page, `@box@${key}`).click();
      await expect.poll(() => value(page, 'Entity state'), SEEN).toBe(JSON.stringify(state, null, 2));
      expect(await page.locator('#detail-title').innerText()).toBe('Entity');
      await expectNoMarkupRan(page);
      expect(problems).toEqual([]);
    });

    it('suspends, resumes, terminates and purges an instance with its buttons, and says why one is refused', async () => {
      const id = uid('buttons');
      await startViaHttp(host, 'waiter', { event: 'never' }, id);
      await host.idle();
      const { page, problems } = await openDashboard(host, id);
      await expect.poll(() => detailStatus(page), SEEN).toBe('Running');
      expect(await page.getByRole('button', { name: 'Resume' }).isDisabled()).toBe(true);
      expect(await page.getByRole('button', { name: 'Purge' }).isDisabled()).toBe(true);

      await page.getByRole('button', { name: 'Suspend' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Suspended');
      await page.getByRole('button', { name: 'Resume' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Running');
      expect(await page.locator('#timeline').innerText()).toMatch(/ExecutionSuspended[\s\S]*ExecutionResumed/);

      await page.getByLabel('Event data (JSON)').fill('not json');
      await page.getByRole('button', { name: 'Raise event' }).click();
      await expect.poll(() => page.getByRole('alert').innerText(), SEEN).toContain('the event data is not JSON');
      expect(await page.locator('#timeline').innerText()).not.toContain('EventRaised');

      await page.getByLabel('Reason').fill('<b>enough</b>');
      await page.getByRole('button', { name: 'Terminate' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Terminated');
      expect(await value(page, 'Output')).toBe('<b>enough</b>');
      expect(await page.locator('#problem').textContent()).toBe(''); // the JSON complaint went with the next operation

      await page.getByRole('button', { name: 'Purge' }).click();
      await expect.poll(() => page.locator('#said').innerText(), SEEN).toBe(`Purge '${id}': accepted.`);
      await expect.poll(() => row(page, id).count(), SEEN).toBe(0);
      expect(await page.locator('#detail').isHidden()).toBe(true);
      expect((await host.fetch(`${MGMT}/instances/${id}`)).status).toBe(404);
      await expectNoMarkupRan(page);
      expect(problems).toEqual([]);
    });

    it('rewinds a failed instance, which then completes', async () => {
      const id = uid('fragile');
      await startViaHttp(host, 'fragile', id, id);
      expect((await host.waitFor(id)).runtimeStatus).toBe('Failed');
      const { page, problems } = await openDashboard(host, id);
      await expect.poll(() => detailStatus(page), SEEN).toBe('Failed');
      expect(await page.locator('#timeline').innerText()).toContain('fails on its first attempt');
      await page.getByRole('button', { name: 'Rewind' }).click();
      await expect.poll(() => detailStatus(page), SEEN).toBe('Completed');
      expect(await value(page, 'Output')).toBe(`fragileStep '${id}' succeeded on attempt 2`);
      expect(problems).toEqual([]);
    });

    it('filters the list by status, name, id prefix and created time', async () => {
      const prefix = uid('flt');
      const done = await startViaHttp(host, 'fragile', `${prefix}-x`, `${prefix}-done`);
      const sleeping = await startViaHttp(host, 'sleeper', 600, `${prefix}-sleeping`);
      const waiting = await startViaHttp(host, 'waiter', {}, `${prefix}-waiting`);
      await host.waitFor(done);
      await host.idle();
      const { page, problems } = await openDashboard(host);
      const ids = async () => (await table(page).locator('td.id').allInnerTexts()).filter((t) => t.startsWith(prefix)).sort();
      await expect.poll(ids, SEEN).toEqual([done, sleeping, waiting].sort());

      await page.getByLabel('Id prefix').fill(prefix);
      await page.getByLabel('Status').selectOption('Running');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(ids, SEEN).toEqual([sleeping, waiting].sort());
      expect(await table(page).locator('td.id').count()).toBe(2);

      await page.getByLabel('Name contains').fill('SLEEP');
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(ids, SEEN).toEqual([sleeping]);

      const later = new Date(host.now().getTime() + 60_000).toISOString().slice(0, 19);
      await page.getByLabel('Created from').fill(later);
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect.poll(() => page.locator('#count').innerText(), SEEN).toBe('0 instances');

      await page.getByRole('button', { name: 'Clear' }).click();
      await expect.poll(ids, SEEN).toEqual([done, sleeping, waiting].sort());
      // Terminate what the later tests would otherwise see waiting.
      for (const id of [sleeping, waiting]) expect((await postJson(host, `${MGMT}/instances/${id}/terminate`)).status).toBe(202);
      expect(problems).toEqual([]);
    });
  });
});

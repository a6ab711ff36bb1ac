// Browser test of the operator page (GET /api/operator) in a headless Chromium driven by playwright-core (see
// test/support/browser.ts): a wrong key is refused on the page, the right one lists two players' tasks (with a running
// job's progress) and prompts, filters by player, and cancels a task with a note that shows in the log. HTML sent
// through a command (a reminder's text) and through an operator note stays text: no element is made of it and no
// script runs. UPDATE_SCREENSHOTS=1 writes docs/screenshots/operator.png for the README.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { OPERATOR_KEY, Player, startGame } from '../game/harness';
import { BROWSER_ARGS, findBrowser } from '../support/browser';

const SEEN = { timeout: 15_000, interval: 50 };
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshots/operator.png');
const VIA_COMMAND = '<img src=x onerror=window.__xss=1>';
const VIA_NOTE = '<img src=x onerror=window.__xss=2><script>window.__xss=3</script>';

const found = await findBrowser();
if ('missing' in found) console.warn(`\n!!! BROWSER TESTS SKIPPED: ${found.missing}\n`);

let browser: Browser | undefined;
let host: TestHost;

beforeAll(async () => {
  if ('executablePath' in found) browser = await chromium.launch({ executablePath: found.executablePath, args: BROWSER_ARGS });
  host = await startGame();
});
afterAll(async () => {
  await browser?.close();
  await host?.dispose();
});

const tasksTable = (page: Page) => page.getByRole('table', { name: 'Tasks' });
const rowsText = (page: Page, table: string) => page.getByRole('table', { name: table }).locator('tbody tr').allInnerTexts();

/** Nothing from the server became markup: no element of those kinds in the page, no script ran. */
async function expectNoMarkupRan(page: Page): Promise<void> {
  expect(await page.locator('main img, main script, main b, main svg').count()).toBe(0);
  expect(await page.locator('body script').count()).toBe(1);
  expect(await page.evaluate('typeof window.__xss')).toBe('undefined');
}

describe.skipIf('missing' in found)('operator page /api/operator', () => {
  it('lists and acts across players with the key; HTML from a command and from a note stays text', async () => {
    const ana = await Player.join(host, 'pageana');
    const bo = await Player.join(host, 'pagebo');
    await ana.type(`remind 600 ${VIA_COMMAND}`);
    const anaTask = /\(task (\S+)\)\.$/.exec((await ana.read())[0])![1];
    await ana.type('remind 3600 water the plants');
    const water = /\(task (\S+)\)\.$/.exec((await ana.read())[0])![1];
    await bo.type('testdelay');
    await bo.type('longjob 6 1'); // runs in real time while the page looks (host.idle() would wait for it)
    await bo.type('greet'); // last: its question takes bo's next line

    const context = await browser!.newContext({ viewport: { width: 1500, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 403/.test(m.text())) problems.push(`console: ${m.text()}`);
      if (/Content Security Policy|Trusted Type/i.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    const res = await page.goto(`${host.url}/api/operator`);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'sha256-[^']+'; style-src 'sha256-[^']+'/);

    // A wrong key (here a player's token) is refused on the page, and nothing is shown.
    await page.getByLabel('GAME_OPERATOR_KEY').fill(ana.token);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.locator('#status').innerText(), SEEN).toMatch(/not the operator key/);
    expect(await tasksTable(page).isVisible()).toBe(false);

    await page.getByLabel('GAME_OPERATOR_KEY').fill(OPERATOR_KEY);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => rowsText(page, 'Tasks'), SEEN).toHaveLength(4);
    const tasks = await rowsText(page, 'Tasks');
    expect(tasks.find((t) => t.includes(anaTask))).toContain(`["${VIA_COMMAND}"]`);
    expect(tasks.filter((t) => t.startsWith('pagebo')).length).toBe(2);
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return rowsText(page, 'Prompts');
      }, SEEN)
      .toEqual([expect.stringMatching(/^pagebo\tgreet\tWhat is your name\?/)]);

    // The running job's progress moves into the page.
    await expect
      .poll(async () => {
        await page.getByRole('button', { name: 'Refresh' }).click();
        return page.getByRole('progressbar').getAttribute('aria-valuenow');
      }, { timeout: 20_000, interval: 300 })
      .toMatch(/^[1-9]\d*$/);

    // Pause one with a note: the row offers unpause instead of pause, and the log shows the note.
    await page.getByLabel('Note for actions').fill('ticket 42: the player asked to hold it');
    await page.getByRole('button', { name: `pause ${water}` }).click();
    await expect.poll(() => page.locator('#status').innerText(), SEEN).toBe(`Sent pause to ${water} (pageana), note: ticket 42: the player asked to hold it`);
    await expect.poll(() => page.getByRole('button', { name: `unpause ${water}` }).count(), SEEN).toBe(1);
    expect((await rowsText(page, 'Operator actions'))[0]).toContain(`pause\t${water}\tpageana\tsent\tticket 42: the player asked to hold it`);
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }

    // Filter by player.
    await page.getByLabel('Player').fill('pageana');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect.poll(() => rowsText(page, 'Tasks'), SEEN).toHaveLength(2);

    // An action needs a note; with one it is sent, and the note shows as text in the status and the log.
    await page.getByLabel('Note for actions').fill('');
    await page.getByRole('button', { name: `cancel ${anaTask}` }).click();
    await expect.poll(() => page.locator('#status').innerText(), SEEN).toBe('Write a note first: it is logged with the action.');
    await page.getByLabel('Note for actions').fill(VIA_NOTE);
    await page.getByRole('button', { name: `cancel ${anaTask}` }).click();
    await expect.poll(() => page.locator('#status').innerText(), SEEN).toBe(`Sent cancel to ${anaTask} (pageana), note: ${VIA_NOTE}`);
    await expect.poll(() => rowsText(page, 'Tasks'), SEEN).toHaveLength(1);
    expect((await rowsText(page, 'Operator actions'))[0]).toContain(`cancel\t${anaTask}\tpageana\tsent\t${VIA_NOTE}`);
    await host.idle();
    expect(((await ana.get('/api/tasks')).body.tasks as { id: string; state: string }[]).find((t) => t.id === anaTask)?.state).toBe('cancelled');

    await expectNoMarkupRan(page);
    expect(problems).toEqual([]);
    await context.close();
    await host.idle();
  });
});

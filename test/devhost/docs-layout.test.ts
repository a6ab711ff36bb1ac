// An app laid out as Microsoft's Functions TypeScript docs lay it out ("main": "dist/src/{index.js,functions/*.js}",
// HTTP streams on in index.ts), driven over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { startFixture } from './support';

const APP = 'docs-layout-app';

describe('an app in the docs layout', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture(APP, 'memory');
  });
  afterAll(async () => {
    await host?.dispose();
  });

  it('loads every file the brace-set "main" names: functions from each are served', async () => {
    expect(await (await host.fetch('/api/ping')).text()).toBe('pong');
    const id = await host.client().startNew('greetAll');
    expect((await host.waitFor(id)).output).toEqual(['Hi Ann!', 'Hi Bo!']);
  });

  it('warns about a matched file that registers nothing, and only about that one', () => {
    const warnings = host.logs.filter((l) => l.level === 'warning').map((l) => l.message);
    expect(warnings.filter((m) => m.includes('registered no function'))).toEqual([expect.stringContaining('"dist/src/functions/notes.js"')]);
  });
});

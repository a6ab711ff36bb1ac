// App and invocation hooks on both stores: appStart (after app settings are set), pre/postInvocation around HTTP,
// orchestrator and activity invocations (shared hookData, replaced handler/result, errors), appTerminate on dispose.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { STORES, startFixture } from './support';

interface Seen {
  hook: string;
  functionName?: string;
  invocationId?: string;
  inputCount?: number;
  sameHookData?: boolean;
  error?: string | null;
  settingAtLoad?: string | null;
  tokenFromAppStart?: string | null;
}

describe.each(STORES)('hooks on the %s store', (storage) => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startFixture('hooks-app', storage, { env: { HOOKS_SETTING: 'from-env' } });
  });
  afterAll(async () => {
    await host?.dispose();
  });

  async function seen(): Promise<Seen[]> {
    const res = await host.fetch('/api/hooks');
    expect(res.status).toBe(200);
    return (await res.json()) as Seen[];
  }

  function around(records: Seen[], functionName: string): { pre: Seen[]; post: Seen[] } {
    return {
      pre: records.filter((r) => r.hook === 'preInvocation' && r.functionName === functionName),
      post: records.filter((r) => r.hook === 'postInvocation' && r.functionName === functionName),
    };
  }

  it('appStart ran once, before any invocation, after the app settings were set', async () => {
    const records = await seen();
    expect(records[0]).toEqual({ hook: 'appStart', settingAtLoad: 'from-env' });
    expect(records.filter((r) => r.hook === 'appStart')).toHaveLength(1);
  });

  it('pre- and postInvocation run around an HTTP invocation and share its hookData', async () => {
    const res = await host.fetch('/api/hello');
    expect(await res.text()).toBe('hi');
    const { pre, post } = around(await seen(), 'hello');
    expect(pre).toHaveLength(1);
    expect(post).toHaveLength(1);
    expect(pre[0]).toMatchObject({ inputCount: 1 });
    expect(pre[0].invocationId).toBeTruthy();
    expect(post[0]).toMatchObject({ invocationId: pre[0].invocationId, sameHookData: true, error: null });
  });

  it('preInvocation can replace the function handler', async () => {
    const res = await host.fetch('/api/wrapped');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('wrapped(original)');
  });

  it('postInvocation can replace the result', async () => {
    const res = await host.fetch('/api/altered');
    expect(res.status).toBe(201);
    expect(await res.text()).toBe('altered by postInvocation');
  });

  it('postInvocation sees the error of a throwing handler; the caller gets a 500 logged with the invocation id', async () => {
    const res = await host.fetch('/api/boom');
    expect(res.status).toBe(500);
    const { post } = around(await seen(), 'boom');
    expect(post).toHaveLength(1);
    expect(post[0].error).toBe('boom handler failed');
    const logged = host.logs.find((l) => l.invocationId === post[0].invocationId && /error/i.test(l.level));
    expect(logged, JSON.stringify(host.logs.slice(-5))).toBeDefined();
    expect(logged?.message).toContain('boom handler failed');
  });

  it('orchestrator and activity invocations go through the invocation hooks too', async () => {
    const id = await host.client().startNew('hookedOrchestration');
    const done = await host.waitFor(id);
    expect(done.output).toBe('hooked once');
    const records = await seen();
    const activity = around(records, 'hookedActivity');
    expect(activity.pre).toHaveLength(1);
    expect(activity.post).toHaveLength(1);
    expect(activity.post[0]).toMatchObject({ sameHookData: true, error: null });
    const orchestrator = around(records, 'hookedOrchestration');
    expect(orchestrator.pre.length).toBeGreaterThanOrEqual(2); // one per episode
    expect(orchestrator.post).toHaveLength(orchestrator.pre.length);
  });
});

describe.each(STORES)('appTerminate on the %s store', (storage) => {
  it('runs on dispose, with the hookData appStart left', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hooks-terminate-')), `${storage}.json`);
    const host = await startFixture('hooks-app', storage, { env: { HOOKS_SETTING: 'own', HOOKS_TERMINATE_FILE: file } });
    try {
      expect((await host.fetch('/api/hello')).status).toBe(200);
    } finally {
      await host.dispose();
    }
    try {
      const records = JSON.parse(fs.readFileSync(file, 'utf8')) as Seen[];
      expect(records[0]).toEqual({ hook: 'appStart', settingAtLoad: 'own' });
      expect(records.at(-1)).toEqual({ hook: 'appTerminate', tokenFromAppStart: 'set-by-appStart' });
      expect(records.filter((r) => r.hook === 'appTerminate')).toHaveLength(1);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });
});

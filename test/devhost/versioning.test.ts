// Orchestration versioning as DurableTask.Core applies it for the Durable extension (host.json defaultVersion,
// versionMatchStrategy, versionFailureStrategy; the settings come from AzureFunctionsJobHost__ app settings here,
// which override host.json as on Azure): the version an instance gets, context.df.version, sub-orchestrations and
// continue-as-new, and what a worker does with an instance whose version it may not run.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { compareVersions } from '../../devhost/durable/versioning';
import { MGMT, postJson, STORES, startFixture, statusViaHttp, uid } from './support';

const SETTING = 'AzureFunctionsJobHost__extensions__durableTask__';

/** Worker settings as app settings: { defaultVersion: '1.0', versionMatchStrategy: 'Strict' } and so on. */
function worker(settings: Record<string, string>, taskHub?: string): Record<string, string> {
  const env = Object.fromEntries(Object.entries(settings).map(([k, v]) => [SETTING + k, v]));
  return taskHub ? { ...env, [SETTING + 'hubName']: taskHub } : env;
}

interface VersionedClient {
  startNew(name: string, options: { instanceId?: string; input?: unknown; version?: string }): Promise<string>;
  raiseEvent(id: string, name: string, data: unknown): Promise<void>;
}

const hosts: TestHost[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.dispose()));
});

async function start(storage: (typeof STORES)[number], settings: Record<string, string>, taskHub?: string): Promise<TestHost> {
  const host = await startFixture('versioning-app', storage, { env: worker(settings, taskHub), taskHub });
  hosts.push(host);
  return host;
}

const client = (host: TestHost) => host.client() as unknown as VersionedClient;

describe.each(STORES)('orchestration versioning on the %s store', (storage) => {
  it('without defaultVersion an instance has version "", and any version runs', async () => {
    const host = await start(storage, {});
    const plain = await client(host).startNew('versioned', { instanceId: uid('plain') });
    const asked = await client(host).startNew('versioned', { instanceId: uid('asked'), version: '7.0' });
    for (const id of [plain, asked]) await client(host).raiseEvent(id, 'go', 1);
    expect((await host.waitFor(plain)).output).toEqual({ before: '', after: '', go: 1 });
    expect((await host.waitFor(asked)).output).toEqual({ before: '7.0', after: '7.0', go: 1 });
    expect((await statusViaHttp(host, plain)).body).not.toHaveProperty('version');
    expect((await statusViaHttp(host, asked)).body).toMatchObject({ version: '7.0' });
  });

  it('defaultVersion is the version of new instances and of sub-orchestrations started without one; continue-as-new keeps it', async () => {
    const host = await start(storage, { defaultVersion: '1.0' });
    const id = await client(host).startNew('versioned', { instanceId: uid('dflt') });
    await client(host).raiseEvent(id, 'go', 'x');
    expect((await host.waitFor(id)).output).toEqual({ before: '1.0', after: '1.0', go: 'x' });
    expect((await statusViaHttp(host, id)).body).toMatchObject({ version: '1.0', runtimeStatus: 'Completed' });

    const parent = await client(host).startNew('parent', { instanceId: uid('parent'), input: {} });
    expect((await host.waitFor(parent)).output).toEqual({ parent: '1.0', child: '1.0' });
    const older = await client(host).startNew('parent', { instanceId: uid('parent'), input: { childVersion: '0.5' } });
    expect((await host.waitFor(older)).output).toEqual({ parent: '1.0', child: '0.5' });

    const renewed = await client(host).startNew('renewed', { instanceId: uid('renewed'), version: '0.9' });
    expect((await host.waitFor(renewed)).output).toBe('0.9');
  });

  it('CurrentOrOlder + Reject (the defaults): a newer instance waits untouched and is tried again with back-off; older ones run', async () => {
    const host = await start(storage, { defaultVersion: '1.0' });
    const newer = await client(host).startNew('versioned', { instanceId: uid('newer'), version: '1.1' });
    const older = await client(host).startNew('versioned', { instanceId: uid('older'), version: '0.9' });
    await client(host).raiseEvent(older, 'go', 2);
    expect((await host.waitFor(older)).output).toEqual({ before: '0.9', after: '0.9', go: 2 });
    await host.idle();
    expect((await statusViaHttp(host, newer)).body).toMatchObject({ runtimeStatus: 'Pending', version: '1.1' });
    expect(host.logs.map((l) => l.message)).toContain(`Instance '${newer}' has version '1.1', which this worker does not run (worker version '1.0', CurrentOrOlder); its messages wait, next try in 2 s.`);
    await host.advance('2s');
    expect(host.logs.map((l) => l.message).some((m) => m.includes(`'${newer}'`) && m.includes('next try in 4 s'))).toBe(true);
    expect((await statusViaHttp(host, newer)).body.runtimeStatus).toBe('Pending');
  });

  it('a rejected instance does not draw an idle virtual clock forward (its retries are background timers)', async () => {
    const host = await startFixture('versioning-app', storage, { env: worker({ defaultVersion: '1.0' }), autoSkip: true });
    hosts.push(host);
    const t0 = host.now().getTime();
    const id = await client(host).startNew('versioned', { instanceId: uid('idle'), version: '9.0' });
    await host.idle();
    // The idle loop runs every few ms; before, each retry timer pulled the clock to it (2 s, 4 s, ... 10 min, forever).
    await new Promise((r) => setTimeout(r, 300));
    expect(host.now().getTime() - t0).toBeLessThan(10_000);
    expect((await statusViaHttp(host, id)).body.runtimeStatus).toBe('Pending');
    await host.advance('2s'); // explicit time still runs the retry
    expect(host.logs.some((l) => l.message.includes(`'${id}'`) && l.message.includes('next try in 4 s'))).toBe(true);
  });

  it('Strict + Fail: another version fails at once with VersionMismatch, which a parent sees as the child\'s error', async () => {
    const host = await start(storage, { defaultVersion: '1.0', versionMatchStrategy: 'strict', versionFailureStrategy: 'Fail' });
    const other = await client(host).startNew('versioned', { instanceId: uid('other'), version: '0.9' });
    const status = await host.waitFor(other);
    expect(status).toMatchObject({ runtimeStatus: 'Failed', output: 'VersionMismatch: Orchestration version did not comply with Worker Versioning' });
    const same = await client(host).startNew('versioned', { instanceId: uid('same') });
    await client(host).raiseEvent(same, 'go', 3);
    expect((await host.waitFor(same)).output).toEqual({ before: '1.0', after: '1.0', go: 3 });
    const parent = await client(host).startNew('parent', { instanceId: uid('parent'), input: { childVersion: '2.0' } });
    expect((await host.waitFor(parent)).output).toEqual({ parent: '1.0', childError: 'VersionMismatch: Orchestration version did not comply with Worker Versioning' });
  });

  it('a setting the host does not know stops the start, naming host.json and the key', async () => {
    await expect(start(storage, { versionMatchStrategy: 'Newest' })).rejects.toThrow('host.json extensions.durableTask.versionMatchStrategy is "Newest"; use one of None, Strict, CurrentOrOlder.');
    await expect(start(storage, { versionFailureStrategy: 'Retry' })).rejects.toThrow('host.json extensions.durableTask.versionFailureStrategy is "Retry"; use one of Reject, Fail.');
  });

  it('a version longer than 256 characters is refused at start with a 400', async () => {
    const host = await start(storage, {});
    const res = await postJson(host, `${MGMT}/orchestrators/versioned?version=${'9'.repeat(257)}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe('The version is 257 characters long; the limit is 256.');
  });
});

describe('upgrading the worker while instances wait (table store: the instances outlive the host)', () => {
  it('an instance started under 1.0 waits out a Strict 2.0 worker and finishes under a CurrentOrOlder one', async () => {
    const hub = `Upgrade${uid('h').replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 40);
    const v1 = await start('table', { defaultVersion: '1.0' }, hub);
    const id = await client(v1).startNew('versioned', { instanceId: uid('upgrade') });
    await v1.idle();
    await v1.dispose();
    hosts.splice(hosts.indexOf(v1), 1);

    const strict = await start('table', { defaultVersion: '2.0', versionMatchStrategy: 'Strict' }, hub);
    await client(strict).raiseEvent(id, 'go', 'while 2.0 is strict');
    await strict.idle();
    expect((await statusViaHttp(strict, id)).body).toMatchObject({ runtimeStatus: 'Running', version: '1.0' });
    await strict.dispose();
    hosts.splice(hosts.indexOf(strict), 1);

    const lenient = await start('table', { defaultVersion: '2.0' }, hub);
    expect((await lenient.waitFor(id)).output).toEqual({ before: '1.0', after: '1.0', go: 'while 2.0 is strict' });
  });
});

describe('compareVersions (DTFx VersioningSettings.CompareVersions)', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.9', '1.10', -1],
    ['1.0', '1.0.0', -1],
    ['2.0.0.1', '2.0.0', 1],
    ['', '1.0', -1],
    ['1.0', ' ', 1],
    ['', '', 0],
    ['10', '9', -1],
    ['beta', 'BETA', 0],
    ['1.0', 'alpha', -1],
  ])('%j vs %j is %d', (a, b, expected) => {
    expect(Math.sign(compareVersions(a, b))).toBe(expected);
  });
});

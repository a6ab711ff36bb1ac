// Durable entities on the devhost, both stores: a function-based counter and a class-based account (the JavaScript
// SDK's two ways to write one), operations one at a time, calls and signals from orchestrations, clients and other
// entities, an operation that throws, a critical section over two entities, the entities HTTP API, and purge.
import * as df from 'durable-functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { expectHostError, MGMT, STORES, startFixture, statusViaHttp, uid } from './support';

interface EntityClient {
  signalEntity(id: df.EntityId, op: string, input?: unknown): Promise<void>;
  readEntityState<T>(id: df.EntityId): Promise<{ entityExists: boolean; entityState?: T }>;
  startNew(name: string, options: { instanceId?: string; input?: unknown }): Promise<string>;
  raiseEvent(id: string, name: string, data: unknown): Promise<void>;
  purgeInstanceHistory(id: string): Promise<{ instancesDeleted: number }>;
}

describe.each(STORES)('entities on the %s store', (storage) => {
  let host: TestHost;
  let client: EntityClient;
  beforeAll(async () => {
    host = await startFixture('entities-app', storage);
    client = host.client() as unknown as EntityClient;
  });
  afterAll(async () => {
    await host?.dispose();
  });

  const counter = (key: string) => new df.EntityId('Counter', key);
  const account = (key: string) => new df.EntityId('Account', key);
  async function state<T>(id: df.EntityId): Promise<{ entityExists: boolean; entityState?: T }> {
    await host.idle();
    return client.readEntityState<T>(id);
  }
  async function run(name: string, input: unknown): Promise<unknown> {
    const id = await client.startNew(name, { instanceId: uid(name), input });
    const s = await host.waitFor(id);
    expect(s.runtimeStatus, JSON.stringify(s)).toBe('Completed');
    return s.output;
  }

  it('a function-based counter takes client signals one at a time, and a never-signalled one does not exist', async () => {
    const key = uid('c');
    await Promise.all(Array.from({ length: 40 }, (_, i) => client.signalEntity(counter(key), 'add', i + 1)));
    expect(await state(counter(key))).toEqual({ entityExists: true, entityState: 820 });
    expect(await state(counter(uid('never')))).toEqual({ entityExists: false });
  });

  it('an orchestration signals and then calls: the call sees every earlier signal (one sender, in order)', async () => {
    expect(await run('countTo', { key: uid('o'), n: 4 })).toBe(10);
  });

  it('an operation that throws: the caller gets the error; the state keeps what the operation set (no rollback for JavaScript, as on Azure)', async () => {
    const key = uid('f');
    await client.signalEntity(counter(key), 'add', 1);
    expect(await run('callFailing', key)).toEqual({ error: 'addThenFail refused', after: 6 });
  });

  it('a class-based account: methods as operations, over the HTTP API (POST ?op=, GET the state)', async () => {
    const key = uid('a');
    for (const amount of [10, 5]) {
      const res = await host.fetch(`${MGMT}/entities/account/${key}?op=deposit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(amount) });
      expect(res.status).toBe(202);
    }
    await host.idle();
    const res = await host.fetch(`${MGMT}/entities/Account/${key}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ balance: 15 });
    expect(await run('depositOnce', { key, amount: 1 })).toBe(16);
  });

  it('a transfer inside a critical section over two accounts', async () => {
    const [from, to] = [uid('from'), uid('to')];
    await client.signalEntity(account(from), 'deposit', 100);
    expect(await run('transfer', { from, to, amount: 30 })).toEqual({ moved: true, inside: true, after: false });
    expect((await state(account(from))).entityState).toEqual({ balance: 70 });
    expect((await state(account(to))).entityState).toEqual({ balance: 30 });
  });

  it('while a critical section holds an entity, calls and signals from others wait until it is released', async () => {
    const key = uid('held');
    const holder = await client.startNew('holdAccount', { instanceId: uid('hold'), input: key });
    await host.idle();
    expect((await statusViaHttp(host, `@account@${key}`)).body.customStatus).toEqual({ lockedBy: holder });
    const waiter = await client.startNew('depositOnce', { instanceId: uid('wait'), input: { key, amount: 7 } });
    await client.signalEntity(account(key), 'deposit', 3);
    await host.idle();
    expect((await statusViaHttp(host, waiter)).body.runtimeStatus).toBe('Running');
    expect(await state(account(key))).toEqual({ entityExists: false });
    await client.raiseEvent(holder, 'done', null);
    expect((await host.waitFor(holder)).output).toBe('released');
    expect((await host.waitFor(waiter)).output).toBe(10);
  });

  it('an entity signals another; names are case-insensitive, keys are not', async () => {
    const [a, b] = [uid('r'), uid('key')]; // b holds lower-case letters, so b.toUpperCase() is another key
    await client.signalEntity(counter(a), 'add', 7);
    await client.signalEntity(counter(a), 'relay', b);
    expect((await state(counter(b))).entityState).toBe(7);
    expect((await state(new df.EntityId('COUNTER', b))).entityState).toBe(7);
    expect((await state(counter(b.toUpperCase()))).entityExists).toBe(false);
  });

  it('a signal to an entity function that does not exist fails the orchestration, naming it', async () => {
    const id = await client.startNew('signalUnknown', { instanceId: uid('unknown') });
    const s = await host.waitFor(id);
    expect(s.runtimeStatus).toBe('Failed');
    expect(String(s.output)).toContain("The function 'nobody' doesn't exist, is disabled, or is not an entity function.");
  });

  it('DELETE (operation "delete" with destructOnExit) removes the state; purge removes the instance', async () => {
    const key = uid('d');
    await client.signalEntity(counter(key), 'add', 2);
    await host.idle();
    const listed = (await statusViaHttp(host, `@counter@${key}`)).body;
    expect(listed).toMatchObject({ name: `@counter@${key}`, runtimeStatus: 'Running', customStatus: { entityExists: true } });
    expect((await host.fetch(`${MGMT}/entities/counter/${key}`, { method: 'DELETE' })).status).toBe(202);
    expect(await state(counter(key))).toEqual({ entityExists: false });
    await client.signalEntity(counter(key), 'add', 4);
    expect((await state(counter(key))).entityState).toBe(4);
    expect(await client.purgeInstanceHistory(`@counter@${key}`)).toMatchObject({ instancesDeleted: 1 });
    expect(await state(counter(key))).toEqual({ entityExists: false });
  });

  it('lists entities with state, by name, a page at a time', async () => {
    const prefix = uid('list');
    for (const k of ['1', '2', '3']) await client.signalEntity(new df.EntityId('Account', `${prefix}${k}`), 'deposit', Number(k));
    await host.idle();
    const first = await host.fetch(`${MGMT}/entities/account?fetchState=true&top=2`);
    expect(first.status).toBe(200);
    const all: { entityId: { name: string; key: string }; state: unknown }[] = await first.json();
    let token = first.headers.get('x-ms-continuation-token');
    while (token) {
      const next = await host.fetch(`${MGMT}/entities/account?fetchState=true&top=2`, { headers: { 'x-ms-continuation-token': token } });
      all.push(...(await next.json()));
      token = next.headers.get('x-ms-continuation-token');
    }
    const mine = all.filter((e) => e.entityId.key.startsWith(prefix));
    expect(mine.map((e) => [e.entityId, e.state])).toEqual([1, 2, 3].map((n) => [{ name: 'account', key: `${prefix}${n}` }, { balance: n }]));
  });

  it('bad requests are clear 400/404 JSON errors', async () => {
    await expectHostError(await host.fetch(`${MGMT}/entities/nobody/x?op=add`, { method: 'POST' }), 400, ["The function 'nobody' doesn't exist"]);
    await expectHostError(await host.fetch(`${MGMT}/entities/counter/a%23b?op=add`, { method: 'POST' }), 400, ["contains '#'"]);
    await expectHostError(await host.fetch(`${MGMT}/entities/counter/x?op=add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' }), 400, ['Could not parse JSON content']);
    await expectHostError(await host.fetch(`${MGMT}/entities/counter/${uid('none')}`), 404, ['does not exist']);
    await expectHostError(await host.fetch(`${MGMT}/entities/counter?top=0`), 400, ['top']);
    await expectHostError(await host.fetch(`${MGMT}/entities/counter?top=2`, { headers: { 'x-ms-continuation-token': 'bogus' } }), 400, ['continuation']);
    await expectHostError(await host.fetch(`${MGMT}/instances/@counter@x/raiseEvent/e`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '1' }), 400, ['is an entity']);
  });
});

describe('entities across a restart (table store)', () => {
  it('state, a held lock and the waiting call survive; the release after the restart lets the call finish', async () => {
    const hub = `Ent${uid('h').replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 40);
    const key = uid('acct');
    let host = await startFixture('entities-app', 'table', { taskHub: hub });
    let client = host.client() as unknown as EntityClient;
    await client.signalEntity(new df.EntityId('Account', key), 'deposit', 5);
    const holder = await client.startNew('holdAccount', { instanceId: uid('hold'), input: key });
    await host.idle();
    const waiter = await client.startNew('depositOnce', { instanceId: uid('wait'), input: { key, amount: 1 } });
    await host.idle();
    await host.dispose();

    host = await startFixture('entities-app', 'table', { taskHub: hub });
    try {
      client = host.client() as unknown as EntityClient;
      expect((await statusViaHttp(host, waiter)).body.runtimeStatus).toBe('Running');
      await client.raiseEvent(holder, 'done', null);
      expect((await host.waitFor(waiter)).output).toBe(6);
      expect(await client.readEntityState(new df.EntityId('Account', key))).toEqual({ entityExists: true, entityState: { balance: 6 } });
    } finally {
      await host.dispose();
    }
  });
});

describe('replay schema V3 (DEVHOST_REPLAY_SCHEMA=V3, as extensions before 3.13)', () => {
  it('context.df.lock() throws the SDK\'s own "requires ... schema V4" error, as on such an extension', async () => {
    const host = await startFixture('entities-app', 'memory', { env: { DEVHOST_REPLAY_SCHEMA: 'V3' } });
    try {
      const client = host.client() as unknown as EntityClient;
      const id = await client.startNew('transfer', { instanceId: uid('v3'), input: { from: 'a', to: 'b', amount: 1 } });
      const s = await host.waitFor(id);
      expect(s.runtimeStatus).toBe('Failed');
      expect(String(s.output)).toContain('lock requires a Durable Functions extension that supports OOProc schema V4 or higher (this extension supports up to V3)');
    } finally {
      await host.dispose();
    }
    await expect(startFixture('entities-app', 'memory', { env: { DEVHOST_REPLAY_SCHEMA: 'V5' } })).rejects.toThrow("DEVHOST_REPLAY_SCHEMA is 'V5'");
  });
});

// The Store contract (devhost/store/types.ts): the same scenarios against MemoryStore and TableStore (on the
// run's Azurite, a fresh task hub per test), then what only the table store has (limits, restart, raw rows).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { odata, TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../devhost/store/memory';
import { resolveConnectionString, TableStore } from '../../devhost/store/table';
import type { HistoryEvent, InboxMessage, InstanceMeta, Store } from '../../devhost/store/types';
import { azuriteConnectionString } from '../support/azurite';

/** Task hub names: letters and digits, unique per test and per run. */
function hub(): string {
  return `C${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

const opened: Store[] = [];
function tableStore(taskHub = hub()): TableStore {
  const s = new TableStore({ connectionString: azuriteConnectionString(), taskHub });
  opened.push(s);
  return s;
}

interface Subject {
  name: 'memory' | 'table' | 'table with the lease';
  open(): Promise<Store>;
}
const SUBJECTS: Subject[] = [
  { name: 'memory', open: async () => new MemoryStore() },
  {
    name: 'table',
    open: async () => {
      const s = tableStore();
      await s.init();
      return s;
    },
  },
  {
    // The host's case: the one writer of its hub, so the index is kept in memory and listings read it there.
    name: 'table with the lease',
    open: async () => {
      const s = tableStore();
      await s.init();
      await s.acquireLease();
      expect(await s.indexLoaded()).toBe(true);
      return s;
    },
  },
];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const T0 = '2024-05-01T10:00:00.000Z';

function meta(instanceId: string, over: Partial<InstanceMeta> = {}): InstanceMeta {
  return {
    instanceId,
    name: 'Hello',
    executionId: 'e1',
    status: 'Pending',
    input: JSON.stringify({ city: 'Tokyo' }),
    output: null,
    customStatus: null,
    createdTime: T0,
    lastUpdatedTime: T0,
    parent: null,
    engine: { nextId: 0, timers: {} },
    ...over,
  };
}

function ev(EventType: number, EventId: number, extra: Record<string, unknown> = {}): HistoryEvent {
  return { EventType, EventId, Timestamp: T0, ...extra };
}

function msg(id: string, event: HistoryEvent = ev(0, -1, { Name: 'Hello' }), executionId = 'e1'): InboxMessage {
  return { id, event, executionId };
}

/** Message ids sort like the engine's: fixed width. */
function mid(n: number): string {
  return String(n).padStart(6, '0');
}

describe.each(SUBJECTS)('store contract: $name', (subject) => {
  it('create then load returns the meta, an empty history and the first message; missing ids load as undefined', async () => {
    const s = await subject.open();
    const m = meta('round-trip', { parent: { instanceId: 'p', executionId: 'pe', taskId: 3 }, customStatus: '"hi"', engine: { deep: [1, { a: null }] } });
    await s.create(m, msg(mid(0)));
    expect(await s.load('round-trip')).toEqual({ meta: m, history: [], actions: [], inbox: [msg(mid(0))] });
    expect(await s.getMeta('round-trip')).toEqual(m);
    expect(await s.load('nobody')).toBeUndefined();
    expect(await s.getMeta('nobody')).toBeUndefined();
  });

  it('create of an existing id fails with StoreConflict and changes nothing', async () => {
    const s = await subject.open();
    await s.create(meta('dup'), msg(mid(0)));
    const err = await s.create(meta('dup', { name: 'Other' }), msg(mid(1))).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'StoreConflict', name: 'StoreConflictError' });
    expect((err as Error).message).toContain("'dup'");
    expect(await s.load('dup')).toMatchObject({ meta: { name: 'Hello' }, inbox: [msg(mid(0))] });
  });

  it('the inbox comes back in id order whatever the enqueue order, also when enqueued concurrently', async () => {
    const s = await subject.open();
    await s.create(meta('order'), msg(mid(0)));
    for (const n of [3, 1, 2]) await s.enqueue('order', msg(mid(n), ev(6, -1, { Name: `e${n}` })));
    await Promise.all([9, 7, 8, 5, 6, 4].map((n) => s.enqueue('order', msg(mid(n)))));
    const loaded = await s.load('order');
    expect(loaded!.inbox.map((x) => x.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(mid));
    expect(loaded!.inbox[2]).toEqual(msg(mid(2), ev(6, -1, { Name: 'e2' })));
  });

  it('a message to a missing instance is dropped and creates nothing', async () => {
    const s = await subject.open();
    await s.enqueue('ghost', msg(mid(5)));
    expect(await s.load('ghost')).toBeUndefined();
    expect(await s.list()).toEqual([]);
    await s.create(meta('ghost'), msg(mid(1)));
    expect((await s.load('ghost'))!.inbox).toEqual([msg(mid(1))]);
  });

  it('a commit is seen whole: new meta, appended events and consumed messages together', async () => {
    const s = await subject.open();
    await s.create(meta('atomic'), msg(mid(0)));
    await s.enqueue('atomic', msg(mid(1)));
    const running = meta('atomic', { status: 'Running', lastUpdatedTime: '2024-05-01T10:00:01.000Z', engine: { nextId: 2 } });
    const first = [ev(12, -1), ev(0, -1, { Name: 'Hello', Input: '"x"' }), ev(4, 0, { Name: 'SayHello' })];
    await s.commit('atomic', { meta: running, append: first, consumed: [mid(0)] });
    expect(await s.load('atomic')).toEqual({ meta: running, history: first, actions: [], inbox: [msg(mid(1))] });

    const done = { ...running, status: 'Completed' as const, output: '"Hello Tokyo!"' };
    const second = [ev(12, -1), ev(5, -1, { TaskScheduledId: 0, Result: '"Hello Tokyo!"' }), ev(1, 1, { Result: '"Hello Tokyo!"' })];
    await s.commit('atomic', { meta: done, append: second, consumed: [mid(1)] });
    expect(await s.load('atomic')).toEqual({ meta: done, history: [...first, ...second], actions: [], inbox: [] });
    expect(await s.getMeta('atomic')).toEqual(done);
  });

  it('a commit with nothing appended only replaces the meta and consumes', async () => {
    const s = await subject.open();
    await s.create(meta('quiet'), msg(mid(0)));
    await s.commit('quiet', { meta: meta('quiet', { status: 'Running' }), append: [ev(12, -1)], consumed: [] });
    await s.commit('quiet', { meta: meta('quiet', { status: 'Suspended' }), append: [], consumed: [mid(0)] });
    expect(await s.load('quiet')).toEqual({ meta: meta('quiet', { status: 'Suspended' }), history: [ev(12, -1)], actions: [], inbox: [] });
  });

  it('consuming a message that is already gone is a no-op', async () => {
    const s = await subject.open();
    await s.create(meta('gone'), msg(mid(0)));
    await s.commit('gone', { meta: meta('gone', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0), 'never-enqueued', mid(0)] });
    expect(await s.load('gone')).toEqual({ meta: meta('gone', { status: 'Running' }), history: [ev(12, -1)], actions: [], inbox: [] });
  });

  it('a commit consuming more messages than one transaction holds hides all of them', async () => {
    const s = await subject.open();
    await s.create(meta('flood'), msg(mid(0)));
    for (let i = 1; i <= 150; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => s.enqueue('flood', msg(mid(i + k)))));
    const consumed = Array.from({ length: 140 }, (_, i) => mid(i));
    await s.commit('flood', { meta: meta('flood', { status: 'Running' }), append: [ev(12, -1)], consumed });
    const loaded = await s.load('flood');
    expect(loaded!.inbox.map((x) => x.id)).toEqual(Array.from({ length: 11 }, (_, i) => mid(140 + i)));
    await s.commit('flood', { meta: meta('flood', { status: 'Running', lastUpdatedTime: 'later' }), append: [ev(12, -1)], consumed: [mid(140)] });
    expect((await s.load('flood'))!.inbox).toHaveLength(10);
  });

  it('a commit to a purged instance writes nothing', async () => {
    const s = await subject.open();
    await s.create(meta('late'), msg(mid(0)));
    await s.load('late');
    await s.purge('late');
    await s.commit('late', { meta: meta('late', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    expect(await s.load('late')).toBeUndefined();
    expect(await s.list()).toEqual([]);
  });

  it('continue-as-new: only the new execution history loads, and it grows from there', async () => {
    const s = await subject.open();
    await s.create(meta('can'), msg(mid(0)));
    const old = [ev(12, -1), ev(0, -1, { Name: 'Hello' }), ev(10, 0, { FireAt: T0 })];
    await s.commit('can', { meta: meta('can', { status: 'Running' }), append: old, consumed: [mid(0)] });
    await s.commit('can', { meta: meta('can', { status: 'Running' }), append: [ev(11, -1, { TimerId: 0 })], consumed: [] });
    const e2 = meta('can', { executionId: 'e2', status: 'ContinuedAsNew', input: '2' });
    await s.commit('can', { meta: e2, append: [], consumed: [], dropExecution: 'e1' });
    expect(await s.load('can')).toEqual({ meta: e2, history: [], actions: [], inbox: [] });
    const fresh = [ev(12, -1), ev(0, -1, { Name: 'Hello', Input: '2' })];
    await s.enqueue('can', msg(mid(1), ev(0, -1), 'e2'));
    await s.commit('can', { meta: { ...e2, status: 'Running' }, append: fresh, consumed: [mid(1)] });
    await s.commit('can', { meta: { ...e2, status: 'Running' }, append: [ev(4, 0)], consumed: [] });
    expect(await s.load('can')).toEqual({ meta: { ...e2, status: 'Running' }, history: [...fresh, ev(4, 0)], actions: [], inbox: [] });
  });

  it('continue-as-new in the same commit that appends the new execution history', async () => {
    const s = await subject.open();
    await s.create(meta('can2'), msg(mid(0)));
    await s.commit('can2', { meta: meta('can2', { status: 'Running' }), append: [ev(12, -1), ev(0, -1)], consumed: [mid(0)] });
    const e2 = meta('can2', { executionId: 'e2', status: 'Running' });
    await s.commit('can2', { meta: e2, append: [ev(0, -1, { Input: 'next' })], consumed: [], dropExecution: 'e1' });
    expect(await s.load('can2')).toEqual({ meta: e2, history: [ev(0, -1, { Input: 'next' })], actions: [], inbox: [] });
  });

  it('action signatures are appended beside the history and dropped with it at continue-as-new', async () => {
    const s = await subject.open();
    await s.create(meta('acts'), msg(mid(0)));
    await s.commit('acts', { meta: meta('acts', { status: 'Running' }), append: [ev(12, -1), ev(0, -1)], actions: ["CallActivity 'A'", 'CreateTimer'], consumed: [mid(0)] });
    await s.commit('acts', { meta: meta('acts', { status: 'Running' }), append: [ev(12, -1), ev(11, -1)], actions: ["CallActivity 'B'"], consumed: [] });
    await s.commit('acts', { meta: meta('acts', { status: 'Running' }), append: [ev(12, -1)], consumed: [] });
    expect((await s.load('acts'))?.actions).toEqual(["CallActivity 'A'", 'CreateTimer', "CallActivity 'B'"]);
    const e2 = meta('acts', { executionId: 'e2', status: 'Running' });
    await s.commit('acts', { meta: e2, append: [ev(0, -1)], actions: ['WaitForExternalEvent'], consumed: [], dropExecution: 'e1' });
    expect((await s.load('acts'))?.actions).toEqual(['WaitForExternalEvent']);
  });

  it('replaceHistory (rewind): the events and actions become the whole history, and later commits append to it', async () => {
    const s = await subject.open();
    await s.create(meta('rw'), msg(mid(0)));
    await s.commit('rw', { meta: meta('rw', { status: 'Running' }), append: [ev(12, -1), ev(0, -1), ev(4, 0, { Name: 'A' })], actions: ["CallActivity 'A'"], consumed: [mid(0)] });
    await s.commit('rw', { meta: meta('rw', { status: 'Failed' }), append: [ev(12, -1), ev(6, -1, { TaskScheduledId: 0 }), ev(1, -1)], consumed: [] });
    const rewound = [ev(12, -1), ev(0, -1), ev(17, 0), ev(12, -1), ev(17, -1), ev(17, -1), ev(4, 0, { Name: 'A' })];
    await s.enqueue('rw', msg(mid(1)));
    await s.commit('rw', { meta: meta('rw', { status: 'Pending' }), append: rewound, actions: ["CallActivity 'A'"], consumed: [], replaceHistory: true });
    expect(await s.load('rw')).toEqual({ meta: meta('rw', { status: 'Pending' }), history: rewound, actions: ["CallActivity 'A'"], inbox: [msg(mid(1))] });
    await s.commit('rw', { meta: meta('rw', { status: 'Completed' }), append: [ev(5, -1, { TaskScheduledId: 0 })], actions: ['CreateTimer'], consumed: [mid(1)] });
    expect(await s.load('rw')).toEqual({ meta: meta('rw', { status: 'Completed' }), history: [...rewound, ev(5, -1, { TaskScheduledId: 0 })], actions: ["CallActivity 'A'", 'CreateTimer'], inbox: [] });
    // A continue-as-new after a rewind starts the new execution's history from nothing.
    await s.commit('rw', { meta: meta('rw', { executionId: 'e2', status: 'Running' }), append: [ev(0, -1)], consumed: [], dropExecution: 'e1' });
    expect((await s.load('rw'))?.history).toEqual([ev(0, -1)]);
  });

  it('a 200 KB event (with non-ASCII text and emoji) round-trips intact', async () => {
    const s = await subject.open();
    await s.create(meta('big'), msg(mid(0)));
    // Odd widths so that property boundaries fall inside surrogate pairs and multi-byte characters.
    const payload = ('x😀é'.repeat(7) + 'abc').repeat(200_000 / 24);
    const big = ev(5, -1, { TaskScheduledId: 0, Result: payload });
    await s.commit('big', { meta: meta('big', { status: 'Running', customStatus: JSON.stringify('😀'.repeat(20_000)) }), append: [big], consumed: [mid(0)] });
    await s.enqueue('big', msg(mid(1), ev(6, -1, { Name: 'blob', Input: payload })));
    const loaded = await s.load('big');
    expect(loaded!.history[0]!.Result).toBe(payload);
    expect(loaded!.inbox[0]!.event.Input).toBe(payload);
    expect(loaded!.meta.customStatus).toBe(JSON.stringify('😀'.repeat(20_000)));
  });

  it('list: all, by runtime status, by created time range, by id prefix, and combined', async () => {
    const s = await subject.open();
    const specs: Array<[string, InstanceMeta['status'], string]> = [
      ['order-1', 'Running', '2024-05-01T10:00:00.000Z'],
      ['order-2', 'Completed', '2024-05-02T10:00:00.000Z'],
      ['order-10', 'Failed', '2024-05-03T10:00:00.000Z'],
      ['user:ann', 'Running', '2024-05-04T10:00:00.000Z'],
      ['ünï-1', 'Suspended', '2024-05-05T10:00:00.000Z'],
      ['ünï-2', 'Pending', '2024-05-06T10:00:00.000Z'],
    ];
    for (const [id, status, createdTime] of specs) await s.create(meta(id, { status, createdTime }), msg(mid(0)));
    const ids = async (q: Parameters<Store['list']>[0]): Promise<string[]> => (await s.list(q)).map((m) => m.instanceId).sort();
    const all = specs.map(([id]) => id).sort();
    expect(await ids(undefined)).toEqual(all);
    expect(await ids({})).toEqual(all);
    expect(await ids({ runtimeStatus: [] })).toEqual(all);
    expect(await ids({ runtimeStatus: ['Running'] })).toEqual(['order-1', 'user:ann']);
    expect(await ids({ runtimeStatus: ['Completed', 'Failed', 'Terminated'] })).toEqual(['order-10', 'order-2']);
    expect(await ids({ createdTimeFrom: '2024-05-03T10:00:00.000Z' })).toEqual(['order-10', 'user:ann', 'ünï-1', 'ünï-2']);
    expect(await ids({ createdTimeTo: '2024-05-02T10:00:00.000Z' })).toEqual(['order-1', 'order-2']);
    expect(await ids({ createdTimeFrom: '2024-05-02T00:00:00.000Z', createdTimeTo: '2024-05-04T00:00:00.000Z' })).toEqual(['order-10', 'order-2']);
    expect(await ids({ instanceIdPrefix: 'order-1' })).toEqual(['order-1', 'order-10']);
    expect(await ids({ instanceIdPrefix: 'user:' })).toEqual(['user:ann']);
    expect(await ids({ instanceIdPrefix: 'ünï' })).toEqual(['ünï-1', 'ünï-2']);
    expect(await ids({ instanceIdPrefix: 'nothing' })).toEqual([]);
    expect(await ids({ instanceIdPrefix: 'order', runtimeStatus: ['Running', 'Failed'], createdTimeFrom: '2024-05-02T00:00:00.000Z' })).toEqual(['order-10']);
    const listed = await s.list({ instanceIdPrefix: 'order-2' });
    expect(listed).toEqual([meta('order-2', { status: 'Completed', createdTime: '2024-05-02T10:00:00.000Z' })]);
  });

  it('purge deletes everything of the instance and says whether it existed', async () => {
    const s = await subject.open();
    await s.create(meta('p1'), msg(mid(0)));
    await s.create(meta('p2'), msg(mid(0)));
    for (let i = 1; i <= 120; i++) await s.commit('p1', { meta: meta('p1', { status: 'Running' }), append: [ev(12, -1), ev(4, i)], consumed: [] });
    for (let i = 1; i <= 5; i++) await s.enqueue('p1', msg(mid(i)));
    expect(await s.purge('p1')).toBe(true);
    expect(await s.load('p1')).toBeUndefined();
    expect(await s.getMeta('p1')).toBeUndefined();
    expect((await s.list()).map((m) => m.instanceId)).toEqual(['p2']);
    expect(await s.purge('p1')).toBe(false);
    expect(await s.purge('never')).toBe(false);
    await s.create(meta('p1', { name: 'Again' }), msg(mid(7)));
    expect(await s.load('p1')).toEqual({ meta: meta('p1', { name: 'Again' }), history: [], actions: [], inbox: [msg(mid(7))] });
  });

  it('recreate replaces a finished instance: new meta, no old history, only the new first message', async () => {
    const s = await subject.open();
    await s.create(meta('again'), msg(mid(0)));
    await s.commit('again', { meta: meta('again', { status: 'Completed', output: '1' }), append: [ev(12, -1), ev(1, 0)], consumed: [mid(0)] });
    await s.enqueue('again', msg(mid(1)));
    const second = meta('again', { executionId: 'e9', createdTime: '2024-06-01T00:00:00.000Z', input: '"second"' });
    await s.recreate(second, msg(mid(2), ev(0, -1), 'e9'));
    expect(await s.load('again')).toEqual({ meta: second, history: [], actions: [], inbox: [msg(mid(2), ev(0, -1), 'e9')] });
    await s.commit('again', { meta: { ...second, status: 'Running' }, append: [ev(12, -1)], consumed: [mid(2)] });
    expect((await s.load('again'))!.history).toEqual([ev(12, -1)]);
    await s.recreate(meta('fresh-id'), msg(mid(0)));
    expect((await s.load('fresh-id'))!.inbox).toEqual([msg(mid(0))]);
  });

  it('listPage: instance-id order, pages of `top`, `next` until the last page, filters applied on every page', async () => {
    const s = await subject.open();
    const ids = ['b-3', 'a-1', 'c-1', 'a-2', 'b-1', 'ünï', 'a-10', 'b-2'];
    for (const [n, id] of ids.entries()) await s.create(meta(id, { status: n % 2 ? 'Completed' : 'Running' }), msg(mid(0)));
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const page = await s.listPage({}, { top: 3, after });
      pages.push(page.items.map((m) => m.instanceId));
      after = page.next;
    } while (after !== undefined);
    expect(pages).toEqual([['a-1', 'a-10', 'a-2'], ['b-1', 'b-2', 'b-3'], ['c-1', 'ünï']]);
    const running = await s.listPage({ runtimeStatus: ['Running'] }, { top: 100 });
    expect(running).toEqual({ items: ['a-10', 'b-1', 'b-3', 'c-1'].map((id) => expect.objectContaining({ instanceId: id, status: 'Running' })), next: undefined });
    expect((await s.listPage({ instanceIdPrefix: 'a-1' }, { top: 1 })).items.map((m) => m.instanceId)).toEqual(['a-1']);
    expect((await s.list({ instanceIdPrefix: 'b' })).map((m) => m.instanceId)).toEqual(['b-1', 'b-2', 'b-3']);
  });

  it('activePage: only unfinished instances, in id order, a page at a time; one with a message waiting is never idle', async () => {
    const s = await subject.open();
    const specs: Array<[string, InstanceMeta['status']]> = [['w1', 'Running'], ['w2', 'Completed'], ['w3', 'Pending'], ['w4', 'Suspended'], ['w5', 'Failed'], ['w6', 'ContinuedAsNew'], ['w7', 'Terminated']];
    for (const [id, status] of specs) {
      await s.create(meta(id), msg(mid(0)));
      // A message is still waiting (mid(0) is not consumed): whatever the engine says, recovery must load it at once.
      await s.commit(id, { meta: meta(id, { status }), append: [ev(12, -1)], consumed: [], idleUntil: Infinity });
    }
    const first = await s.activePage({ top: 2 });
    expect(first.items).toEqual([{ instanceId: 'w1' }, { instanceId: 'w3' }]);
    const rest = await s.activePage({ top: 10, after: first.next });
    expect(rest.items).toEqual([{ instanceId: 'w4' }, { instanceId: 'w6' }]);
    expect(rest.next).toBeUndefined();
  });

  it('an id no store could have stored reads as absent', async () => {
    const s = await subject.open();
    for (const id of ['a\\b', 'a/b', 'q?', 'h#', 'tab\t', '']) {
      expect(await s.load(id)).toBeUndefined();
      expect(await s.getMeta(id)).toBeUndefined();
      await s.enqueue(id, msg(mid(1)));
      await s.commit(id, { meta: meta(id, { status: 'Running' }), append: [ev(12, -1)], consumed: [] });
      expect(await s.purge(id)).toBe(false);
    }
    expect(await s.list()).toEqual([]);
  });

  it('instance ids with odd but legal characters work everywhere', async () => {
    const s = await subject.open();
    const odd = ['with space', "it's", "''", '100%', '%25', 'a&b=c', 'x:y:z', 'ünïcødé 日本 😀', 'a+b;c,d', '(paren)[x]{y}*!~', '"quoted"', '.', ' '];
    for (const id of odd) {
      await s.create(meta(id), msg(mid(0)));
      await s.enqueue(id, msg(mid(1)));
      await s.commit(id, { meta: meta(id, { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    }
    for (const id of odd) {
      expect(await s.load(id)).toEqual({ meta: meta(id, { status: 'Running' }), history: [ev(12, -1)], actions: [], inbox: [msg(mid(1))] });
      expect(await s.getMeta(id)).toEqual(meta(id, { status: 'Running' }));
      expect((await s.list({ instanceIdPrefix: id })).map((m) => m.instanceId)).toContain(id);
    }
    expect((await s.list()).map((m) => m.instanceId).sort()).toEqual([...odd].sort());
    for (const id of odd) expect(await s.purge(id)).toBe(true);
    expect(await s.list()).toEqual([]);
  });
});

/**
 * An HTTP proxy in front of Azurite's table port that breaks the next transaction ($batch) as told:
 * answer 503 without forwarding, reset the connection before forwarding, or forward and then reset
 * (the write went through but the client never hears of it).
 */
interface FaultyProxy {
  port: number;
  /** What happens to the next transaction. */
  next?: '503' | 'reset-before' | 'reset-after';
  faults: number;
  /** Holds back the answer of the next query (GET) until `release` is called; `arrived` resolves once the service answered. */
  holdNextQuery(): { arrived: Promise<void>; release(): void };
  close(): Promise<void>;
}

async function faultyProxy(targetPort: string): Promise<FaultyProxy> {
  let hold: { onArrived(): void; released: Promise<void> } | undefined;
  const state: FaultyProxy = {
    port: 0,
    faults: 0,
    holdNextQuery: () => {
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const arrived = new Promise<void>((onArrived) => (hold = { onArrived, released }));
      return { arrived, release };
    },
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const held = req.method === 'GET' ? hold : undefined;
    if (held) hold = undefined;
    const fault = req.url?.includes('$batch') ? state.next : undefined;
    if (fault) {
      state.next = undefined;
      state.faults++;
    }
    if (fault === '503') {
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"odata.error":{"code":"ServerBusy","message":{"value":"busy"}}}');
      return;
    }
    if (fault === 'reset-before') {
      req.socket.destroy();
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (fault === 'reset-after') {
        up.resume();
        up.on('end', () => req.socket.destroy());
        return;
      }
      const forward = (): void => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (!held) return forward();
      up.pause();
      held.onArrived();
      void held.released.then(forward);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

describe('TableStore only', () => {
  function proxiedStore(proxy: FaultyProxy): TableStore {
    const conn = azuriteConnectionString().replace(/TableEndpoint=http:\/\/127\.0\.0\.1:\d+/, `TableEndpoint=http://127.0.0.1:${proxy.port}`);
    const s = new TableStore({ connectionString: conn, taskHub: hub() });
    opened.push(s);
    return s;
  }
  function raw(s: TableStore): TableClient {
    return TableClient.fromConnectionString(azuriteConnectionString(), s.tableName, { allowInsecureConnection: true });
  }
  async function rowKeys(s: TableStore, id: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const e of raw(s).listEntities({ queryOptions: { filter: odata`PartitionKey eq ${id}`, select: ['RowKey'] } })) keys.push(e.rowKey!);
    return keys;
  }

  function rawIndex(s: TableStore): TableClient {
    return TableClient.fromConnectionString(azuriteConnectionString(), s.indexTableName, { allowInsecureConnection: true });
  }

  it('lists through the index table: an instance whose index row is gone is not listed, and no history row is read', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('seen'), msg(mid(0)));
    await s.create(meta('hidden'), msg(mid(0)));
    await rawIndex(s).deleteEntity('hi', 'hidden');
    expect((await s.list()).map((m) => m.instanceId)).toEqual(['seen']);
    const rows: string[] = [];
    for await (const e of rawIndex(s).listEntities()) if (e.partitionKey !== '@lease') rows.push(`${e.partitionKey}/${e.rowKey}/${String(e.status)}`);
    expect(rows).toEqual(['se/seen/Pending']);
  });

  it('with the lease, the index is read into memory (rows others wrote before, by slices of their bucket) and listed from there', async () => {
    const taskHub = hub();
    const before = tableStore(taskHub);
    await before.init();
    for (const id of ['m1', 'm2', 'm3']) await before.create(meta(id), msg(mid(0)));
    const s = tableStore(taskHub);
    await s.acquireLease();
    expect(await s.indexLoaded()).toBe(true);
    await s.create(meta('m0'), msg(mid(0)));
    // A row deleted behind the holder's back (nothing may write its hub): the holder still lists it from memory,
    // a store without the lease reads the table and does not.
    await rawIndex(s).deleteEntity('m2', 'm2');
    expect((await s.list()).map((m) => m.instanceId)).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect((await before.list()).map((m) => m.instanceId)).toEqual(['m0', 'm1', 'm3']);
  });

  it('a hub whose index rows may lack their bucket (no format row, and rows) is read into memory page after page', async () => {
    const taskHub = hub();
    const old = tableStore(taskHub);
    await old.init();
    await old.create(meta('legacy'), msg(mid(0)));
    // As an index written before buckets existed: no format row, a row without `b`.
    await rawIndex(old).deleteEntity('@lease', 'format');
    await rawIndex(old).upsertEntity({ partitionKey: 'le', rowKey: 'legacy', status: 'Pending', createdTime: T0, name: 'Hello' }, 'Replace');
    const s = tableStore(taskHub);
    await s.acquireLease();
    expect(await s.indexLoaded()).toBe(true);
    await rawIndex(s).deleteEntity('le', 'legacy'); // listed from memory from now on
    expect((await s.list()).map((m) => m.instanceId)).toEqual(['legacy']);
  });

  it('keeps the index row in step with the status, and a read repairs a row a crash left behind', async () => {
    const s = tableStore();
    await s.init();
    const status = async (id: string) => String((await rawIndex(s).getEntity(id.slice(0, 2), id)).status);
    await s.create(meta('ix'), msg(mid(0)));
    expect(await status('ix')).toBe('Pending');
    await s.commit('ix', { meta: meta('ix', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    expect(await status('ix')).toBe('Running');
    await s.commit('ix', { meta: meta('ix', { status: 'Completed' }), append: [ev(1, -1)], consumed: [] });
    expect(await status('ix')).toBe('Completed');
    // As if the process had died between the instance's commit and its index write: the row still says Running.
    await rawIndex(s).upsertEntity({ partitionKey: 'ix', rowKey: 'ix', status: 'Running', createdTime: T0, name: 'Hello' }, 'Replace');
    expect((await s.listPage({ runtimeStatus: ['Running'] }, { top: 10 })).items).toEqual([]);
    expect(await status('ix')).toBe('Completed');
    // Recovery lists the unfinished rows and loads the instances that are not idle: the first load after a restart
    // (a store holding the lease, as a host does) repairs the row the same way.
    await rawIndex(s).upsertEntity({ partitionKey: 'ix', rowKey: 'ix', status: 'Suspended', createdTime: T0, name: 'Hello' }, 'Replace');
    const restarted = tableStore(s.tableName.replace(/Instances$/, ''));
    await restarted.acquireLease();
    expect((await restarted.activePage({ top: 10 })).items).toEqual([{ instanceId: 'ix' }]);
    expect((await restarted.load('ix'))?.meta.status).toBe('Completed');
    expect(await status('ix')).toBe('Completed');
    await restarted.close();
    // A purge that died after deleting the instance leaves a row: skipped, and cleaned by the next purge or create.
    await rawIndex(s).upsertEntity({ partitionKey: 'or', rowKey: 'orphan', status: 'Running', createdTime: T0, name: 'Hello' }, 'Replace');
    expect((await s.list()).map((m) => m.instanceId)).toEqual(['ix']);
    await s.create(meta('orphan'), msg(mid(0)));
    expect(await status('orphan')).toBe('Pending');
    expect(await s.purge('orphan')).toBe(true);
    await expect(rawIndex(s).getEntity('or', 'orphan')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('a new TableStore on the same table sees everything and carries on (restart)', async () => {
    const taskHub = hub();
    const a = tableStore(taskHub);
    await a.init();
    await a.create(meta('r'), msg(mid(0)));
    await a.commit('r', { meta: meta('r', { status: 'Running' }), append: [ev(12, -1), ev(0, -1)], consumed: [mid(0)] });
    await a.commit('r', { meta: meta('r', { status: 'Running' }), append: [ev(4, 0)], consumed: [] });
    await a.enqueue('r', msg(mid(1)));
    await a.create(meta('r2', { status: 'Completed' }), msg(mid(0)));
    await a.close();

    const b = tableStore(taskHub);
    await b.init(); // idempotent on an existing table
    expect(await b.load('r')).toEqual({ meta: meta('r', { status: 'Running' }), history: [ev(12, -1), ev(0, -1), ev(4, 0)], actions: [], inbox: [msg(mid(1))] });
    expect((await b.list()).map((m) => m.instanceId).sort()).toEqual(['r', 'r2']);
    await b.commit('r', { meta: meta('r', { status: 'Running' }), append: [ev(5, -1)], consumed: [mid(1)] });
    expect((await b.load('r'))!.history).toEqual([ev(12, -1), ev(0, -1), ev(4, 0), ev(5, -1)]);

    // A commit right after a restart, without a load first, still appends in order.
    const c = tableStore(taskHub);
    await c.commit('r', { meta: meta('r', { status: 'Completed' }), append: [ev(1, 1)], consumed: [] });
    expect(await c.load('r')).toEqual({ meta: meta('r', { status: 'Completed' }), history: [ev(12, -1), ev(0, -1), ev(4, 0), ev(5, -1), ev(1, 1)], actions: [], inbox: [] });
  });

  it('a commit from a stale view fails whole: its meta and consumed messages are not written', async () => {
    const taskHub = hub();
    const a = tableStore(taskHub);
    await a.init();
    await a.create(meta('stale'), msg(mid(0)));
    await a.enqueue('stale', msg(mid(1)));
    const b = tableStore(taskHub);
    await b.load('stale');
    await a.commit('stale', { meta: meta('stale', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    const err = await b.commit('stale', { meta: meta('stale', { status: 'Failed' }), append: [ev(3, -1)], consumed: [mid(1)] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'StaleWrite' });
    expect((err as Error).message).toMatch(/Instance 'stale': its meta row changed since this store last read it/);
    expect(await a.load('stale')).toEqual({ meta: meta('stale', { status: 'Running' }), history: [ev(12, -1)], actions: [], inbox: [msg(mid(1))] });
    // b recovers by loading again
    await b.load('stale');
    await b.commit('stale', { meta: meta('stale', { status: 'Failed' }), append: [ev(3, -1)], consumed: [mid(1)] });
    expect(await a.load('stale')).toEqual({ meta: meta('stale', { status: 'Failed' }), history: [ev(12, -1), ev(3, -1)], actions: [], inbox: [] });
  });

  it('meta writes are ETag-guarded: a writer whose view is older cannot overwrite a meta-only change, an enqueue in between is fine', async () => {
    const taskHub = hub();
    const a = tableStore(taskHub);
    await a.init();
    await a.create(meta('guard'), msg(mid(0)));
    const b = tableStore(taskHub);
    await b.load('guard');
    await a.commit('guard', { meta: meta('guard', { status: 'Suspended' }), append: [], consumed: [] });
    const err = await b.commit('guard', { meta: meta('guard', { status: 'Running', customStatus: '"b"' }), append: [], consumed: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'StaleWrite' });
    expect((await a.getMeta('guard'))?.status).toBe('Suspended');
    // An enqueue touches the meta row (new ETag, same content): the holder's next commit still goes through.
    await a.enqueue('guard', msg(mid(1)));
    await a.commit('guard', { meta: meta('guard', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    expect(await a.load('guard')).toMatchObject({ meta: { status: 'Running' }, inbox: [msg(mid(1))] });
  });

  it('load reads the rows the meta row lists by key; after an enqueue (list marked incomplete) it queries the partition', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('inv'), msg(mid(0)));
    await s.commit('inv', { meta: meta('inv', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
    // A row the meta row does not list (no writer of this store makes one): a load by key does not see it...
    await raw(s).createEntity({ partitionKey: 'inv', rowKey: `I:${mid(5)}`, d0: JSON.stringify(msg(mid(5))) });
    const fresh = tableStore(s.tableName.replace(/Instances$/, ''));
    expect((await fresh.load('inv'))!.inbox).toEqual([]);
    // ...an enqueue marks the list incomplete, so the next load queries and sees every row.
    await fresh.enqueue('inv', msg(mid(6)));
    const again = tableStore(s.tableName.replace(/Instances$/, ''));
    expect((await again.load('inv'))!.inbox.map((x) => x.id)).toEqual([mid(5), mid(6)]);
    // The next commit writes the complete list again.
    await again.commit('inv', { meta: meta('inv', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(5)] });
    const last = tableStore(s.tableName.replace(/Instances$/, ''));
    expect(await last.load('inv')).toEqual({ meta: meta('inv', { status: 'Running' }), history: [ev(12, -1), ev(12, -1)], actions: [], inbox: [msg(mid(6))] });
  });

  it('a short history lives in the meta row, then one history row per commit; a dropped execution and a purge leave no rows behind', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('rows'), msg(mid(0)));
    for (let i = 0; i < 3; i++) await s.commit('rows', { meta: meta('rows', { status: 'Running' }), append: [ev(12, -1), ev(4, i), ev(5, -1)], consumed: i === 0 ? [mid(0)] : [] });
    expect((await rowKeys(s, 'rows')).sort()).toEqual(['M']); // short: in the meta row
    const pad = 'p'.repeat(3000);
    await s.commit('rows', { meta: meta('rows', { status: 'Running' }), append: [ev(5, -1, { Result: pad }), ev(5, -1, { Result: pad }), ev(5, -1, { Result: pad })], consumed: [] });
    expect((await rowKeys(s, 'rows')).sort()).toEqual(['H:e1:0000000000', 'M']); // grown: moved out in the same commit
    for (let i = 0; i < 3; i++) await s.commit('rows', { meta: meta('rows', { status: 'Running' }), append: [ev(12, -1)], consumed: [] });
    expect((await rowKeys(s, 'rows')).sort()).toEqual(['H:e1:0000000000', 'H:e1:0000000001', 'H:e1:0000000002', 'H:e1:0000000003', 'M']);
    const loaded = await tableStore(s.tableName.replace(/Instances$/, '')).load('rows');
    expect(loaded!.history).toHaveLength(9 + 3 + 3);
    expect(loaded!.history[9]).toEqual(ev(5, -1, { Result: pad }));
    for (let i = 0; i < 130; i++) await s.commit('rows', { meta: meta('rows', { status: 'Running' }), append: [ev(12, -1)], consumed: [] });
    await s.commit('rows', { meta: meta('rows', { executionId: 'e2', status: 'Running' }), append: [ev(0, -1)], consumed: [], dropExecution: 'e1' });
    expect((await rowKeys(s, 'rows')).sort()).toEqual(['M']);
    expect((await tableStore(s.tableName.replace(/Instances$/, '')).load('rows'))!.history).toEqual([ev(0, -1)]);
    await s.enqueue('rows', msg(mid(1)));
    expect(await s.purge('rows')).toBe(true);
    expect(await rowKeys(s, 'rows')).toEqual([]);
  });

  it('replaceHistory writes the new rows and the meta in one transaction, then deletes the old rows; a restarted store reads only the new ones', async () => {
    const taskHub = hub();
    const s = tableStore(taskHub);
    await s.init();
    await s.create(meta('rwt'), msg(mid(0)));
    // Events long enough that the history lives in rows, not in the meta row.
    const pad = 'p'.repeat(9000);
    for (let i = 0; i < 3; i++) await s.commit('rwt', { meta: meta('rwt', { status: 'Running' }), append: [ev(12, -1), ev(4, i, { Input: pad })], consumed: i === 0 ? [mid(0)] : [] });
    // As if the clean-up after the rewrite had failed: an old row stays, and nothing reads it.
    const keep = await raw(s).getEntity('rwt', 'H:e1:0000000001');
    await s.commit('rwt', { meta: meta('rwt', { status: 'Pending' }), append: [ev(12, -1), ev(17, 0, { Input: pad })], consumed: [], replaceHistory: true });
    expect((await rowKeys(s, 'rwt')).sort()).toEqual(['H:e1:0000000003', 'M']);
    await raw(s).createEntity({ partitionKey: 'rwt', rowKey: 'H:e1:0000000001', d0: String(keep.d0) });
    const after = tableStore(taskHub);
    expect((await after.load('rwt'))!.history).toEqual([ev(12, -1), ev(17, 0, { Input: pad })]);
    await after.commit('rwt', { meta: meta('rwt', { status: 'Completed' }), append: [ev(1, -1)], consumed: [] });
    expect((await after.load('rwt'))!.history).toEqual([ev(12, -1), ev(17, 0, { Input: pad }), ev(1, -1)]);
    expect((await rowKeys(s, 'rwt')).sort()).toEqual(['H:e1:0000000001', 'H:e1:0000000003', 'H:e1:0000000004', 'M']);
  });

  it('replaceHistory of a short history keeps it in the meta row and deletes the old rows', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('rws'), msg(mid(0)));
    await s.commit('rws', { meta: meta('rws', { status: 'Running' }), append: [ev(12, -1), ev(4, 0, { Input: 'p'.repeat(9000) })], consumed: [mid(0)] });
    expect((await rowKeys(s, 'rws')).sort()).toEqual(['H:e1:0000000000', 'M']);
    await s.commit('rws', { meta: meta('rws', { status: 'Pending' }), append: [ev(12, -1), ev(17, 0)], consumed: [], replaceHistory: true });
    expect((await rowKeys(s, 'rws')).sort()).toEqual(['M']);
    await s.commit('rws', { meta: meta('rws', { status: 'Completed' }), append: [ev(1, -1)], consumed: [] });
    expect((await tableStore(s.tableName.replace(/Instances$/, '')).load('rws'))!.history).toEqual([ev(12, -1), ev(17, 0), ev(1, -1)]);
  });

  it('consumed messages past the transaction limit are deleted after the commit', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('tomb'), msg(mid(0)));
    for (let i = 1; i < 120; i++) await s.enqueue('tomb', msg(mid(i)));
    await s.commit('tomb', { meta: meta('tomb', { status: 'Running' }), append: [ev(12, -1)], consumed: Array.from({ length: 120 }, (_, i) => mid(i)) });
    expect((await rowKeys(s, 'tomb')).sort()).toEqual(['M']);

    // As if the process had died between the transaction and the clean-up: a consumed row is still there.
    await raw(s).createEntity({ partitionKey: 'tomb', rowKey: `I:${mid(119)}`, d0: JSON.stringify(msg(mid(119))) });
    const after = tableStore(s.tableName.replace(/Instances$/, ''));
    expect((await after.load('tomb'))!.inbox).toEqual([]);
    await after.commit('tomb', { meta: meta('tomb', { status: 'Completed' }), append: [ev(1, -1)], consumed: [] });
    expect((await rowKeys(s, 'tomb')).sort()).toEqual(['M']);
    expect((await after.load('tomb'))!.history).toEqual([ev(12, -1), ev(1, -1)]);
  });

  it('retries once on 503 and on a connection reset, and a retried write that had gone through counts as done', async () => {
    const proxy = await faultyProxy(new URL(/TableEndpoint=([^;]+)/.exec(azuriteConnectionString())![1]!).port);
    try {
      const s = proxiedStore(proxy);
      await s.init();
      proxy.next = 'reset-after';
      await s.create(meta('flaky'), msg(mid(0))); // the retry meets its own row: no StoreConflictError
      proxy.next = '503';
      await s.enqueue('flaky', msg(mid(1)));
      proxy.next = 'reset-after';
      await s.commit('flaky', { meta: meta('flaky', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
      proxy.next = 'reset-after';
      await s.commit('flaky', { meta: meta('flaky', { status: 'Running', lastUpdatedTime: 'later' }), append: [], consumed: [mid(1)] });
      proxy.next = 'reset-before';
      await s.enqueue('flaky', msg(mid(2)));
      expect(proxy.faults).toBe(5);
      expect(await s.load('flaky')).toEqual({ meta: meta('flaky', { status: 'Running', lastUpdatedTime: 'later' }), history: [ev(12, -1)], actions: [], inbox: [msg(mid(2))] });
      expect(await s.create(meta('flaky'), msg(mid(9))).catch((e: unknown) => e)).toMatchObject({ code: 'StoreConflict' });
    } finally {
      await proxy.close();
    }
  });

  it('a load that read before a commit but finishes after it (the history API) does not rewind the next commit', async () => {
    const proxy = await faultyProxy(new URL(/TableEndpoint=([^;]+)/.exec(azuriteConnectionString())![1]!).port);
    try {
      const s = proxiedStore(proxy);
      await s.init();
      await s.create(meta('race'), msg(mid(0)));
      await s.commit('race', { meta: meta('race', { status: 'Running' }), append: [ev(12, -1)], consumed: [mid(0)] });
      const hold = proxy.holdNextQuery();
      const slowLoad = s.load('race');
      await hold.arrived;
      await s.commit('race', { meta: meta('race', { status: 'Running' }), append: [ev(4, 0)], consumed: [] });
      hold.release();
      expect((await slowLoad)!.history).toEqual([ev(12, -1)]);
      await s.commit('race', { meta: meta('race', { status: 'Running' }), append: [ev(5, -1)], consumed: [] });
      expect((await s.load('race'))!.history).toEqual([ev(12, -1), ev(4, 0), ev(5, -1)]);
    } finally {
      await proxy.close();
    }
  });

  it('payloads over 60 KB go to blob storage (<hub>-largemessages, gzipped, the row keeps the name) and purge deletes them', async () => {
    const s = tableStore();
    await s.init();
    await s.create(meta('huge', { input: JSON.stringify('i'.repeat(100_000)) }), msg(mid(0)));
    const result = 'x😀'.repeat(1_000_000);
    await s.commit('huge', { meta: meta('huge', { status: 'Running', input: JSON.stringify('i'.repeat(100_000)) }), append: [ev(5, -1, { Result: result })], consumed: [mid(0)] });
    await s.enqueue('huge', msg(mid(1), ev(6, -1, { Input: 'y'.repeat(600_000) })));
    const loaded = await tableStore(s.tableName.replace(/Instances$/, '')).load('huge');
    expect(loaded!.history[0]!.Result).toBe(result);
    expect(loaded!.inbox[0]!.event.Input).toBe('y'.repeat(600_000));
    expect(loaded!.meta.input).toBe(JSON.stringify('i'.repeat(100_000)));
    const m = await raw(s).getEntity<Record<string, unknown>>('huge', 'M');
    expect(m.b).toMatch(/^huge\/[0-9a-f]{64}\.json\.gz$/);
    expect(m.d0).toBeUndefined();
    const container = BlobServiceClient.fromConnectionString(azuriteConnectionString()).getContainerClient(`${s.tableName.replace(/Instances$/, '').toLowerCase()}-largemessages`);
    const names = async () => {
      const out: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix: 'huge/' })) out.push(b.name);
      return out;
    };
    expect((await names()).length).toBe(4); // two versions of the meta, the history row, the message
    expect(await s.purge('huge')).toBe(true);
    expect(await names()).toEqual([]);
  });


  it('rejects a task hub that cannot be part of a table name, and keys Azure Tables cannot hold', async () => {
    expect(() => new TableStore({ connectionString: azuriteConnectionString(), taskHub: 'my-hub' })).toThrow(/Invalid task hub name 'my-hub': use 3 to 45 letters and digits/);
    expect(() => new TableStore({ connectionString: azuriteConnectionString(), taskHub: '1hub' })).toThrow(/Invalid task hub name/);
    expect(() => new TableStore({ connectionString: '', taskHub: 'Hub' })).toThrow(/connection string \(AzureWebJobsStorage\) is empty/);
    const s = tableStore();
    await s.init();
    await s.create(meta('k'), msg(mid(0)));
    await expect(s.enqueue('k', msg('bad/id'))).rejects.toThrow(/The message id 'bad\/id' cannot be a table key/);
    await expect(s.create(meta('a\\b'), msg(mid(0)))).rejects.toMatchObject({ code: 'InvalidKey' });
  });

  it('maps UseDevelopmentStorage=true to the Azurite development account', () => {
    expect(resolveConnectionString('UseDevelopmentStorage=true')).toBe(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1',
    );
    expect(resolveConnectionString(azuriteConnectionString())).toBe(azuriteConnectionString());
    expect(new TableStore({ connectionString: 'UseDevelopmentStorage=true', taskHub: 'DevHub' }).tableName).toBe('DevHubInstances');
  });

  it('the run-wide Azurite is reachable through AzureWebJobsStorage', () => {
    expect(azuriteConnectionString()).toMatch(/^DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;.*TableEndpoint=http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1;/);
    expect(azuriteConnectionString()).not.toMatch(/:1000[012]\//);
  });
});

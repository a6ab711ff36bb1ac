// The index kept in memory: listings in instance-id order with the management API's filters and paging (the same
// answers the table and the memory store give), and a background load that never undoes a write of this host.
import { describe, expect, it } from 'vitest';
import { IndexMirror, IndexRow } from './index-mirror';

function row(instanceId: string, status: IndexRow['status'] = 'Running', createdTime = '2026-01-01T00:00:00.000Z'): IndexRow {
  return { instanceId, status, createdTime, name: 'hello' };
}

function ids(rows: IndexRow[]): string[] {
  return rows.map((r) => r.instanceId);
}

describe('IndexMirror', () => {
  it('pages in instance-id order (UTF-16 code units), with filters, prefixes and `next` only while more match', () => {
    const m = new IndexMirror();
    for (const id of ['b-3', 'a-1', 'c-1', 'a-2', 'b-1', 'ünï', 'a-10', 'b-2', 'B', '😀', '\uffef']) m.fill(row(id, id.startsWith('b') ? 'Completed' : 'Running'));
    m.finishLoad();
    const pages: string[][] = [];
    let after: string | undefined;
    do {
      const p = m.page({}, { top: 4, after });
      pages.push(ids(p.items));
      after = p.next;
    } while (after !== undefined);
    expect(pages).toEqual([['B', 'a-1', 'a-10', 'a-2'], ['b-1', 'b-2', 'b-3', 'c-1'], ['ünï', '😀', '\uffef']]);
    expect(m.page({ runtimeStatus: ['Completed'] }, { top: 2 })).toEqual({ items: [row('b-1', 'Completed'), row('b-2', 'Completed')], next: 'b-2' });
    expect(m.page({ runtimeStatus: ['Completed'] }, { top: 2, after: 'b-2' })).toEqual({ items: [row('b-3', 'Completed')] });
    expect(ids(m.page({ instanceIdPrefix: 'a-1' }, { top: 10 }).items)).toEqual(['a-1', 'a-10']);
    expect(ids(m.page({ instanceIdPrefix: 'a-' }, { top: 10, after: 'a-1' }).items)).toEqual(['a-10', 'a-2']);
    expect(m.page({ instanceIdPrefix: 'zz' }, { top: 10 })).toEqual({ items: [] });
  });

  it('filters on created time, inclusive at both ends', () => {
    const m = new IndexMirror();
    m.fill(row('x1', 'Running', '2026-01-01T00:00:00.000Z'));
    m.fill(row('x2', 'Running', '2026-01-02T00:00:00.000Z'));
    m.fill(row('x3', 'Running', '2026-01-03T00:00:00.000Z'));
    m.finishLoad();
    expect(ids(m.page({ createdTimeFrom: '2026-01-02T00:00:00.000Z' }, { top: 10 }).items)).toEqual(['x2', 'x3']);
    expect(ids(m.page({ createdTimeTo: '2026-01-02T00:00:00.000Z' }, { top: 10 }).items)).toEqual(['x1', 'x2']);
  });

  it('while loading, a row read from the table never replaces or brings back what this host wrote or deleted', () => {
    const m = new IndexMirror();
    m.set(row('mine', 'Running'));
    m.set(row('gone'));
    m.delete('gone');
    m.fill(row('mine', 'Pending')); // read before the host's own write landed
    m.fill(row('gone')); // read before the host deleted it
    m.fill(row('theirs'));
    m.fill(row('theirs', 'Completed')); // read again later: the later read wins
    expect(() => m.page({}, { top: 10 })).toThrow(/not complete/);
    m.finishLoad();
    expect(m.page({}, { top: 10 }).items).toEqual([row('mine', 'Running'), row('theirs', 'Completed')]);
    // Complete: reads change nothing, writes keep the order.
    m.fill(row('late'));
    m.set(row('a-new'));
    m.delete('theirs');
    m.update('mine', { idleUntil: 5, etag: 'e2' });
    expect(m.page({}, { top: 10 }).items).toEqual([row('a-new'), { ...row('mine', 'Running'), idleUntil: 5, etag: 'e2' }]);
  });
});

// Contract scenarios: Durable entities through the entities HTTP API and from orchestrations: a function-based
// counter and a class-based account, signals, calls, a critical section, deletion, listing, and the entity's own
// instance under GET instances/@name@key.
import { expect, it } from 'vitest';
import { expectErrorBody, MGMT, peek, poll, postJson, readStatus, startViaApp, uid, waitForEnd } from './calls';
import type { Target, TargetInfo } from './target';

/** Entity listing times: devhost writes the status format; the extension serialises a DateTime with Newtonsoft (fraction of a second). */
const DEVHOST_ENTITY_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const NEWTONSOFT_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/;

/** POST entities/{name}/{key}?op=... with a JSON input; expects 202. */
async function signal(t: Target, name: string, key: string, op: string, input?: unknown): Promise<void> {
  const res = await postJson(t, `${MGMT}/entities/${name}/${key}?op=${op}`, input);
  expect(res.status, await peek(res)).toBe(202);
}

/** Waits until GET entities/{name}/{key} answers 200 with `expected`. */
function stateBecomes(t: Target, name: string, key: string, expected: unknown): Promise<unknown> {
  let last = '';
  return poll(t, () => `@${name}@${key} to hold ${JSON.stringify(expected)} (last: ${last})`, async () => {
    const res = await t.fetch(`${MGMT}/entities/${name}/${key}`);
    last = await peek(res);
    if (res.status !== 200) return undefined;
    const state: unknown = await res.json();
    return JSON.stringify(state) === JSON.stringify(expected) ? state : undefined;
  });
}

/** Waits until GET entities/{name}/{key} answers 404 (no entity, or no state). */
function stateGone(t: Target, name: string, key: string): Promise<true> {
  return poll(t, `@${name}@${key} to have no state`, async () => {
    const res = await t.fetch(`${MGMT}/entities/${name}/${key}`);
    await res.arrayBuffer();
    return res.status === 404 ? true : undefined;
  });
}

/**
 * The entity scenarios, for the target `t()` returns.
 * @example describe('entities', () => entityScenarios(() => target, spec));
 */
export function entityScenarios(t: () => Target, on: TargetInfo): void {
  const { kind } = on;
  it('a function-based counter takes signals over HTTP (POST ?op=, JSON input): 202 each, then GET gives the bare state', async () => {
    const key = uid('count');
    for (const n of [1, 2, 3, 4, 5]) await signal(t(), 'counter', key, 'add', n);
    expect(await stateBecomes(t(), 'counter', key, 15)).toBe(15);
    const res = await t().fetch(`${MGMT}/entities/Counter/${key}`); // names are case-insensitive
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(15);
  });

  it('a signal whose content type is not JSON gets the body text as a string input', async () => {
    const key = uid('text');
    const res = await t().fetch(`${MGMT}/entities/counter/${key}?op=add`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '7' });
    expect(res.status, await peek(res)).toBe(202);
    expect(await stateBecomes(t(), 'counter', key, '07')).toBe('07'); // 0 + "7", in the entity
  });

  it('GET of an entity that never got a signal: 404 (empty body from the extension)', async () => {
    const res = await t().fetch(`${MGMT}/entities/counter/${uid('never')}`);
    expect(res.status).toBe(404);
    await expectErrorBody(t(), res, { devhost: /does not exist/, func: null });
  });

  it('an entity is an instance too: GET instances/@counter@key shows it Running, with the entity status as customStatus', async () => {
    const key = uid('inst');
    await signal(t(), 'counter', key, 'add', 2);
    await stateBecomes(t(), 'counter', key, 2);
    const { code, body } = await readStatus(t(), `@counter@${key}`);
    expect(code).toBe(202);
    expect(body).toMatchObject({ name: `@counter@${key}`, instanceId: `@counter@${key}`, runtimeStatus: 'Running', customStatus: { entityExists: true } });
  });

  // The extension keeps the messages of one sender in order (MessageSorter; /work/notes/entities-research.md section 8).
  // With the table store's latency a devhost that sent them concurrently lost that order, so five orchestrations run
  // at once to give a race every chance.
  it('orchestrations that signal an entity 20 times, then call it: the messages arrive in the order sent, the call after every signal', async () => {
    const started = await Promise.all([1, 2, 3, 4, 5].map(() => startViaApp(t(), 'writeJournal', { id: uid('journal'), input: { key: uid('j'), n: 20 } })));
    for (const { id } of started) expect(await waitForEnd(t(), id)).toMatchObject({ runtimeStatus: 'Completed', output: Array.from({ length: 20 }, (_, i) => i + 1) });
  });

  it('a class-based account: a transfer inside a critical section over two accounts; an overdraft is the caller\'s error, with no change', async () => {
    const [from, to] = [uid('from'), uid('to')];
    await signal(t(), 'account', from, 'deposit', 100);
    await stateBecomes(t(), 'account', from, { balance: 100 });
    const ok = await startViaApp(t(), 'transfer', { id: uid('transfer'), input: { from, to, amount: 30 } });
    expect(await waitForEnd(t(), ok.id)).toMatchObject({ runtimeStatus: 'Completed', output: { inside: true, error: null, balances: [70, 30], after: false } });
    const over = await startViaApp(t(), 'transfer', { id: uid('transfer'), input: { from, to, amount: 500 } });
    expect(await waitForEnd(t(), over.id)).toMatchObject({ runtimeStatus: 'Completed', output: { inside: true, error: 'insufficient funds: 70 < 500', balances: [70, 30], after: false } });
    await stateBecomes(t(), 'account', to, { balance: 30 });
  });

  it('DELETE entities/{name}/{key} signals "delete": 202, then the state is gone (404) until the next signal creates it again', async () => {
    const key = uid('del');
    await signal(t(), 'counter', key, 'add', 2);
    await stateBecomes(t(), 'counter', key, 2);
    const res = await t().fetch(`${MGMT}/entities/counter/${key}`, { method: 'DELETE' });
    expect(res.status).toBe(202);
    await stateGone(t(), 'counter', key);
    await signal(t(), 'counter', key, 'add', 4);
    expect(await stateBecomes(t(), 'counter', key, 4)).toBe(4);
  });

  it('GET entities/{name}?fetchState=true lists entities with their state; lastOperationTime as each host writes it', async () => {
    const prefix = uid('list');
    for (const n of [1, 2, 3]) await signal(t(), 'account', `${prefix}${n}`, 'deposit', n);
    for (const n of [1, 2, 3]) await stateBecomes(t(), 'account', `${prefix}${n}`, { balance: n });
    const all: Array<{ entityId: { name: string; key: string }; lastOperationTime: string; state: unknown }> = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Response = await t().fetch(`${MGMT}/entities/account?fetchState=true&top=100`, { headers: token ? { 'x-ms-continuation-token': token } : {} });
      expect(res.status, await peek(res)).toBe(200);
      all.push(...((await res.json()) as typeof all));
      token = res.headers.get('x-ms-continuation-token');
      pages += 1;
      expect(pages).toBeLessThan(100);
    } while (token);
    const mine = all.filter((e) => e.entityId.key.startsWith(prefix)).sort((a, b) => a.entityId.key.localeCompare(b.entityId.key));
    expect(mine.map((e) => [e.entityId, e.state])).toEqual([1, 2, 3].map((n) => [{ name: 'account', key: `${prefix}${n}` }, { balance: n }]));
    // README, differences table: "entity listing lastOperationTime".
    for (const e of mine) expect(e.lastOperationTime).toMatch(kind === 'func' ? NEWTONSOFT_TIME : DEVHOST_ENTITY_TIME);
  });

  it('a signal to an entity function that does not exist: 400 naming it', async () => {
    const res = await postJson(t(), `${MGMT}/entities/nobody/x?op=add`, 1);
    expect(res.status).toBe(400);
    const message = "The function 'nobody' doesn't exist, is disabled, or is not an entity function.";
    await expectErrorBody(t(), res, { devhost: message, func: message });
  });
}

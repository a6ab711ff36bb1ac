// Contract scenarios: the Durable management API's codes, headers and JSON (start, status, raiseEvent, terminate,
// suspend, resume, restart, purge, list) and the check-status payload of the app's starter. Where devhost answers
// differently on purpose, the assertion names both and the comment names the README row.
import { expect, it } from 'vitest';
import {
  expectErrorBody,
  MGMT,
  peek,
  poll,
  postJson,
  raise,
  readStatus,
  RUNTIME_STATUSES,
  startViaApp,
  startViaMgmt,
  STATUS_TIME,
  type StatusJson,
  uid,
  waitForEnd,
  waitForStart,
  waitForStatus,
} from './calls';
import type { Target, TargetInfo } from './target';

const HELLO = ['Hello Tokyo!', 'Hello Seattle!', 'Hello London!'];
/** The management URLs of the extension's HttpManagementPayload (what the client binding carries). */
const PAYLOAD_KEYS = ['id', 'statusQueryGetUri', 'sendEventPostUri', 'terminatePostUri', 'rewindPostUri', 'purgeHistoryDeleteUri', 'restartPostUri', 'suspendPostUri', 'resumePostUri'];
/** The extension's own check-status response (HttpApiHandler.CreateCheckStatusResponseMessage) leaves out rewindPostUri. */
const START_KEYS = PAYLOAD_KEYS.filter((k) => k !== 'rewindPostUri');
const STATUS_KEYS = ['name', 'instanceId', 'runtimeStatus', 'input', 'customStatus', 'output', 'createdTime', 'lastUpdatedTime'];

/**
 * The status JSON's keys. The contract app has host.json defaultVersion, so every instance is versioned: devhost adds
 * `version`; the extension's StatusResponsePayload (read at a7c6d69) has no such field (README, differences table:
 * "status JSON of a versioned instance").
 */
function statusKeys(t: Target): string[] {
  return (t.kind === 'func' ? STATUS_KEYS : [...STATUS_KEYS, 'version']).sort();
}

/** Checks the management URLs of instance `id` on target `t`: where each points and the query every one carries. */
function expectManagementUrls(t: Target, id: string, body: Record<string, string>): void {
  const base = `${t.baseUrl}${MGMT}/instances/${id}`;
  const expected: Record<string, string> = {
    statusQueryGetUri: `${base}?`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?`,
    terminatePostUri: `${base}/terminate?reason={text}&`,
    rewindPostUri: `${base}/rewind?reason={text}&`,
    purgeHistoryDeleteUri: `${base}?`,
    restartPostUri: `${base}/restart?`,
    suspendPostUri: `${base}/suspend?reason={text}&`,
    resumePostUri: `${base}/resume?reason={text}&`,
  };
  for (const [key, prefix] of Object.entries(expected)) {
    if (!(key in body)) continue;
    expect(body[key].startsWith(prefix), `${key}: ${body[key]}`).toBe(true);
    expect(body[key]).toMatch(/[?&]taskHub=[A-Za-z0-9]+&connection=Storage(&|$)/);
  }
}

/** Starts a 'waiter' (waits for 'Proceed') and waits until it runs. */
async function startWaiter(t: Target): Promise<string> {
  const id = await startViaMgmt(t, 'waiter', undefined, uid('waiter'));
  await waitForStart(t, id);
  return id;
}

/** Runs a 'hello' to its end. */
async function finishedHello(t: Target): Promise<string> {
  const id = await startViaMgmt(t, 'hello', undefined, uid('hello'));
  expect((await waitForEnd(t, id)).runtimeStatus).toBe('Completed');
  return id;
}

/** POST instances/{id}/{op}?reason=... */
function control(t: Target, id: string, op: string, reason = 'contract'): Promise<Response> {
  return t.fetch(`${MGMT}/instances/${encodeURIComponent(id)}/${op}?reason=${reason}`, { method: 'POST' });
}

/**
 * The management-API scenarios, for the target `t()` returns.
 * @example describe('management API', () => managementScenarios(() => target, spec));
 */
export function managementScenarios(t: () => Target, on: TargetInfo): void {
  const { kind } = on;
  it("the app's starter answers the SDK's check-status response: 202, Location, Retry-After 10, every management URL", async () => {
    const { id, res, body } = await startViaApp(t(), 'hello');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(body).sort()).toEqual([...PAYLOAD_KEYS].sort());
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    expect(res.headers.get('retry-after')).toBe('10');
    expectManagementUrls(t(), id, body);
    await waitForEnd(t(), id);
    const status = await fetch(body.statusQueryGetUri);
    expect(status.status).toBe(200);
    expect(((await status.json()) as StatusJson).output).toEqual(HELLO);
  });

  it('POST orchestrators/{name}: 202, Location, Retry-After 10 and the management URLs without rewindPostUri', async () => {
    const res = await t().fetch(`${MGMT}/orchestrators/hello`, { method: 'POST' });
    expect(res.status, await peek(res)).toBe(202);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual([...START_KEYS].sort());
    expect(body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    expect(res.headers.get('retry-after')).toBe('10');
    expectManagementUrls(t(), body.id, body);
    expect((await waitForEnd(t(), body.id)).output).toEqual(HELLO);
  });

  it('POST orchestrators/{name}/{id} with a JSON body: that id, and the status shows the input', async () => {
    const id = uid('with-input');
    expect(await startViaMgmt(t(), 'throws', { note: 'given' }, id)).toBe(id);
    const done = await waitForEnd(t(), id);
    expect(done).toMatchObject({ instanceId: id, name: 'throws', input: { note: 'given' }, runtimeStatus: 'Failed' });
  });

  it('an instance id with a space: the start response percent-encodes it on devhost; the extension writes "+" (WebUtility.UrlEncode)', async () => {
    // README, differences table: "instance ids in the URLs of a start response".
    const id = `${uid('two')} words`;
    const res = await postJson(t(), `${MGMT}/orchestrators/hello/${encodeURIComponent(id)}`);
    expect(res.status, await peek(res)).toBe(202);
    const body = (await res.json()) as Record<string, string>;
    expect(body.id).toBe(id);
    const encoded = kind === 'func' ? id.replace(' ', '+') : encodeURIComponent(id);
    expect(body.statusQueryGetUri.startsWith(`${t().baseUrl}${MGMT}/instances/${encoded}?`), body.statusQueryGetUri).toBe(true);
    expect((await waitForEnd(t(), id)).output).toEqual(HELLO);
  });

  it('starting over a running instance: 500 from the extension (OrchestrationAlreadyExistsException), 409 on devhost; the instance is untouched', async () => {
    // README, differences table: "start with the id of a running instance".
    const id = await startWaiter(t());
    const res = await postJson(t(), `${MGMT}/orchestrators/hello/${id}`, 'other input');
    expect(res.status).toBe(kind === 'func' ? 500 : 409);
    await expectErrorBody(t(), res, { devhost: new RegExp(`'${id}' already exists and is Running`), func: 'Something went wrong while processing your request' });
    const { code, body } = await readStatus(t(), id);
    expect(code).toBe(202);
    expect(body).toMatchObject({ name: 'waiter', runtimeStatus: 'Running', input: null });
  });

  it("starting over a running instance through the app's starter: the SDK client throws, so the function answers 500 on both", async () => {
    const id = await startWaiter(t());
    const res = await postJson(t(), `/api/orchestrators/hello/${id}`);
    expect(res.status).toBe(500);
    await res.arrayBuffer();
    expect((await readStatus(t(), id)).body).toMatchObject({ name: 'waiter', runtimeStatus: 'Running' });
  });

  it('starting an orchestrator that does not exist, with an id starting with @ (an entity\'s), or with a body that is not JSON: 400', async () => {
    const unknown = await postJson(t(), `${MGMT}/orchestrators/nobody`);
    expect(unknown.status).toBe(400);
    await expectErrorBody(t(), unknown, { devhost: "The function 'nobody' doesn't exist, is disabled, or is not an orchestrator function.", func: 'One or more of the arguments submitted is incorrect' });
    const entityLike = await postJson(t(), `${MGMT}/orchestrators/hello/${encodeURIComponent('@counter@x')}`);
    expect(entityLike.status).toBe(400);
    await expectErrorBody(t(), entityLike, { devhost: /@/, func: 'One or more of the arguments submitted is incorrect' });
    const bad = await t().fetch(`${MGMT}/orchestrators/hello`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"oops": ' });
    expect(bad.status).toBe(400);
    await expectErrorBody(t(), bad, { devhost: /Invalid JSON content/, func: 'Invalid JSON content' });
  });

  it('a finished instance may be started again under its id: 202, and it runs the new orchestration', async () => {
    const id = await finishedHello(t());
    expect(await startViaMgmt(t(), 'throws', 'again', id)).toBe(id);
    expect(await waitForEnd(t(), id)).toMatchObject({ name: 'throws', runtimeStatus: 'Failed', input: 'again' });
  });

  it('GET instances/{id}: 202 with Location and Retry-After 5 while running, 200 when done; the status JSON fields and time format', async () => {
    const id = await startWaiter(t());
    const running = await readStatus(t(), id);
    expect(running.code).toBe(202);
    expect(running.res.headers.get('location')).toBe(`${t().baseUrl}${MGMT}/instances/${id}`);
    expect(running.res.headers.get('retry-after')).toBe('5');
    expect(Object.keys(running.body).sort()).toEqual(statusKeys(t()));
    expect(running.body).toMatchObject({ name: 'waiter', instanceId: id, runtimeStatus: 'Running', input: null, customStatus: { waitingFor: 'Proceed' }, output: null });

    await raise(t(), id, 'Proceed', { ok: 1 });
    await waitForEnd(t(), id);
    const done = await readStatus(t(), id);
    expect(done.code).toBe(200);
    expect(done.res.headers.get('location')).toBeNull();
    expect(done.res.headers.get('retry-after')).toBeNull();
    expect(Object.keys(done.body).sort()).toEqual(statusKeys(t()));
    expect(done.body).toMatchObject({ name: 'waiter', instanceId: id, runtimeStatus: 'Completed', input: null, customStatus: { waitingFor: 'Proceed' }, output: { proceededWith: { ok: 1 } } });
    expect(done.body.createdTime).toMatch(STATUS_TIME);
    expect(done.body.lastUpdatedTime).toMatch(STATUS_TIME);
    expect(Date.parse(done.body.lastUpdatedTime)).toBeGreaterThanOrEqual(Date.parse(done.body.createdTime));
    expect(RUNTIME_STATUSES).toContain(done.body.runtimeStatus);
  });

  it('GET instances/{id} of a Failed instance: 200 with the failure as output; 500 with returnInternalServerErrorOnFailure=true; showInput=false', async () => {
    const id = await startViaMgmt(t(), 'throws', 'over http', uid('throws'));
    await waitForEnd(t(), id);
    const { code, body } = await readStatus(t(), id);
    expect(code).toBe(200);
    expect(body.runtimeStatus).toBe('Failed');
    expect(String(body.output)).toMatch(/^Orchestrator function 'throws' failed: .*orchestrator exploded: over http/s);
    expect((await readStatus(t(), id, '?returnInternalServerErrorOnFailure=true')).code).toBe(500);
    const noInput = await readStatus(t(), id, '?showInput=false');
    expect(noInput.code).toBe(200);
    expect(noInput.body.input ?? null).toBeNull();
  });

  it('GET instances/{id} of an unknown instance: 404 (empty body from the extension)', async () => {
    const res = await t().fetch(`${MGMT}/instances/${uid('nobody')}`);
    expect(res.status).toBe(404);
    await expectErrorBody(t(), res, { devhost: /No instance with ID/, func: null });
  });

  it('showHistory=true: historyEvents with string EventTypes, scheduling merged into completions; Result only with showHistoryOutput', async () => {
    const id = await finishedHello(t());
    const plain = (await readStatus(t(), id, '?showHistory=true')).body.historyEvents ?? [];
    expect(plain.map((e) => e.EventType)).toEqual(['ExecutionStarted', 'TaskCompleted', 'TaskCompleted', 'TaskCompleted', 'ExecutionCompleted']);
    expect(plain[0]).toMatchObject({ FunctionName: 'hello' });
    expect(plain.slice(1, 4).map((e) => e.FunctionName)).toEqual(['sayHello', 'sayHello', 'sayHello']);
    expect(plain[1]).not.toHaveProperty('Result');
    const withOutput = (await readStatus(t(), id, '?showHistory=true&showHistoryOutput=true')).body.historyEvents ?? [];
    expect(withOutput.slice(1, 4).map((e) => e.Result)).toEqual(HELLO);
    expect((await readStatus(t(), id)).body).not.toHaveProperty('historyEvents');
  });

  it('raiseEvent: 202 and the instance gets the JSON; 400 without a JSON content type; 410 once finished; 404 for an unknown instance', async () => {
    const id = await startWaiter(t());
    const plain = await t().fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '"hi"' });
    expect(plain.status).toBe(400);
    await expectErrorBody(t(), plain, { devhost: /application\/json/, func: 'Only application/json request content is supported' });
    await raise(t(), id, 'Proceed', { answer: 42 });
    expect((await waitForEnd(t(), id)).output).toEqual({ proceededWith: { answer: 42 } });
    const late = await postJson(t(), `${MGMT}/instances/${id}/raiseEvent/Proceed`, 1);
    expect(late.status).toBe(410);
    await expectErrorBody(t(), late, { devhost: /Completed/, func: null });
    const unknown = await postJson(t(), `${MGMT}/instances/${uid('nobody')}/raiseEvent/Proceed`, 1);
    expect(unknown.status).toBe(404);
    await expectErrorBody(t(), unknown, { func: null });
  });

  // The extension reads the body with Newtonsoft's JToken.Load, so an empty body is 400 "Invalid JSON content" with a
  // JSON content type, and 400 "Only application/json request content is supported" without one
  // (HttpApiHandler.HandleRaiseEventRequestAsync).
  it('raiseEvent with an empty body: 400 with or without a JSON content type; the instance keeps waiting', async () => {
    const id = await startWaiter(t());
    const empty = await postJson(t(), `${MGMT}/instances/${id}/raiseEvent/Proceed`);
    expect(empty.status).toBe(400);
    await expectErrorBody(t(), empty, { devhost: /JSON/, func: 'Invalid JSON content' });
    const bare = await t().fetch(`${MGMT}/instances/${id}/raiseEvent/Proceed`, { method: 'POST' });
    expect(bare.status).toBe(400);
    await expectErrorBody(t(), bare, { devhost: /application\/json/, func: 'Only application/json request content is supported' });
    expect((await readStatus(t(), id)).body.runtimeStatus).toBe('Running');
    expect((await control(t(), id, 'terminate')).status).toBe(202);
    await waitForEnd(t(), id);
  });

  it('terminate: 202, then Terminated with the reason as output; 410 once finished; 404 for an unknown instance', async () => {
    const id = await startWaiter(t());
    const res = await control(t(), id, 'terminate', 'enough');
    expect(res.status, await peek(res)).toBe(202);
    expect(await waitForEnd(t(), id)).toMatchObject({ runtimeStatus: 'Terminated', output: 'enough' });
    const again = await control(t(), id, 'terminate');
    expect(again.status).toBe(410);
    await expectErrorBody(t(), again, { devhost: /Terminated/, func: null });
    const unknown = await control(t(), uid('nobody'), 'terminate');
    expect(unknown.status).toBe(404);
    await expectErrorBody(t(), unknown, { func: null });
  });

  it('suspend and resume: 202 each, Suspended in between (status 202), an event raised meanwhile applies after resume', async () => {
    const id = await startWaiter(t());
    const suspend = await control(t(), id, 'suspend', 'hold');
    expect(suspend.status, await peek(suspend)).toBe(202);
    const suspended = await waitForStatus(t(), id, 'to be Suspended', (s) => s.runtimeStatus === 'Suspended');
    expect(suspended.output).toBeNull();
    expect((await readStatus(t(), id)).code).toBe(202);
    await raise(t(), id, 'Proceed', 'buffered');
    expect((await readStatus(t(), id)).body.runtimeStatus).toBe('Suspended');
    const resume = await control(t(), id, 'resume', 'go');
    expect(resume.status, await peek(resume)).toBe(202);
    expect(await waitForEnd(t(), id)).toMatchObject({ runtimeStatus: 'Completed', output: { proceededWith: 'buffered' } });
    const types = ((await readStatus(t(), id, '?showHistory=true')).body.historyEvents ?? []).map((e) => e.EventType);
    expect(types).toEqual(expect.arrayContaining(['ExecutionSuspended', 'ExecutionResumed']));
  });

  it('suspend of a suspended instance, resume of a running one: 500 from the extension (the client throws), 202 and nothing happens on devhost', async () => {
    // README, differences table: "suspend a suspended instance, resume a running one".
    const id = await startWaiter(t());
    const resumeRunning = await control(t(), id, 'resume');
    expect(resumeRunning.status).toBe(kind === 'func' ? 500 : 202);
    if (kind === 'func') await expectErrorBody(t(), resumeRunning, { func: 'Something went wrong while processing your request' });
    expect((await control(t(), id, 'suspend')).status).toBe(202);
    await waitForStatus(t(), id, 'to be Suspended', (s) => s.runtimeStatus === 'Suspended');
    const suspendSuspended = await control(t(), id, 'suspend');
    expect(suspendSuspended.status).toBe(kind === 'func' ? 500 : 202);
    if (kind === 'func') await expectErrorBody(t(), suspendSuspended, { func: 'Something went wrong while processing your request' });
    expect((await control(t(), id, 'resume')).status).toBe(202);
    await raise(t(), id, 'Proceed', 'still fine');
    expect(await waitForEnd(t(), id)).toMatchObject({ runtimeStatus: 'Completed', output: { proceededWith: 'still fine' } });
  });

  it('suspend and resume of a finished instance: 410; of an unknown one: 404', async () => {
    const id = await finishedHello(t());
    const unknown = uid('nobody');
    for (const op of ['suspend', 'resume']) {
      const gone = await control(t(), id, op);
      expect(gone.status, op).toBe(410);
      await expectErrorBody(t(), gone, { func: null });
      const missing = await control(t(), unknown, op);
      expect(missing.status, op).toBe(404);
      await expectErrorBody(t(), missing, { func: null });
    }
  });

  it('restart: 202 with the check-status response for a new id, running the same orchestration with the same input; 404 for an unknown instance', async () => {
    const id = await startViaMgmt(t(), 'throws', 'twice', uid('restart'));
    await waitForEnd(t(), id);
    const res = await control(t(), id, 'restart');
    expect(res.status, await peek(res)).toBe(202);
    const body = (await res.json()) as Record<string, string>;
    expect(body.id).not.toBe(id);
    expect(res.headers.get('location')).toBe(body.statusQueryGetUri);
    expect(await waitForEnd(t(), body.id)).toMatchObject({ name: 'throws', input: 'twice', runtimeStatus: 'Failed' });
    const unknown = await control(t(), uid('nobody'), 'restart');
    expect(unknown.status).toBe(kind === 'func' ? 400 : 404);
    // The extension: RestartAsync throws ArgumentException for an unknown id, answered 400
    // "InstanceId does not match a valid orchestration instance." (README, differences table: "restart of an unknown instance").
    await expectErrorBody(t(), unknown, { devhost: /No instance with ID/, func: 'InstanceId does not match a valid orchestration instance.' });
  });

  it('DELETE instances/{id}: 200 {"instancesDeleted":1}, then the instance is gone (404); 404 for an unknown instance', async () => {
    const id = await finishedHello(t());
    const res = await t().fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ instancesDeleted: 1 });
    expect((await readStatus(t(), id)).code).toBe(404);
    const again = await t().fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    await expectErrorBody(t(), again, { func: null });
  });

  it('DELETE instances/{id} of a running instance: the extension purges it (200), devhost refuses (409: terminate it first)', async () => {
    // README, differences table: "purge of a running instance".
    const id = await startWaiter(t());
    const res = await t().fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(kind === 'func' ? 200 : 409);
    if (kind === 'func') {
      expect(await res.json()).toEqual({ instancesDeleted: 1 });
      expect((await readStatus(t(), id)).code).toBe(404);
    } else {
      await expectErrorBody(t(), res, { devhost: /terminate it before purging/, func: null });
      expect((await control(t(), id, 'terminate')).status).toBe(202);
      await waitForEnd(t(), id);
    }
  });

  it('DELETE instances/?createdTimeFrom=&runtimeStatus=Failed: 200 with the count of what matched; 404 when nothing matches; 400 without createdTimeFrom', async () => {
    const first = await startViaMgmt(t(), 'throws', 'purge me', uid('purge'));
    const second = await startViaMgmt(t(), 'throws', 'and me', uid('purge'));
    for (const id of [first, second]) await waitForEnd(t(), id);
    const from = (await readStatus(t(), first)).body.createdTime;
    const filter = `${MGMT}/instances/?createdTimeFrom=${encodeURIComponent(from)}&runtimeStatus=Failed`;
    const matching = (await (await t().fetch(filter)).json()) as StatusJson[];
    expect(matching.map((s) => s.instanceId)).toEqual(expect.arrayContaining([first, second]));
    const res = await t().fetch(filter, { method: 'DELETE' });
    expect(res.status, await peek(res)).toBe(200);
    expect(await res.json()).toEqual({ instancesDeleted: matching.length });
    for (const id of [first, second]) expect((await readStatus(t(), id)).code).toBe(404);
    const none = await t().fetch(filter, { method: 'DELETE' });
    expect(none.status).toBe(404);
    await expectErrorBody(t(), none, { func: null });
    const noFrom = await t().fetch(`${MGMT}/instances/`, { method: 'DELETE' });
    expect(noFrom.status).toBe(400);
    await expectErrorBody(t(), noFrom, { devhost: /createdTimeFrom/, func: { json: "Please provide value for 'createdTimeFrom' parameter." } });
  });

  it('GET instances/: filtered by instanceIdPrefix and runtimeStatus, a page at a time with top and x-ms-continuation-token', async () => {
    const prefix = uid('list');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startViaMgmt(t(), 'hello', undefined, `${prefix}-${i}`));
    const waiting = await startViaMgmt(t(), 'waiter', undefined, `${prefix}-w`);
    for (const id of ids) await waitForEnd(t(), id);
    await waitForStart(t(), waiting);

    const all = await t().fetch(`${MGMT}/instances/?instanceIdPrefix=${prefix}`);
    expect(all.status).toBe(200);
    const list = (await all.json()) as StatusJson[];
    expect(list.map((s) => s.instanceId).sort()).toEqual([...ids, waiting].sort());
    for (const s of list) expect(Object.keys(s).sort()).toEqual(statusKeys(t()));

    const running = (await (await t().fetch(`${MGMT}/instances/?instanceIdPrefix=${prefix}&runtimeStatus=Running`)).json()) as StatusJson[];
    expect(running.map((s) => s.instanceId)).toEqual([waiting]);

    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: Response = await t().fetch(`${MGMT}/instances/?instanceIdPrefix=${prefix}&top=3`, { headers: token ? { 'x-ms-continuation-token': token } : {} });
      expect(res.status).toBe(200);
      const page = (await res.json()) as StatusJson[];
      expect(page.length).toBeLessThanOrEqual(3);
      seen.push(...page.map((s) => s.instanceId));
      token = res.headers.get('x-ms-continuation-token');
      pages += 1;
      expect(pages).toBeLessThan(10);
    } while (token);
    expect(seen.sort()).toEqual([...ids, waiting].sort());
    expect(pages).toBeGreaterThanOrEqual(2);

    expect((await control(t(), waiting, 'terminate')).status).toBe(202);
    await waitForEnd(t(), waiting);
  });

  it('POST orchestrators/{name}?timeout=&pollingInterval=: 200 with the output when it finishes in time, else the 202 check-status response', async () => {
    const quick = await t().fetch(`${MGMT}/orchestrators/hello?timeout=20&pollingInterval=1`, { method: 'POST' });
    expect(quick.status, await peek(quick)).toBe(200);
    expect(await quick.json()).toEqual(HELLO);
    const slow = await t().fetch(`${MGMT}/orchestrators/waiter?timeout=1&pollingInterval=1`, { method: 'POST' });
    expect(slow.status, await peek(slow)).toBe(202);
    const body = (await slow.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual([...START_KEYS].sort());
    const s = await poll(t(), 'the waiter to run', async () => {
      const r = await readStatus(t(), body.id);
      return r.body?.runtimeStatus === 'Running' ? r.body : undefined;
    });
    expect(s.name).toBe('waiter');
    expect((await control(t(), body.id, 'terminate')).status).toBe(202);
    await waitForEnd(t(), body.id);
  });
}

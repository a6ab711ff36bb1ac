// The mixed load of the crash and outage tests, and the invariants checked after it. Players act like the web client:
// every typed line carries an Idempotency-Key of its own and is sent again with the same key after a network failure,
// a 503, a 429 or a 409 request_in_progress (after Retry-After), until it gets its answer; the host they talk to may
// die and come back on another port meanwhile (`Target.url`). Workers type reminders with unique texts,
// `asynccommand` and long reminders they cancel (typed `tasks <id> cancel`, answering its question "Cancel task …?
// [Y]/N" with `y`, or POST /api/tasks/<id>/cancel);
// waiters run `waitloop` and answer its questions. A reader per player long-polls its messages with a cursor.
import { randomUUID } from 'node:crypto';

/** Where the host is now; undefined while it is down (requests wait for it). */
export interface Target {
  url: string | undefined;
}

/** One HTTP exchange as the load saw it: status 0 is a network failure (no answer). */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  code?: string;
  sentAt: number;
  at: number;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const MGMT = '/runtime/webhooks/durabletask';
const FINAL = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined, or throws naming `what` after `timeoutMs`.
 * @example await until('the prompt', () => findPrompt(), 30_000);
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** HTTP with the web client's resend rules, against whichever host is up. */
export class Client {
  readonly exchanges: Exchange[] = [];

  constructor(
    readonly target: Target,
    private readonly deadline: () => number,
  ) {}

  /**
   * Sends until a final answer: network failures, 503, 429 and 409 request_in_progress are sent again (the same
   * request, so the same Idempotency-Key) after Retry-After (at most 1 s here, to keep the test short).
   */
  async call(method: string, path: string, o: { token?: string; body?: unknown; key?: string } = {}): Promise<Answer> {
    for (;;) {
      if (Date.now() > this.deadline()) throw new Error(`${method} ${path}: no final answer before the load's deadline`);
      const base = this.target.url;
      if (base === undefined) {
        await sleep(50);
        continue;
      }
      const headers: Record<string, string> = {};
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      if (o.key) headers['idempotency-key'] = o.key;
      if (o.body !== undefined) headers['content-type'] = 'application/json';
      const sentAt = Date.now();
      let res: Response;
      let text: string;
      try {
        res = await fetch(base + path, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body), signal: AbortSignal.timeout(40_000) });
        text = await res.text();
      } catch {
        this.exchanges.push({ method, path, status: 0, sentAt, at: Date.now() });
        await sleep(this.target.url !== base ? 0 : 100);
        continue;
      }
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        body = { raw: text };
      }
      const code = (body.error as { code?: string } | undefined)?.code;
      this.exchanges.push({ method, path, status: res.status, code, sentAt, at: Date.now() });
      if (res.status === 503 || res.status === 429 || (res.status === 409 && code === 'request_in_progress')) {
        const after = Number(res.headers.get('retry-after') ?? '1');
        await sleep(Math.min(1000, Number.isFinite(after) ? after * 1000 : 1000));
        continue;
      }
      return { status: res.status, body };
    }
  }
}

interface Message {
  id: string;
  text: string;
}

/** One player of the load: what it typed and what it read. */
export class Player {
  token = '';
  id = '';
  /** Every message its reader got, in order. */
  readonly messages: Message[] = [];
  /** Message ids its reader got more than once. */
  readonly duplicates: Message[] = [];
  private readonly seen = new Set<string>();
  private cursor: string | undefined;
  /** Lines and their answers; problems (a line without a 202) are collected for the report. */
  readonly lines: { text: string; status: number; result: Record<string, unknown> }[] = [];
  readonly problems: string[] = [];
  // What a worker started.
  readonly fired: number[] = [];
  readonly cancelled: { n: number; id: string; how: 'typed' | 'http' }[] = [];
  asyncLines = 0;
  // What a waiter started and answered (and the confirming commands a worker's typed cancels started).
  readonly commands: string[] = [];
  readonly answered: string[] = [];
  readonly confirmed: string[] = [];

  constructor(
    readonly name: string,
    readonly client: Client,
  ) {}

  async signIn(): Promise<void> {
    const r = await this.client.call('POST', '/api/sessions', { body: { name: this.name, password: `pw-${this.name}-0123456789` } });
    if (r.status !== 201 && r.status !== 200) throw new Error(`sign-in of ${this.name} answered ${r.status} ${JSON.stringify(r.body)}`);
    this.token = String(r.body.token);
    this.id = String(r.body.player);
  }

  /** Types a line with a key of its own; the answer's result (202), or a problem recorded. */
  async type(text: string): Promise<Record<string, unknown>> {
    const r = await this.client.call('POST', '/api/input', { token: this.token, body: { text }, key: randomUUID() });
    this.lines.push({ text, status: r.status, result: r.body });
    if (r.status !== 202) this.problems.push(`${this.name}: line ${JSON.stringify(text)} answered ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** One long poll of the reader: new messages are appended; a message id seen before is a duplicate delivery. */
  async readOnce(waitSeconds: number): Promise<number> {
    const q = new URLSearchParams();
    if (this.cursor) q.set('after', this.cursor);
    q.set('wait', String(waitSeconds));
    const r = await this.client.call('GET', `/api/messages?${q}`, { token: this.token });
    if (r.status !== 200) {
      this.problems.push(`${this.name}: GET /api/messages answered ${r.status} ${JSON.stringify(r.body)}`);
      return 0;
    }
    const got = r.body.messages as Message[];
    for (const m of got) {
      if (this.seen.has(m.id)) this.duplicates.push(m);
      this.seen.add(m.id);
      this.messages.push({ id: m.id, text: m.text });
    }
    this.cursor = String(r.body.cursor);
    return got.length;
  }

  /** Reads until `stop()` (a long poll of 1 s at a time). */
  async readUntil(stop: () => boolean): Promise<void> {
    while (!stop()) await this.readOnce(1);
  }

  /** Waits (reading is the reader's job) for a message matching `test`; returns it. */
  waitForMessage(what: string, test: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
    return until(`${this.name} to read ${what}`, () => this.messages.find((m) => test(m.text))?.text, timeoutMs, 50);
  }

  count(test: (text: string) => boolean): number {
    return this.messages.filter((m) => test(m.text)).length;
  }

  /** Every message of the player, read from the start (no cursor), page by page. */
  async readAll(): Promise<Message[]> {
    const all: Message[] = [];
    let cursor: string | undefined;
    for (;;) {
      const q = cursor ? `?after=${encodeURIComponent(cursor)}` : '';
      const r = await this.client.call('GET', `/api/messages${q}`, { token: this.token });
      if (r.status !== 200) throw new Error(`${this.name}: reading from the start answered ${r.status} ${JSON.stringify(r.body)}`);
      const got = r.body.messages as Message[];
      all.push(...got.map((m) => ({ id: m.id, text: m.text })));
      cursor = String(r.body.cursor);
      if (got.length === 0) return all;
    }
  }
}

/** The texts a worker's reminder n makes. */
const fireDuration = (n: number): string => `${1000 + n}ms`;
const cancelDuration = (n: number): string => `${600 + n}s`;
const confirmation = (dur: string): string => `I will remind you in ${dur}`;

/**
 * A worker: until `stop()`, types a reminder that fires in about a second, `asynccommand`, and a long reminder it
 * then cancels (typed and over HTTP in turn), `paceMs` apart.
 */
export async function work(p: Player, stop: () => boolean, paceMs: number): Promise<void> {
  for (let n = 1; !stop(); n++) {
    await p.type(`remind ${fireDuration(n)} r-${p.name}-${n}`);
    p.fired.push(n);
    await sleep(paceMs);
    await p.type('asynccommand');
    p.asyncLines++;
    await sleep(paceMs);
    const dur = cancelDuration(n);
    await p.type(`remind ${dur} c-${p.name}-${n}`);
    const said = await p.waitForMessage(`the confirmation of reminder ${dur}`, (t) => t.startsWith(`${confirmation(dur)} (task `)).catch(async (err: Error) => {
      // Tell a message the reader missed from one never written.
      const stored = (await p.readAll()).find((m) => m.text.startsWith(`${confirmation(dur)} (task `));
      throw new Error(`${err.message}; ${stored ? `it is stored (${stored.id}) but the reader following along with its cursor never got it` : 'it was never written'}`);
    });
    const id = /\(task (\S+)\)\.$/.exec(said)?.[1] ?? '';
    if (n % 2 === 1) {
      // `tasks` asks first (an interactive command of its own); the answer `y` cancels.
      const typed = await p.type(`tasks ${id} cancel`);
      const prompt = await nextPrompt(p, `${p.name}'s question before cancelling ${id}`, (q) => q.question.startsWith(`Cancel task ${shortId(id)} `) && !p.confirmed.includes(q.promptId)).catch(
        async (err: Error) => {
          throw new Error(`${err.message}; ${await whyNoPrompt(p, typed)}`);
        },
      );
      p.commands.push(prompt.instanceId);
      const r = await p.type('y');
      if (r.kind !== 'answer' || r.promptId !== prompt.promptId) p.problems.push(`${p.name}: "y" to ${prompt.promptId} answered ${JSON.stringify(r)}`);
      p.confirmed.push(prompt.promptId);
      p.cancelled.push({ n, id, how: 'typed' });
    } else {
      const r = await p.client.call('POST', `/api/tasks/${encodeURIComponent(id)}/cancel`, { token: p.token });
      // A resent cancel whose first answer was lost finds the task finished (409): cancelled all the same.
      if (r.status !== 202 && !(r.status === 409 && (r.body.error as { code?: string })?.code === 'task_finished')) {
        p.problems.push(`${p.name}: cancel of ${id} answered ${r.status} ${JSON.stringify(r.body)}`);
      }
      p.cancelled.push({ n, id, how: 'http' });
    }
    await sleep(paceMs);
  }
}

/** What a timed-out wait for a question found: the line's answer, the open prompts, the command's status and history. */
async function whyNoPrompt(p: Player, typed: Record<string, unknown>): Promise<string> {
  const prompts = await p.client.call('GET', '/api/prompts', { token: p.token }).catch((e: Error) => ({ status: 0, body: { error: e.message } }));
  let status = '(no instance)';
  const base = p.client.target.url;
  if (typeof typed.instanceId === 'string' && base) {
    const res = await fetch(`${base}${MGMT}/instances/${encodeURIComponent(typed.instanceId)}?showHistory=true&showHistoryOutput=true`).catch(() => undefined);
    status = res ? `${res.status} ${(await res.text()).slice(0, 4000)}` : '(host down)';
  }
  return `the line answered ${JSON.stringify(typed)}; open prompts ${JSON.stringify(prompts.body)}; the command: ${status}; last lines ${JSON.stringify(p.lines.slice(-6))}`;
}

interface OpenPrompt {
  promptId: string;
  instanceId: string;
  question: string;
}

/** Polls GET /api/prompts until an open prompt matches. */
function nextPrompt(p: Player, what: string, test: (q: OpenPrompt) => boolean): Promise<OpenPrompt> {
  return until(
    what,
    async () => {
      const r = await p.client.call('GET', '/api/prompts', { token: p.token });
      return ((r.body.prompts ?? []) as OpenPrompt[]).find(test);
    },
    60_000,
    200,
  );
}

/** A task id as `tasks` shows it: the first 8 characters after `<player>.<kind>.`. */
const shortId = (id: string): string => id.split('.').slice(2).join('.').slice(0, 8);

/** A waiter: for each round list, runs `waitloop` and answers its questions in turn (e.g. [['yes', 'no'], ['no']]). */
export async function wait(p: Player, rounds: string[][]): Promise<void> {
  for (const answers of rounds) {
    const started = await p.type('waitloop');
    const instanceId = String(started.instanceId ?? '');
    p.commands.push(instanceId);
    for (const answer of answers) {
      const { promptId } = await nextPrompt(p, `${p.name}'s next question from ${instanceId}`, (q) => q.instanceId === instanceId && !p.answered.includes(q.promptId));
      const r = await p.type(answer);
      if (r.kind !== 'answer' || r.promptId !== promptId) p.problems.push(`${p.name}: ${JSON.stringify(answer)} to ${promptId} answered ${JSON.stringify(r)}`);
      p.answered.push(promptId);
    }
  }
}

/** Everything a worker's or waiter's messages must say, each exactly once or as counted; anything else is a problem. */
function expectations(p: Player): { ok: (text: string) => boolean; settled: () => boolean; check: () => string[] } {
  const rounds = p.answered.length;
  const patterns: RegExp[] = [
    /^I will remind you in \d+(ms|s) \(task \S+\)\.$/,
    /^Reminder: r-\S+$/,
    /^The final value is 500500$/,
    /^Cancel task \S+ \(remind, fires in .*\)\? \[Y\]\/N$/,
    /^Task \S+ (cancelled|completed while waiting for input)\.$/,
    /^Getting ready to wait \.\.\.$/,
    /^Now 5 seconds have passed\.$/,
    /^Do you want to wait another 5 secs\?$/,
  ];
  const is = (s: string) => (t: string) => t === s;
  return {
    ok: (text) => patterns.some((re) => re.test(text)),
    settled: () =>
      p.fired.every((n) => p.count(is(`Reminder: r-${p.name}-${n}`)) >= 1) &&
      p.count(is('The final value is 500500')) >= p.asyncLines &&
      p.cancelled.filter((c) => c.how === 'typed').every((c) => p.count((t) => t.startsWith(`Task ${shortId(c.id)} `)) >= 1) &&
      p.count(is('Now 5 seconds have passed.')) >= rounds,
    check: () => {
      const out: string[] = [];
      const once = (what: string, n: number, want = 1): void => {
        if (n !== want) out.push(`${p.name}: ${what} ${n} times, expected ${want}`);
      };
      for (const n of p.fired) {
        once(`confirmation of ${fireDuration(n)}`, p.count((t) => t.startsWith(`${confirmation(fireDuration(n))} (task `)));
        once(`"Reminder: r-${p.name}-${n}"`, p.count(is(`Reminder: r-${p.name}-${n}`)));
      }
      for (const c of p.cancelled) {
        once(`confirmation of ${cancelDuration(c.n)}`, p.count((t) => t.startsWith(`${confirmation(cancelDuration(c.n))} (task `)));
        once(`the cancelled "Reminder: c-${p.name}-${c.n}"`, p.count(is(`Reminder: c-${p.name}-${c.n}`)), 0);
        if (c.how === 'typed') {
          once(`the question before cancelling ${c.id}`, p.count((t) => t.startsWith(`Cancel task ${shortId(c.id)} `)));
          once(`the reply to "y" to cancel ${c.id}`, p.count((t) => t.startsWith(`Task ${shortId(c.id)} `)));
        }
      }
      once('"The final value is 500500"', p.count(is('The final value is 500500')), p.asyncLines);
      for (const text of ['Getting ready to wait ...', 'Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']) once(JSON.stringify(text), p.count(is(text)), rounds);
      const asked = [...p.answered, ...p.confirmed];
      if (new Set(asked).size !== asked.length) out.push(`${p.name}: a question was answered twice: ${asked.join(', ')}`);
      return out;
    },
  };
}

interface InstanceStatus {
  instanceId: string;
  name: string;
  runtimeStatus: string;
  output: unknown;
}

/** Every instance of the task hub, through the management API (all pages). */
export async function listInstances(c: Client): Promise<InstanceStatus[]> {
  const all: InstanceStatus[] = [];
  let token: string | undefined;
  for (;;) {
    const base = await until('the host to be up', () => c.target.url, 60_000, 50);
    const res = await fetch(`${base}${MGMT}/instances/?top=500`, { headers: token ? { 'x-ms-continuation-token': token } : {} });
    if (res.status !== 200) throw new Error(`listing instances answered ${res.status} ${await res.text()}`);
    all.push(...((await res.json()) as InstanceStatus[]));
    token = res.headers.get('x-ms-continuation-token') ?? undefined;
    if (!token) return all;
  }
}

/** What the checks counted, for the README's figures. */
export interface Figures {
  lines: number;
  messages: number;
  instances: number;
  resent: number;
  networkFailures: number;
  status503: number;
}

/**
 * Waits until every player's work has settled (reminders fired, jobs answered, no instance unfinished), then checks
 * the invariants and returns what is wrong (an empty list when nothing is) and the figures.
 */
export async function settleAndCheck(players: Player[], c: Client, settleMs: number): Promise<{ problems: string[]; figures: Figures }> {
  const problems: string[] = players.flatMap((p) => p.problems);
  const expected = new Map(players.map((p) => [p, expectations(p)]));
  let instances: InstanceStatus[] = [];
  try {
    await until(
      'every reminder, job and waitloop to finish and every instance to end',
      async () => {
        for (const p of players) await p.readOnce(0);
        if (!players.every((p) => expected.get(p)!.settled())) return undefined;
        instances = await listInstances(c);
        return instances.every((s) => FINAL.has(s.runtimeStatus)) ? true : undefined;
      },
      settleMs,
      250,
    );
  } catch (err) {
    instances = await listInstances(c).catch(() => instances);
    const stuck = instances.filter((s) => !FINAL.has(s.runtimeStatus)).map((s) => `${s.instanceId} (${s.name}) ${s.runtimeStatus}`);
    problems.push(`${(err as Error).message}; unfinished instances: ${stuck.join(', ') || 'none'}`);
  }
  await sleep(500); // anything a (wrong) second run would still write
  for (const p of players) while ((await p.readOnce(0)) > 0);

  let messages = 0;
  for (const p of players) {
    const e = expected.get(p)!;
    problems.push(...e.check());
    for (const d of p.duplicates) problems.push(`${p.name}: message ${d.id} ${JSON.stringify(d.text)} was delivered twice`);
    for (const m of p.messages) if (!e.ok(m.text)) problems.push(`${p.name}: unexpected message ${JSON.stringify(m.text)}`);
    // What a reader starting now gets is what the reader that followed along got: nothing lost, nothing extra.
    const all = await p.readAll();
    const ids = (ms: Message[]) => [...new Set(ms.map((m) => m.id))].sort();
    if (all.length !== new Set(all.map((m) => m.id)).size) problems.push(`${p.name}: reading from the start returned a message twice`);
    const missed = ids(all).filter((id) => !p.messages.some((m) => m.id === id));
    if (missed.length > 0) problems.push(`${p.name}: the reader with a cursor never got ${missed.length} messages: ${JSON.stringify(all.filter((m) => missed.includes(m.id)).map((m) => m.text))}`);
    if (ids(all).length !== ids(p.messages).length) problems.push(`${p.name}: ${ids(p.messages).length} messages read along, ${ids(all).length} from the start`);
    messages += all.length;

    // What ran: one instance per line that starts one, each finished as it should.
    const mine = (kind: string) => instances.filter((s) => s.instanceId.startsWith(`${p.id}.${kind}.`));
    const count = (what: string, got: number, want: number) => {
      if (got !== want) problems.push(`${p.name}: ${got} ${what}, expected ${want}`);
    };
    count('delay instances', mine('delay').length, p.fired.length + p.cancelled.length);
    count('runAsync instances', mine('async').length, p.asyncLines);
    count('command instances', mine('cmd').length, p.commands.length);
    for (const s of [...mine('delay'), ...mine('async'), ...mine('cmd')]) {
      if (s.runtimeStatus !== 'Completed') problems.push(`${p.name}: instance ${s.instanceId} (${s.name}) is ${s.runtimeStatus}: ${JSON.stringify(s.output)}`);
    }
    for (const c2 of p.cancelled) {
      const s = instances.find((i) => i.instanceId === c2.id);
      if ((s?.output as { state?: string } | undefined)?.state !== 'cancelled') problems.push(`${p.name}: cancelled task ${c2.id} ended ${JSON.stringify(s?.output)}`);
    }
    const prompts = await c.call('GET', '/api/prompts', { token: p.token });
    if (((prompts.body.prompts as unknown[]) ?? []).length > 0) problems.push(`${p.name}: prompts still open: ${JSON.stringify(prompts.body.prompts)}`);
  }
  const ex = c.exchanges;
  const figures: Figures = {
    lines: players.reduce((n, p) => n + p.lines.length, 0),
    messages,
    instances: instances.length,
    resent: ex.filter((e) => e.status === 0 || e.status === 503 || e.status === 429 || e.code === 'request_in_progress').length,
    networkFailures: ex.filter((e) => e.status === 0).length,
    status503: ex.filter((e) => e.status === 503).length,
  };
  return { problems, figures };
}

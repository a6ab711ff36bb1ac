// Test harness for the game's end-to-end tests: starts the function app on the devhost (virtual clock) with the
// game's tables on the test run's Azurite, and drives it as a player would, over HTTP.
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { startTestHost, type TestHost } from '../../devhost';

export const APP_DIR = path.resolve(__dirname, '../..');
export const SECRET = 'test-secret-0123456789abcdef0123456789';
/** GAME_OPERATOR_KEY of the test hosts (operator routes: test/game/operators.test.ts). */
export const OPERATOR_KEY = 'test-operator-key-0123456789abcdef0123456789';

/**
 * Starts the app with dev commands on, a private table prefix and the given extra settings. `autoSkip` jumps the
 * virtual clock to each next timer when idle (for tests that drive the app only over HTTP); a `port` and `taskHub`
 * of an earlier host (with the same GAME_TABLE_PREFIX in env) start it again where that one stopped.
 */
export async function startGame(env: Record<string, string> = {}, opts: { storage?: 'memory' | 'table'; autoSkip?: boolean; port?: number; taskHub?: string } = {}): Promise<TestHost> {
  const storage = process.env.AzureWebJobsStorage;
  if (!storage) throw new Error('AzureWebJobsStorage is not set: run through vitest (its global setup starts Azurite).');
  return startTestHost({
    appDir: APP_DIR,
    storage: opts.storage ?? 'memory',
    clock: 'virtual',
    autoSkip: opts.autoSkip,
    port: opts.port,
    taskHub: opts.taskHub,
    env: {
      AzureWebJobsStorage: storage,
      GAME_TOKEN_SECRET: SECRET,
      GAME_OPERATOR_KEY: OPERATOR_KEY,
      GAME_DEV_COMMANDS: '1',
      GAME_PASSWORD_COST: '10', // scrypt N=2^10: the default 2^17 takes half a second and 128 MiB per sign-up
      GAME_SIGNUPS_PER_HOUR: '10000', // every test player signs up from 127.0.0.1; test/game/accounts.test.ts tests the limit
      GAME_TABLE_PREFIX: `t${randomUUID().replace(/-/g, '').slice(0, 12)}`,
      ...env,
    },
  });
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** A player talking to the game over HTTP. */
export class Player {
  token = '';
  player = '';
  private cursor: string | undefined;

  constructor(
    readonly host: TestHost,
    readonly name: string,
    readonly password = 'pw-' + name,
  ) {}

  static async join(host: TestHost, name: string): Promise<Player> {
    const p = new Player(host, name);
    const r = await p.signIn();
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return p;
  }

  async signIn(password = this.password): Promise<Reply> {
    const r = await call(this.host, 'POST', '/api/sessions', { name: this.name, password });
    if (r.status < 300) {
      this.token = String(r.body.token);
      this.player = String(r.body.player);
    }
    return r;
  }

  /** Sends a typed line; returns the raw reply. */
  async send(text: string): Promise<Reply> {
    return call(this.host, 'POST', '/api/input', { text }, this.token);
  }

  /** Sends a line and expects 202; returns the body. */
  async type(text: string): Promise<Record<string, unknown>> {
    const r = await this.send(text);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    return r.body;
  }

  get(pathname: string): Promise<Reply> {
    return call(this.host, 'GET', pathname, undefined, this.token);
  }

  post(pathname: string, body?: unknown): Promise<Reply> {
    return call(this.host, 'POST', pathname, body, this.token);
  }

  /** Messages that arrived since the last read (texts, oldest first). */
  async read(): Promise<string[]> {
    const r = await this.get(`/api/messages${this.cursor ? `?after=${encodeURIComponent(this.cursor)}` : ''}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    this.cursor = String(r.body.cursor);
    return (r.body.messages as { text: string }[]).map((m) => m.text);
  }
}

/** One JSON request. */
export async function call(host: TestHost, method: string, pathname: string, body?: unknown, token?: string, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (token) (init.headers as Record<string, string>).authorization = `Bearer ${token}`;
  if (body !== undefined) {
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await host.fetch(pathname, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

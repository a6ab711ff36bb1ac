// The token secret cannot leak: the app refuses a missing (on Azure), short or published GAME_TOKEN_SECRET at start-up,
// naming the setting; a fresh clone's devhost makes its own random secret once, and a token forged with the example
// file's value reads nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import { APP_DIR, Player, call, startGame } from './harness';

const EXAMPLE = JSON.parse(fs.readFileSync(path.join(APP_DIR, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> };
const OLD_EXAMPLE_SECRET = 'local-dev-secret-change-me-0123456789';

const saved = { ...process.env };
let host: TestHost | undefined;
afterEach(async () => {
  await host?.dispose();
  host = undefined;
  for (const key of ['WEBSITE_INSTANCE_ID', 'GAME_TOKEN_SECRET']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

function sign(sub: string, secret: string): string {
  const iat = Math.floor(Date.now() / 1000);
  const body = Buffer.from(JSON.stringify({ sub, iat, exp: iat + 3600 })).toString('base64url');
  return `v1.${body}.${createHmac('sha256', secret).update(`v1.${body}`).digest('base64url')}`;
}

describe('start-up refuses a secret that could leak', () => {
  it('the example file holds a placeholder, not a secret', () => {
    expect(EXAMPLE.Values.GAME_TOKEN_SECRET).toBe('<random-secret>');
  });

  it.each([
    ['locally', {}],
    ['on Azure', { WEBSITE_INSTANCE_ID: 'instance-1', GAME_PASSWORD_COST: '17' }],
  ])('%s: the example file value, the value it shipped before, and a secret under 32 bytes stop the app, naming the setting', async (_where, azure) => {
    await expect(startGame({ ...azure, GAME_TOKEN_SECRET: EXAMPLE.Values.GAME_TOKEN_SECRET })).rejects.toThrow(/GAME_TOKEN_SECRET is the placeholder "<random-secret>" from local\.settings\.example\.json/);
    await expect(startGame({ ...azure, GAME_TOKEN_SECRET: OLD_EXAMPLE_SECRET })).rejects.toThrow(/GAME_TOKEN_SECRET is the value .* anyone can read it there/);
    await expect(startGame({ ...azure, GAME_TOKEN_SECRET: 'x'.repeat(31) })).rejects.toThrow(/GAME_TOKEN_SECRET is only 31 bytes; use at least 32 random bytes/);
    host = await startGame({ ...azure, GAME_TOKEN_SECRET: 'x'.repeat(32) });
    expect((await Player.join(host, 'ok32')).token).not.toBe('');
  });

  it('on Azure the refusal says how to set a random secret there', async () => {
    await expect(startGame({ WEBSITE_INSTANCE_ID: 'instance-1', GAME_PASSWORD_COST: '17', GAME_TOKEN_SECRET: '<random-secret>' })).rejects.toThrow(/az functionapp config appsettings set --settings GAME_TOKEN_SECRET=/);
  });
});

// A fresh clone: the repository's files, no local.settings.json, `devhost` started as npm start starts it.
const clones = fs.mkdtempSync(path.join(os.tmpdir(), 'fresh-clone-'));
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  fs.rmSync(clones, { recursive: true, force: true });
});

async function startDevhost(dir: string, prefix: string): Promise<{ url: string; stop: () => Promise<void>; output: () => string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, GAME_TABLE_PREFIX: prefix, GAME_DEV_COMMANDS: '1' };
  delete env.GAME_TOKEN_SECRET;
  delete env.WEBSITE_INSTANCE_ID;
  const child = spawn(process.execPath, [path.join(APP_DIR, 'dist/devhost/cli.js'), dir, '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const look = (): void => {
      const m = /Management API: (http:\/\/\S+?)\/runtime\/[\s\S]*Host started/.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', look);
    void exited.then(() => reject(new Error(`devhost exited before it started. Output:\n${out}`)));
  });
  return {
    url,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      running.delete(child);
    },
  };
}

function remote(url: string): TestHost {
  return { fetch: (p: string, init?: RequestInit) => fetch(url + p, init) } as unknown as TestHost;
}

it.skipIf(process.platform === 'win32')(
  "a fresh clone's devhost signs with its own random secret, kept across restarts; tokens forged with the example file's value read nothing",
  async () => {
    const dir = path.join(clones, 'game');
    fs.mkdirSync(dir);
    for (const f of ['package.json', 'host.json', 'local.settings.example.json', '.gitignore']) fs.copyFileSync(path.join(APP_DIR, f), path.join(dir, f));
    for (const d of ['dist', 'node_modules']) fs.symlinkSync(path.join(APP_DIR, d), path.join(dir, d), 'dir');
    const prefix = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;

    const first = await startDevhost(dir, prefix);
    let token: string;
    try {
      expect(first.output()).toMatch(/Created local\.settings\.json from local\.settings\.example\.json with a random GAME_TOKEN_SECRET/);
      const secret = (JSON.parse(fs.readFileSync(path.join(dir, 'local.settings.json'), 'utf8')) as { Values: Record<string, string> }).Values.GAME_TOKEN_SECRET;
      expect(Buffer.from(secret, 'base64url')).toHaveLength(32);

      const victim = await Player.join(remote(first.url), 'victim');
      await victim.type('echo my secret plans');
      for (const forged of [EXAMPLE.Values.GAME_TOKEN_SECRET, OLD_EXAMPLE_SECRET]) {
        for (const [method, route, body] of [['GET', '/api/messages'], ['GET', '/api/tasks'], ['POST', '/api/input', { text: 'echo typed by someone else' }]] as const) {
          const r = await call(remote(first.url), method, route, body, sign('victim', forged));
          expect(r, `${method} ${route}`).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
        }
      }
      // The clone's own secret is the one in use: a token signed with it reads the victim's messages.
      token = sign('victim', secret);
      const own = await call(remote(first.url), 'GET', '/api/messages', undefined, token);
      expect((own.body.messages as { text: string }[]).map((m) => m.text)).toEqual(['my secret plans']);
    } finally {
      await first.stop();
    }

    const second = await startDevhost(dir, prefix);
    try {
      expect(second.output()).not.toMatch(/Created local\.settings\.json/);
      expect((await call(remote(second.url), 'GET', '/api/messages', undefined, token)).status).toBe(200);
    } finally {
      await second.stop();
    }
  },
  60_000,
);

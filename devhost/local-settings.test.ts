// devhost's per-clone secrets: a fresh clone gets local.settings.json with its own random value for every
// `<random-secret>` of the example file, once; nothing else in the file is changed, and nothing is written when the
// environment already sets those values.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareLocalSettings, RANDOM_SECRET_PLACEHOLDER } from './local-settings';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'local-settings-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const example = {
  IsEncrypted: false,
  Values: { FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: 'UseDevelopmentStorage=true', GAME_TOKEN_SECRET: RANDOM_SECRET_PLACEHOLDER, OTHER_SECRET: RANDOM_SECRET_PLACEHOLDER },
  Host: { LocalHttpPort: 7071 },
};

let n = 0;
function clone(files: Record<string, unknown> = { 'local.settings.example.json': example }): string {
  const dir = path.join(root, `clone${n++}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return dir;
}
const readSettings = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'local.settings.json'), 'utf8')) as typeof example;

describe('prepareLocalSettings', () => {
  it('creates local.settings.json on a fresh clone with a random 32-byte secret per placeholder, readable by its owner only', () => {
    const dir = clone();
    const said: string[] = [];
    expect(prepareLocalSettings(dir, {}, (m) => said.push(m))).toEqual(['GAME_TOKEN_SECRET', 'OTHER_SECRET']);
    const made = readSettings(dir);
    for (const key of ['GAME_TOKEN_SECRET', 'OTHER_SECRET'] as const) {
      expect(made.Values[key]).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(made.Values[key], 'base64url')).toHaveLength(32);
    }
    expect(made.Values.GAME_TOKEN_SECRET).not.toBe(made.Values.OTHER_SECRET);
    expect(made).toMatchObject({ IsEncrypted: false, Host: { LocalHttpPort: 7071 }, Values: { FUNCTIONS_WORKER_RUNTIME: 'node', AzureWebJobsStorage: 'UseDevelopmentStorage=true' } });
    if (process.platform !== 'win32') expect(fs.statSync(path.join(dir, 'local.settings.json')).mode & 0o777).toBe(0o600);
    expect(said.join('\n')).toMatch(/Created local\.settings\.json from local\.settings\.example\.json with a random GAME_TOKEN_SECRET, OTHER_SECRET/);
  });

  it('once per clone: a later start keeps the secret; another clone gets another one', () => {
    const a = clone();
    const b = clone();
    prepareLocalSettings(a, {}, () => undefined);
    prepareLocalSettings(b, {}, () => undefined);
    const first = fs.readFileSync(path.join(a, 'local.settings.json'), 'utf8');
    expect(prepareLocalSettings(a, {}, () => undefined)).toEqual([]);
    expect(fs.readFileSync(path.join(a, 'local.settings.json'), 'utf8')).toBe(first);
    expect(readSettings(a).Values.GAME_TOKEN_SECRET).not.toBe(readSettings(b).Values.GAME_TOKEN_SECRET);
  });

  it('fills placeholders left in a local.settings.json copied by hand, and touches nothing else', () => {
    const dir = clone({ 'local.settings.json': { ...example, Values: { ...example.Values, OTHER_SECRET: 'mine' } } });
    expect(prepareLocalSettings(dir, {}, () => undefined)).toEqual(['GAME_TOKEN_SECRET']);
    expect(readSettings(dir).Values).toMatchObject({ OTHER_SECRET: 'mine', AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(readSettings(dir).Values.GAME_TOKEN_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('writes nothing when the environment sets every placeholder setting (tests, CI)', () => {
    const dir = clone();
    expect(prepareLocalSettings(dir, { GAME_TOKEN_SECRET: 'x'.repeat(40), OTHER_SECRET: 'y' }, () => undefined)).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'local.settings.json'))).toBe(false);
  });

  it('warns when the app folder has a .gitignore that would let the file into the repository', () => {
    const said: string[] = [];
    prepareLocalSettings(clone({ 'local.settings.example.json': example, '.gitignore': 'node_modules/\n' }), {}, (m) => said.push(m));
    expect(said.join('\n')).toMatch(/\.gitignore does not list local\.settings\.json/);
    const quiet: string[] = [];
    prepareLocalSettings(clone({ 'local.settings.example.json': example, '.gitignore': 'node_modules/\nlocal.settings.json\n' }), {}, (m) => quiet.push(m));
    expect(quiet.join('\n')).not.toMatch(/\.gitignore/);
  });
});

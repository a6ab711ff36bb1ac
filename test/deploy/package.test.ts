// npm run package: the zip holds exactly what the Functions host needs (compiled app, host.json, package.json,
// production node_modules, the web client), stays under 25 MB, and runs: unpacked into a temporary folder, devhost
// starts on it with the run's Azurite and a player plays the seed's testdelay and waitloop over HTTP. On a tree that
// is dirty or not built, the script stops with one line saying what to do.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../../devhost';
import { Player, SECRET } from '../game/harness';

const ROOT = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { packageApp } = require('../../scripts/package.js') as typeof import('../../scripts/package.js');
const MB = 1024 * 1024;

describe('the deployment package', () => {
  let work: string;
  let result: ReturnType<typeof packageApp>;
  let unpacked: string;
  let host: TestHost;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'mud-package-'));
    // The run's own work tree may hold uncommitted changes while developing; the dirty check has its own test below.
    result = packageApp({ root: ROOT, outDir: path.join(work, 'out'), allowDirty: true });
    unpacked = path.join(work, 'unpacked');
    for (const [name, data] of Object.entries(unzipSync(fs.readFileSync(result.zip)))) {
      if (name.endsWith('/')) continue;
      fs.mkdirSync(path.dirname(path.join(unpacked, name)), { recursive: true });
      fs.writeFileSync(path.join(unpacked, name), data);
    }
    host = await startTestHost({
      appDir: unpacked,
      storage: 'table',
      clock: 'virtual',
      env: { AzureWebJobsStorage: process.env.AzureWebJobsStorage!, GAME_TOKEN_SECRET: SECRET, GAME_TABLE_PREFIX: `pkg${Date.now().toString(36)}` },
    });
  }, 120_000);
  afterAll(async () => {
    await host?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it(`is a zip under 25 MB holding only the compiled app, host.json, package.json, the web client and production node_modules`, () => {
    expect(result.zipBytes).toBe(fs.statSync(result.zip).size);
    expect(result.zipBytes).toBeLessThan(25 * MB);
    expect(fs.readdirSync(unpacked).sort()).toEqual(['dist', 'host.json', 'node_modules', 'package.json', 'web']);
    expect(fs.readdirSync(path.join(unpacked, 'dist')).sort()).toEqual(['core', 'functions', 'game', 'orchestrations', 'platform']);
    expect(fs.readFileSync(path.join(unpacked, 'host.json'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'host.json'), 'utf8'));
    expect(fs.existsSync(path.join(unpacked, 'web/index.html'))).toBe(true);
    const all = listFiles(unpacked);
    expect(all.filter((f) => /\.(ts|map)$/.test(f) && !f.startsWith('node_modules/'))).toEqual([]);
    expect(all.filter((f) => /(^|\/)(\.azurite|local\.settings[^/]*\.json|\.env)$/.test(f) || f.startsWith('.'))).toEqual([]);
    const pkg = JSON.parse(fs.readFileSync(path.join(unpacked, 'package.json'), 'utf8')) as Record<string, unknown>;
    const source = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    expect(pkg).toMatchObject({ main: source.main, dependencies: source.dependencies });
    expect(pkg.devDependencies).toBeUndefined();
    expect(pkg.scripts).toBeUndefined();
    for (const dependency of Object.keys(source.dependencies)) expect(fs.existsSync(path.join(unpacked, 'node_modules', dependency, 'package.json')), dependency).toBe(true);
    for (const dev of Object.keys(source.devDependencies)) expect(fs.existsSync(path.join(unpacked, 'node_modules', dev)), `${dev} is a dev dependency`).toBe(false);
  });

  it('runs: devhost on the unpacked package with Azurite plays testdelay over HTTP', async () => {
    const p = await Player.join(host, 'pkgdelayer');
    expect(await p.type('testdelay')).toMatchObject({ kind: 'command', command: 'testdelay', ok: true });
    await host.advance('9s');
    expect(await p.read()).toEqual([]);
    await host.advance('1s');
    expect(await p.read()).toEqual(['Test!']);
  });

  it('runs: waitloop asks, loops on yes and ends on no', async () => {
    const p = await Player.join(host, 'pkgwaiter');
    const started = await p.type('waitloop');
    await host.idle();
    expect(await p.read()).toEqual(['Getting ready to wait ...']);
    await host.advance('5s');
    expect(await p.read()).toEqual(['Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    expect(await p.type('yes')).toMatchObject({ kind: 'answer' });
    await host.advance('5s');
    expect(await p.read()).toEqual(['Getting ready to wait ...', 'Now 5 seconds have passed.', 'Do you want to wait another 5 secs?']);
    await p.type('no');
    expect((await host.waitFor(String(started.instanceId))).runtimeStatus).toBe('Completed');
  });

  it('the web client is served from the package', async () => {
    const res = await host.fetch('/api/play');
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/<html/i);
  });
});

describe('npm run package on a tree it must not package', () => {
  let tree: string;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: tree, stdio: 'pipe' });
  /** Runs the script as `npm run package` does, in a small app tree of its own. */
  const runPackage = () => spawnSync(process.execPath, [path.join(tree, 'scripts/package.js')], { cwd: tree, encoding: 'utf8' });

  beforeAll(() => {
    tree = fs.mkdtempSync(path.join(os.tmpdir(), 'mud-tree-'));
    fs.mkdirSync(path.join(tree, 'scripts'));
    fs.copyFileSync(path.join(ROOT, 'scripts/package.js'), path.join(tree, 'scripts/package.js'));
    fs.mkdirSync(path.join(tree, 'functions'));
    fs.writeFileSync(path.join(tree, 'functions/hello.ts'), 'export const hello = 1;\n');
    fs.writeFileSync(path.join(tree, 'host.json'), '{ "version": "2.0" }\n');
    fs.writeFileSync(path.join(tree, 'package.json'), JSON.stringify({ name: 'tree', version: '1.0.0', main: 'dist/functions/*.js' }));
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'tree');
  });
  afterAll(() => fs.rmSync(tree, { recursive: true, force: true }));

  it('unbuilt: fails naming the missing output and `npm run build`', () => {
    const run = runPackage();
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('npm run package: dist/functions/hello.js is missing: the app is not built. Run `npm run build` first.');
  });

  it('built before the last change to a source: fails as out of date', () => {
    fs.mkdirSync(path.join(tree, 'dist/functions'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'dist/functions/hello.js'), 'exports.hello = 1;\n');
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(tree, 'dist/functions/hello.js'), old, old);
    const run = runPackage();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^npm run package: dist\/functions\/hello\.js is older than functions\/hello\.ts: the build is out of date\. Run `npm run build` first\.\n$/);
  });

  it('with compiled output whose source is gone: fails, since the worker would still load it', () => {
    fs.writeFileSync(path.join(tree, 'dist/functions/hello.js'), 'exports.hello = 1;\n');
    fs.writeFileSync(path.join(tree, 'dist/functions/removed.js'), 'exports.removed = 1;\n');
    const run = runPackage();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/dist\/functions\/removed\.js has no source \(functions\/removed\.ts was removed\?\)/);
    fs.rmSync(path.join(tree, 'dist/functions/removed.js'));
  });

  it('dirty: fails naming the uncommitted files and how to proceed', () => {
    fs.writeFileSync(path.join(tree, 'functions/hello.ts'), 'export const hello = 2;\n');
    fs.writeFileSync(path.join(tree, 'functions/new.ts'), 'export const added = 1;\n');
    const run = runPackage();
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^npm run package: The work tree has uncommitted changes to what the package is built from \(functions\/hello\.ts, functions\/new\.ts\): commit or stash them.*--allow-dirty/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });
});

function listFiles(dir: string, base = dir): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name)).split(path.sep).join('/')]));
}

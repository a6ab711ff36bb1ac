// .funcignore, for a Core Tools publish from the project root: local data (Azurite's tables hold password hashes),
// local settings, tests, the terminal client, infra and packaging output stay out; what a remote build compiles (TypeScript sources,
// tsconfig.json, the lockfile) goes up; and every line names something that exists here (no stale names).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const patterns = fs
  .readFileSync(path.join(ROOT, '.funcignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

/** gitignore-style: a pattern without "/" matches a path segment at any depth, one with "/" the path from the root. */
function matcher(pattern: string): (file: string) => boolean {
  const body = pattern.replace(/\/$/, '');
  const re = new RegExp(`^${body.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return (file) => {
    const segments = file.split('/');
    if (body.includes('/')) return segments.some((_, i) => re.test(segments.slice(0, i + 1).join('/')));
    return segments.some((s) => re.test(s));
  };
}
const ignored = (file: string) => patterns.some((p) => matcher(p)(file));

/** Files in the repository plus what running it locally leaves behind. */
const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
const localArtifacts = [
  '.azurite/__azurite_db_table__.json',
  '.azurite/__blobstorage__/x',
  '__azurite_db_table__.json',
  '__blobstorage__/x',
  '__queuestorage__/x',
  '__tablestorage__/x',
  'AzuriteConfig',
  '.vscode/settings.json',
  'local.settings.json',
  '.package/app/host.json',
  '.package/evennia-durable.zip',
  '.azure/dev/.env',
  'coverage/index.html',
  'dist/functions/sessions.js.map',
  'dist/devhost/cli.js',
  'dist/test/x.js',
  'dist/bench/run.js',
  'dist/client/terminal.js',
];

describe('.funcignore', () => {
  it('keeps out local data, local settings, tests, tooling, infra and packaging output', () => {
    for (const file of localArtifacts) expect(ignored(file), file).toBe(true);
    for (const file of ['local.settings.example.json', 'vitest.config.mts', 'eslint.config.mjs', 'test/game/seed.test.ts', 'devhost/cli.ts', 'bench/run.ts', 'client/terminal.ts', 'infra/main.bicep', 'azure.yaml', 'scripts/package.js', '.ci/run', '.github/workflows/ci.yml']) {
      expect(ignored(file), file).toBe(true);
    }
  });

  it('uploads what the host runs and what a remote build compiles', () => {
    const needed = ['host.json', 'package.json', 'package-lock.json', 'tsconfig.json', 'web/index.html', 'dist/functions/sessions.js', 'node_modules/durable-functions/package.json'];
    for (const file of needed) expect(ignored(file), file).toBe(false);
    const sources = tracked.filter((f) => /^(core|functions|game|orchestrations|platform)\/.*\.ts$/.test(f) && !f.endsWith('.test.ts'));
    expect(sources.length).toBeGreaterThan(20);
    for (const file of sources) expect(ignored(file), file).toBe(false);
  });

  it('every line matches a file of the repository or something a local run leaves behind', () => {
    for (const p of patterns) expect([...tracked, ...localArtifacts].some(matcher(p)), `.funcignore line "${p}" matches nothing`).toBe(true);
  });
});

// Apps the host refuses at start-up, each with a message naming the file or the pattern: package.json "main"
// problems. The apps are written to temporary folders (their node_modules a link to this repo's), so every case
// is one small app.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestHost } from '../../devhost';

const made: string[] = [];
const REPO_MODULES = path.resolve(__dirname, '../../node_modules');

/** A Functions app in a fresh temporary folder: package.json (a string is written as is) and files. */
function tmpApp(pkg: Record<string, unknown> | string, files: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devhost-app-'));
  made.push(dir);
  fs.symlinkSync(REPO_MODULES, path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), typeof pkg === 'string' ? pkg : JSON.stringify(pkg));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const start = (appDir: string) => startTestHost({ appDir });

afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

describe('package.json "main"', () => {
  it('a brace set with a wildcard matching nothing: the worker\'s message, naming the pattern', async () => {
    const dir = tmpApp({ main: 'dist/src/{index.js,functions/*.js}' });
    await expect(start(dir)).rejects.toThrow('Worker was unable to load entry point "dist/src/{index.js,functions/*.js}": Found zero files matching the supplied pattern');
  });

  it('no "main", or a package.json that is not JSON: the file is named', async () => {
    await expect(start(tmpApp({ name: 'x' }))).rejects.toThrow(/package\.json has no "main": the Functions worker would load no file/);
    await expect(start(tmpApp('{ "main": "index.js", }'))).rejects.toThrow(/package\.json is not valid JSON/);
  });

  it('a file that fails to load is named', async () => {
    const dir = tmpApp({ main: 'lib/*.js' }, { 'lib/bad.js': 'throw new Error("boom at load")' });
    await expect(start(dir)).rejects.toThrow('Worker was unable to load entry point "lib/bad.js": boom at load');
  });
});

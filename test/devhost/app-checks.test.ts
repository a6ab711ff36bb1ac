// Apps the host refuses at start-up, each with a message naming the file, the function, the route or the setting:
// package.json "main" problems, and routes the Functions host cannot use. The apps are written to temporary folders
// (their node_modules a link to this repo's), so every case is one small app.
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

/** An app whose index.js registers GET functions with these routes ({ name: route }). */
function appWithRoutes(routes: Record<string, string>): string {
  const lines = Object.entries(routes).map(([name, route]) => `app.http(${JSON.stringify(name)}, { route: ${JSON.stringify(route)}, methods: ['GET'], handler: async () => ({ body: 'ok' }) });`);
  return tmpApp({ main: 'index.js' }, { 'index.js': `const { app } = require('@azure/functions');\n${lines.join('\n')}\n` });
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

describe('routes the Functions host cannot use', () => {
  it('an unknown constraint names the function, the route and the constraint', async () => {
    await expect(start(appWithRoutes({ item: 'items/{id:number}' }))).rejects.toThrow(
      "HTTP function 'item' has the route 'items/{id:number}', which the Functions host cannot use: the constraint 'number' on 'id': 'number' is not a constraint the Functions host knows",
    );
  });

  it('bad constraint arguments and regexes JavaScript cannot run the .NET way are refused, not ignored', async () => {
    await expect(start(appWithRoutes({ item: 'items/{id:length(5,1)}' }))).rejects.toThrow('minLength (5) must be less than or equal to maxLength (1)');
    await expect(start(appWithRoutes({ item: 'items/{id:regex((?i)abc)}' }))).rejects.toThrow("the pattern '(?i)abc' cannot be used: it uses inline options");
  });

  it('template errors carry ASP.NET Core\'s reason; segments mixing literals and parameters are refused', async () => {
    await expect(start(appWithRoutes({ item: 'items/{id' }))).rejects.toThrow("Check that each '{' character has a matching '}' character");
    await expect(start(appWithRoutes({ file: 'files/{name}.{ext}' }))).rejects.toThrow("'{name}.{ext}', which mixes literals and parameters");
  });

  it('two functions on one route with a method in common, and routes in the host\'s own space', async () => {
    await expect(start(appWithRoutes({ one: 'same/{x}', two: 'Same/{x}/' }))).rejects.toThrow("HTTP function 'two' has the route 'Same/{x}/', which the Functions host cannot use: The route specified conflicts with the route defined by function 'one'.");
    await expect(start(appWithRoutes({ panel: 'admin/panel' }))).rejects.toThrow('conflicts with one or more built in routes');
  });
});

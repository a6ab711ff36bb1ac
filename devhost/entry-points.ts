// Which files an app's package.json "main" names, found the way the Functions Node worker finds them:
// `globby(main, { cwd: appDir })` (worker src/startApp.ts, globby 11 as in its package.json), in globby's order.
import fs from 'node:fs';
import path from 'node:path';
import globby from 'globby';
import { HostError, messageOf } from './errors';

/** The fields of package.json the worker reads (src/parsers/parsePackageJson.ts). */
export interface AppPackageJson {
  main?: string;
  type?: string;
}

/**
 * Read an app's package.json. Unlike the worker, which warns and carries on with no "main" (so the app has no
 * functions), a missing or unreadable file, or no string "main", stops the start: locally that is always a mistake.
 * @example const pkg = readPackageJson('/app'); // { main: 'dist/src/{index.js,functions/*.js}' }
 */
export function readPackageJson(dir: string): AppPackageJson & { main: string } {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) throw new HostError('Registration', `No package.json in '${dir}': point the host at a Functions app folder.`);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new HostError('Registration', `${file} is not valid JSON: ${messageOf(err)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new HostError('Registration', `${file} does not hold a JSON object.`);
  const { main, type } = data as Record<string, unknown>;
  if (typeof main !== 'string' || main.trim() === '') {
    throw new HostError(
      'Registration',
      `${file} has no "main": the Functions worker would load no file, so the app would have no functions. Set "main" to the built entry file or a glob, e.g. "dist/src/{index.js,functions/*.js}".`,
    );
  }
  return { main, type: typeof type === 'string' ? type : undefined };
}

/**
 * The files `main` matches under `dir`, absolute, in the order the worker loads them. A pattern that matches
 * nothing is the worker's blocking start-up error on Node 20+, with its message.
 * @example await findEntryPoints('/app', 'dist/src/{index.js,functions/*.js}') // ['/app/dist/src/index.js', ...]
 */
export async function findEntryPoints(dir: string, main: string): Promise<string[]> {
  let files: string[];
  try {
    files = await globby(main, { cwd: dir });
  } catch (err) {
    throw new HostError('Registration', `Worker was unable to load entry point "${main}": ${messageOf(err)} (package.json "main" in '${dir}').`);
  }
  if (files.length === 0) {
    // The worker's wording (src/startApp.ts), so a search for the message finds Microsoft's docs too.
    const reason = globby.hasMagic(main, { cwd: dir }) ? 'Found zero files matching the supplied pattern' : 'File does not exist';
    throw new HostError('Registration', `Worker was unable to load entry point "${main}": ${reason} (package.json "main", looked up in '${dir}'). Build the app first (npm run build), or fix "main".`);
  }
  return files.map((f) => path.join(dir, f));
}

/**
 * Whether the worker loads `file` as an ES module (src/loadScriptFile.ts: .mjs yes, .cjs no, else package.json "type").
 * @example isEsModule('/app/index.js', { type: 'module' }) // true
 */
export function isEsModule(file: string, pkg: AppPackageJson): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  return pkg.type === 'module';
}

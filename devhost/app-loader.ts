// Loads a Functions app the way the Node worker does: the files package.json "main" names (entry-points.ts),
// require() for CommonJS, import() for ESM, then the appStart hooks, then registration is locked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { installCoreModule, SystemLogSink, withRegistrationTarget } from './core-module';
import { findEntryPoints, isEsModule, readPackageJson } from './entry-points';
import { HostError, messageOf } from './errors';
import { HostJson, readHostJson } from './host-json';

export type { HostJson } from './host-json';
import { Registry } from './registry';

/** The `@azure/functions` module the app loaded (its classes build requests and contexts). */
export interface AzureFunctionsModule {
  HttpRequest: new (init: Record<string, unknown>) => unknown;
  HttpResponse: new (init?: unknown) => unknown;
  InvocationContext: new (init: Record<string, unknown>) => unknown;
}

export interface LoadedApp {
  appDir: string;
  registry: Registry;
  af: AzureFunctionsModule;
  /** Resolve and load a module from the app's folder (its node_modules). */
  appRequire: NodeRequire;
  appHookData: Record<string, unknown>;
  appLevelHookData: Record<string, unknown>;
  hostJson: HostJson;
  files: string[];
}


// Native dynamic import, out of reach of test runners that rewrite or sandbox import() calls: a
// one-line CommonJS helper loaded with Node's own require.
let nativeImportFn: ((u: string) => Promise<unknown>) | undefined;
function nativeImport(u: string): Promise<unknown> {
  if (!nativeImportFn) {
    const file = path.join(os.tmpdir(), `devhost-native-import-${process.pid}.cjs`);
    fs.writeFileSync(file, 'module.exports = (u) => import(u);\n');
    nativeImportFn = createRequire(file)(file) as (u: string) => Promise<unknown>;
  }
  return nativeImportFn(u);
}
let loadCount = 0;

/**
 * Load the app in `appDir`, capturing its registrations.
 * @example const app = await loadApp('/path/to/app', (lvl, cat, msg) => console.log(msg));
 */
export async function loadApp(appDir: string, log: SystemLogSink): Promise<LoadedApp> {
  installCoreModule();
  const dir = path.resolve(appDir);
  const pkgPath = path.join(dir, 'package.json');
  const pkg = readPackageJson(dir);
  const files = await findEntryPoints(dir, pkg.main);
  const hostJson = readHostJson(dir);
  const appRequire = createRequire(pkgPath);
  const registry = new Registry();
  const appHookData: Record<string, unknown> = {};
  // The worker shares one hookData object between appStart and appTerminate ("app-level only").
  const appLevelHookData: Record<string, unknown> = {};

  await withRegistrationTarget(registry, log, async () => {
    forgetCachedModules(dir, appRequire);
    loadCount++;
    for (const file of files) {
      const relative = path.relative(dir, file);
      const esm = isEsModule(file, pkg);
      // Loaded already by an earlier entry file's require(): this load adds nothing, and that is fine.
      const loadedBefore = !esm && appRequire.cache[file] !== undefined;
      const before = registry.calls;
      try {
        if (esm) await nativeImport(`${pathToFileURL(file).href}?devhost=${loadCount}`);
        else appRequire(file);
      } catch (err) {
        if (err instanceof HostError) throw err;
        throw new HostError('Registration', `Worker was unable to load entry point "${relative}": ${messageOf(err)}`);
      }
      if (registry.calls === before && !loadedBefore) {
        log('warning', 'System', `Entry point file "${relative}" (matched by package.json "main" "${pkg.main}") registered no function or hook. If it should, make sure its app.* calls run when the file loads, at its top level.`);
      }
    }
    for (const hook of registry.hooks.appStart) {
      await hook({ hookData: appLevelHookData, appHookData, functionAppDirectory: dir });
    }
    registry.lock();
  });
  const af = appRequire('@azure/functions') as AzureFunctionsModule;
  return { appDir: dir, registry, af, appRequire, appHookData, appLevelHookData, hostJson, files };
}

// Each host loads a fresh copy of the app and of @azure/functions + durable-functions, so several
// hosts can live in one process (tests) without sharing registration state.
function forgetCachedModules(dir: string, appRequire: NodeRequire): void {
  const roots = [path.join(dir, path.sep)];
  for (const pkg of ['@azure/functions', 'durable-functions']) {
    try {
      const resolved = appRequire.resolve(`${pkg}/package.json`);
      roots.push(path.dirname(resolved) + path.sep);
    } catch {
      /* not installed: nothing to forget */
    }
  }
  const cache = appRequire.cache;
  for (const key of Object.keys(cache)) {
    const inApp = key.startsWith(roots[0]) && !key.includes(`${path.sep}node_modules${path.sep}`);
    if (inApp || roots.slice(1).some((r) => key.startsWith(r))) delete cache[key];
  }
}

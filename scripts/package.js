#!/usr/bin/env node
// @ts-check
// npm run package: the deployment package, with exactly what the Functions host needs: the compiled app (dist/ of
// core, functions, game, orchestrations, platform; no devhost, tests or benchmarks), host.json, a package.json
// without dev tooling, the web client, and the production node_modules only. It writes the folder .package/app
// (what azd deploys, azure.yaml `dist`) and the zip .package/evennia-durable.zip (for the az / Core Tools commands
// in the README). Plain JavaScript on purpose: it must run, and fail clearly, on a tree that is not built.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

/** Folders whose compiled output is the app (tsconfig's rootDir is ".", so functions/x.ts becomes dist/functions/x.js). */
const APP_DIRS = ['core', 'functions', 'game', 'orchestrations', 'platform'];
/** Files and folders copied as they are. */
const AS_IS = ['host.json', 'web'];
/** Everything the package is made from: a change to any of them that is not committed makes the tree dirty. */
const INPUTS = [...APP_DIRS, ...AS_IS, 'package.json', 'package-lock.json', 'tsconfig.json'];
const ZIP_NAME = 'evennia-durable.zip';

class PackageError extends Error {}

/**
 * Builds the package; throws PackageError with a message saying what to do when the tree is dirty or not built.
 * @param {{ root?: string, outDir?: string, allowDirty?: boolean, log?: (line: string) => void }} [options]
 * @returns {{ dir: string, zip: string, zipBytes: number, unpackedBytes: number, files: number }}
 * @example const { zip, zipBytes } = packageApp({ root: process.cwd() });
 */
function packageApp(options = {}) {
  const root = path.resolve(options.root ?? path.join(__dirname, '..'));
  const outDir = path.resolve(options.outDir ?? path.join(root, '.package'));
  const log = options.log ?? (() => {});
  checkClean(root, options.allowDirty ?? false, log);
  const compiled = checkBuilt(root);
  const modules = productionModules(root);

  const dir = path.join(outDir, 'app');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  /** @type {Map<string, string>} package path -> source file */
  const files = new Map();
  for (const js of compiled) files.set(path.relative(root, js), js);
  for (const item of AS_IS) for (const f of walk(path.join(root, item))) files.set(path.relative(root, f), f);
  for (const moduleDir of modules) {
    for (const f of walk(moduleDir, (d) => path.basename(d) !== 'node_modules')) {
      if (keepModuleFile(f)) files.set(path.relative(root, f), f);
    }
  }
  let unpackedBytes = 0;
  for (const [rel, src] of files) {
    const dest = path.join(dir, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(src, dest);
    unpackedBytes += fs.statSync(src).size;
  }
  const manifest = JSON.stringify(deployedPackageJson(root), null, 2) + '\n';
  fs.writeFileSync(path.join(dir, 'package.json'), manifest);
  unpackedBytes += Buffer.byteLength(manifest);

  const zip = path.join(outDir, ZIP_NAME);
  const zipBytes = writeZip(dir, zip);
  log(`Package: ${path.relative(root, zip) || zip}, ${mb(zipBytes)} (${mb(unpackedBytes)} unpacked, ${files.size + 1} files); folder ${path.relative(root, dir)}`);
  return { dir, zip, zipBytes, unpackedBytes, files: files.size + 1 };
}

/** Refuses uncommitted or untracked changes to the package's inputs, so a package always matches a commit. */
function checkClean(root, allowDirty, log) {
  let status;
  try {
    status = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', ...INPUTS], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    log('Not a git work tree (or git is missing): cannot tell whether the sources match a commit.');
    return;
  }
  const changed = status.split('\n').filter(Boolean).map((l) => l.slice(3));
  if (changed.length === 0) return;
  const shown = changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, and ${changed.length - 5} more` : '');
  if (allowDirty) {
    log(`Packaging uncommitted changes (--allow-dirty): ${shown}`);
    return;
  }
  throw new PackageError(
    `The work tree has uncommitted changes to what the package is built from (${shown}): commit or stash them, so the package matches a commit, or pass --allow-dirty (PACKAGE_ALLOW_DIRTY=1) to package them anyway.`,
  );
}

/** Every source has its compiled .js, built after the source was last changed, and dist holds nothing else. */
function checkBuilt(root) {
  /** @type {string[]} */
  const compiled = [];
  for (const dir of APP_DIRS) {
    for (const ts of walk(path.join(root, dir))) {
      if (!ts.endsWith('.ts') || ts.endsWith('.d.ts') || ts.endsWith('.test.ts')) continue;
      const js = path.join(root, 'dist', path.relative(root, ts).replace(/\.ts$/, '.js'));
      const rel = path.relative(root, js);
      if (!fs.existsSync(js)) throw new PackageError(`${rel} is missing: the app is not built. Run \`npm run build\` first.`);
      if (fs.statSync(js).mtimeMs + 1000 < fs.statSync(ts).mtimeMs) {
        throw new PackageError(`${rel} is older than ${path.relative(root, ts)}: the build is out of date. Run \`npm run build\` first.`);
      }
      compiled.push(js);
    }
    const known = new Set(compiled);
    for (const js of walk(path.join(root, 'dist', dir))) {
      if (js.endsWith('.js') && !js.endsWith('.test.js') && !known.has(js)) {
        const rel = path.relative(root, js);
        throw new PackageError(`${rel} has no source (${rel.replace(/^dist[\\/]/, '').replace(/\.js$/, '.ts')} was removed?): the worker would still load it. Delete dist/ and run \`npm run build\`.`);
      }
    }
  }
  return compiled;
}

/** The folders of the production dependency tree, as npm resolves it from node_modules (no network). */
function productionModules(root) {
  let out;
  try {
    out = execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' });
  } catch (err) {
    const detail = String(/** @type {{ stderr?: string }} */ (err).stderr ?? '').split('\n').find((l) => l.includes('missing') || l.includes('invalid')) ?? '';
    throw new PackageError(`The production dependencies are not installed as package-lock.json says${detail ? ` (${detail.trim()})` : ''}: run \`npm ci\` first.`);
  }
  const dirs = [...new Set(out.split('\n').map((l) => l.trim()).filter(Boolean))].filter((d) => path.resolve(d) !== root);
  for (const d of dirs) if (!fs.existsSync(d)) throw new PackageError(`${path.relative(root, d)} is missing: run \`npm ci\` first.`);
  return dirs;
}

/** Type declarations, source maps and documentation are not needed at run time; licences are kept. */
function keepModuleFile(file) {
  const base = path.basename(file);
  if (/^(licen[cs]e|notice|copying)/i.test(base)) return true;
  return !/\.(d\.[cm]?ts|map|md|markdown)$/i.test(base) && !/\.tsbuildinfo$/.test(base);
}

/** package.json as the host needs it: "main" and the runtime dependencies (it never runs npm scripts). */
function deployedPackageJson(root) {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const { name, version, private: isPrivate, description, main, type, engines, dependencies } = pkg;
  return { name, version, private: isPrivate, description, main, type, engines, dependencies };
}

/** All files under `dir` (none when it does not exist), sorted; `enter` decides which subfolders to visit. */
function walk(dir, enter = () => true) {
  if (!fs.existsSync(dir)) return [];
  if (fs.statSync(dir).isFile()) return [dir];
  /** @type {string[]} */
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (enter(full)) out.push(...walk(full, enter));
    } else if (entry.isFile()) out.push(full);
  }
  return out;
}

/** Zips `dir` (entries sorted, fixed timestamps, so the same tree gives the same zip); returns its size. */
function writeZip(dir, zipFile) {
  const { zipSync } = require('fflate');
  /** @type {Record<string, Uint8Array>} */
  const entries = {};
  for (const f of walk(dir)) entries[path.relative(dir, f).split(path.sep).join('/')] = fs.readFileSync(f);
  const data = zipSync(entries, { level: 9, mtime: new Date('2020-01-01T00:00:00Z') });
  fs.writeFileSync(zipFile, data);
  return data.length;
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

module.exports = { packageApp, PackageError, ZIP_NAME };

if (require.main === module) {
  try {
    packageApp({ allowDirty: process.argv.includes('--allow-dirty') || process.env.PACKAGE_ALLOW_DIRTY === '1', log: (l) => console.log(l) });
  } catch (err) {
    if (!(err instanceof PackageError)) throw err;
    console.error(`npm run package: ${err.message}`);
    process.exit(1);
  }
}

#!/usr/bin/env node
// Runs before `npm start` and `npm test`: on a fresh clone (or after package-lock.json changed) it installs
// exactly what package-lock.json pins, so either command works as the very first one typed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

function stale() {
  if (!fs.existsSync(installed)) return 'node_modules is missing';
  if (fs.statSync(lock).mtimeMs > fs.statSync(installed).mtimeMs + 1000) return 'package-lock.json changed since the last install';
  return undefined;
}

const why = stale();
if (why) {
  console.log(`${why}: running npm ci ...`);
  // On Windows npm is npm.cmd, a batch file, which Node (since 20.12.2, CVE-2024-27980) only runs through a shell.
  const windows = process.platform === 'win32';
  const r = spawnSync(windows ? 'npm.cmd' : 'npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', shell: windows });
  if (r.status !== 0) {
    if (r.error) console.error(`npm could not be started: ${r.error.message}`);
    console.error('npm ci failed; fix the error above (or run npm install) and try again.');
    process.exit(r.status ?? 1);
  }
}

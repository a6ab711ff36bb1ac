// Every app setting the app's code reads is declared in infra/ (the Function App's settings) and in
// local.settings.example.json, and nothing in either is unused: each is read by the code, by host.json (a Durable
// backend's connection), or by the Functions host itself (listed below with the reason).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBicep, settingKeys } from './bicep';

const ROOT = path.resolve(__dirname, '../..');
const APP_DIRS = ['core', 'functions', 'game', 'orchestrations', 'platform'];

/** Settings the platform sets on every instance: read by the code, never declared. */
const SET_BY_PLATFORM = new Set(['WEBSITE_INSTANCE_ID', 'WEBSITE_HOSTNAME']);
/** Settings the Functions host (not the app's code) reads, and why they are declared. */
const READ_BY_HOST: Record<string, string> = {
  FUNCTIONS_WORKER_RUNTIME: 'picks the Node worker (Core Tools, Elastic Premium; Flex Consumption sets it in functionAppConfig)',
  FUNCTIONS_EXTENSION_VERSION: 'the Functions runtime major version (Elastic Premium)',
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'where the host sends telemetry',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'telemetry sent with the managed identity (App Insights has local auth off)',
  AzureWebJobsStorage__credential: 'the host and the app: a managed identity for AzureWebJobsStorage',
  AzureWebJobsStorage__clientId: 'the host and the app: which user-assigned identity',
  WEBSITE_RUN_FROM_PACKAGE: 'Elastic Premium runs the package from blob storage, since its Azure Files share would need a key',
  WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: 'the identity that reads that package blob',
};

/** Names the app's code reads: process.env.X, process.env['X'], the GAME_* names passed to setting readers, the storage prefix. */
function readByCode(): Set<string> {
  const names = new Set<string>();
  for (const dir of APP_DIRS) {
    for (const file of walk(path.join(ROOT, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
      const source = fs.readFileSync(file, 'utf8');
      for (const m of source.matchAll(/process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[\s*'([^']+)'\s*\]|'(GAME_[A-Z0-9_]+|AzureWebJobsStorage)'/g)) names.add(m[1] ?? m[2] ?? m[3]);
    }
  }
  return names;
}

/** The storage setting is a family: AzureWebJobsStorage (connection string) or AzureWebJobsStorage__* (identity). */
const family = (name: string) => name.split('__')[0];

const appModule = readBicep(path.join(ROOT, 'infra/modules/function-app.bicep'));
const infraSettings = new Set(settingKeys(appModule.vars.get('appSettings')!.replace(/union\((.*)\)/, (_, list: string) => list.split(', ').map((v) => appModule.vars.get(v)).join(', ')), path.dirname(appModule.file)));
const local = (JSON.parse(fs.readFileSync(path.join(ROOT, 'local.settings.example.json'), 'utf8')) as { Values: Record<string, string> }).Values;
const backendFiles = fs.readdirSync(path.join(ROOT, 'infra/durable')).map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, 'infra/durable', f), 'utf8')) as Record<string, string>);
/** The connection settings host.json names once a backend override applies. */
const backendConnections = new Set(backendFiles.flatMap((o) => Object.entries(o).filter(([k]) => /__connectionStringName$/i.test(k)).map(([, v]) => v)));
const overrides = new Set(backendFiles.flatMap((o) => Object.keys(o)));

describe('app settings: code, infra/ and local.settings.example.json agree', () => {
  const code = readByCode();

  it('the scan finds the settings the code reads', () => {
    expect([...code]).toEqual(expect.arrayContaining(['AzureWebJobsStorage', 'GAME_TOKEN_SECRET', 'GAME_TOKEN_TTL_SECONDS', 'WEBSITE_INSTANCE_ID']));
    expect(infraSettings.size).toBeGreaterThan(10);
  });

  it('every setting the code reads is declared in infra/ and in local.settings.example.json', () => {
    for (const name of code) {
      if (SET_BY_PLATFORM.has(name)) continue;
      expect([...infraSettings].some((s) => s === name || family(s) === name), `${name} is read by the code but not set in infra/modules/function-app.bicep`).toBe(true);
      expect(Object.keys(local).some((s) => s === name || family(s) === name), `${name} is read by the code but not in local.settings.example.json`).toBe(true);
    }
  });

  it('nothing in infra/ is unused', () => {
    for (const name of infraSettings) {
      const used = code.has(name) || code.has(family(name)) || name in READ_BY_HOST || backendConnections.has(name) || overrides.has(name);
      expect(used, `infra sets ${name}, which nothing reads`).toBe(true);
    }
  });

  it('nothing in local.settings.example.json is unused', () => {
    for (const name of Object.keys(local)) {
      const used = code.has(name) || code.has(family(name)) || name in READ_BY_HOST;
      expect(used, `local.settings.example.json sets ${name}, which nothing reads`).toBe(true);
    }
  });

  it('each backend override names a connection setting that infra/ sets for that backend', () => {
    for (const name of backendConnections) expect(infraSettings.has(name), name).toBe(true);
    expect(backendConnections).toEqual(new Set(['DURABLE_TASK_SCHEDULER_CONNECTION_STRING', 'SQLDB_Connection']));
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

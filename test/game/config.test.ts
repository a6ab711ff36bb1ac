// The files Azure Functions Core Tools reads agree with the app: host.json, local.settings.example.json and
// package.json "main" (which must name the compiled entry points, one per functions/*.ts file).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_DIR } from './harness';

const read = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(APP_DIR, file), 'utf8')) as Record<string, unknown>;

function timespanSeconds(value: string): number {
  const m = /^(?:(\d+)\.)?(\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(value);
  if (!m) throw new Error(`not a TimeSpan: ${value}`);
  return Number(m[1] ?? 0) * 86400 + Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

describe('Core Tools configuration', () => {
  it('host.json: version 2.0, the v4 extension bundle, a named task hub polled at most every 2 s, the api route prefix', () => {
    const host = read('host.json') as {
      version: string;
      extensionBundle: { id: string; version: string };
      extensions: { durableTask: { hubName: string; storageProvider: { maxQueuePollingInterval: string } }; http: { routePrefix: string } };
    };
    expect(host.version).toBe('2.0');
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
    // Task hub names: 3-45 letters and digits, starting with a letter.
    expect(host.extensions.durableTask.hubName).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
    const poll = timespanSeconds(host.extensions.durableTask.storageProvider.maxQueuePollingInterval);
    expect(poll).toBeGreaterThan(0);
    expect(poll).toBeLessThanOrEqual(2);
    expect(host.extensions.http.routePrefix).toBe('api');
  });

  // Every setting the app reads is there (and nothing unused): test/deploy/settings.test.ts, with infra/.
  it('local.settings.example.json: node worker, Azurite storage, string values', () => {
    const local = read('local.settings.example.json') as { IsEncrypted: boolean; Values: Record<string, string> };
    expect(local.IsEncrypted).toBe(false);
    expect(local.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
    expect(local.Values.AzureWebJobsStorage).toBe('UseDevelopmentStorage=true');
    for (const v of Object.values(local.Values)) expect(typeof v).toBe('string');
  });

  it('package.json "main" names the compiled entry points: one dist/functions/*.js per functions/*.ts, CommonJS', () => {
    const pkg = read('package.json') as { main: string; type?: string; scripts: Record<string, string> };
    expect(pkg.main).toBe('dist/functions/*.js');
    expect(pkg.type ?? 'commonjs').toBe('commonjs');
    const tsconfig = read('tsconfig.json') as { compilerOptions: { outDir: string; rootDir: string; module: string } };
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.', module: 'commonjs' });
    const sources = fs.readdirSync(path.join(APP_DIR, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '.js'));
    const built = fs.readdirSync(path.join(APP_DIR, 'dist/functions')).filter((f) => f.endsWith('.js'));
    expect(sources.length).toBeGreaterThan(0);
    expect(built.sort()).toEqual(sources.sort());
    expect(pkg.scripts.build).toMatch(/tsc/);
  });

  it('.funcignore keeps what the deployed app needs', () => {
    const ignored = fs.readFileSync(path.join(APP_DIR, '.funcignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const needed of ['host.json', 'package.json', 'dist', 'dist/functions', 'node_modules']) expect(ignored).not.toContain(needed);
    expect(ignored).toContain('local.settings.json');
  });
});

// infra/ (Bicep for azd) checked without an Azure account. With a Bicep compiler on PATH (`bicep`), `bicep build` and
// `bicep lint` run too; none can be installed here from npm or Debian without a binary download at install time, so
// the structural test below is what runs by default: parameters agree between main.bicep, main.parameters.json,
// the modules and the README, and the properties the design depends on are there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBicep, settingKeys, type BicepFile } from './bicep';

const ROOT = path.resolve(__dirname, '../..');
const INFRA = path.join(ROOT, 'infra');
const files = new Map<string, BicepFile>();
for (const f of walk(INFRA).filter((f) => f.endsWith('.bicep'))) files.set(f, readBicep(f));
const main = files.get(path.join(INFRA, 'main.bicep'))!;
const appModule = files.get(path.join(INFRA, 'modules/function-app.bicep'))!;
const text = (name: string) => files.get(path.join(INFRA, name))!.text;

const bicep = spawnSync('bicep', ['--version'], { encoding: 'utf8' });
const hasCompiler = bicep.status === 0;

describe('infra/ for azd', () => {
  it('azure.yaml deploys the package npm run package builds, with infra/main.bicep', () => {
    const yaml = fs.readFileSync(path.join(ROOT, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^ {4}host: function$/m);
    expect(yaml).toMatch(/^ {4}language: js$/m);
    expect(yaml).toMatch(/^ {4}dist: \.package\/app$/m);
    expect(yaml).toMatch(/^ {2}path: infra$/m);
    expect(yaml).toMatch(/^ {2}module: main$/m);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.package).toBe('node scripts/package.js'); // azd runs `npm run package` before it zips dist
  });

  it('main.parameters.json and main.bicep agree: every value has a parameter, every required parameter a value (or azd generates it)', () => {
    const values = (JSON.parse(fs.readFileSync(path.join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, unknown> }).parameters;
    for (const name of Object.keys(values)) expect(main.params.has(name), `main.parameters.json sets ${name}, which main.bicep does not declare`).toBe(true);
    for (const p of main.params.values()) {
      const generated = p.decorators.some((d) => /type: 'generate'/.test(d));
      if (!p.hasDefault && !generated) expect(Object.keys(values), `${p.name} has no default and no value`).toContain(p.name);
    }
  });

  it('every module call passes only parameters the module declares, and all it requires', () => {
    let calls = 0;
    for (const file of files.values()) {
      for (const call of file.modules) {
        calls++;
        const target = files.get(call.file);
        expect(target, `${path.relative(INFRA, file.file)}: module ${call.symbol} -> ${call.file}`).toBeDefined();
        for (const p of call.params) expect(target!.params.has(p), `${call.symbol} passes ${p}, not declared in ${path.relative(INFRA, call.file)}`).toBe(true);
        for (const p of target!.params.values()) if (!p.hasDefault) expect(call.params, `${call.symbol} must pass ${p.name}`).toContain(p.name);
      }
    }
    expect(calls).toBeGreaterThanOrEqual(7);
  });

  it('every parameter of main.bicep is documented in the README', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const name of main.params.keys()) expect(readme, `README does not document ${name}`).toContain(`\`${name}\``);
  });

  it('the token secret is a secure parameter azd generates, stored in Key Vault and referenced, never a value in app settings', () => {
    const secret = main.params.get('gameTokenSecret')!;
    expect(secret.hasDefault).toBe(false);
    expect(secret.decorators).toContain('@secure()');
    expect(secret.decorators.join(' ')).toMatch(/azd: \{ type: 'generate', config: \{ length: (\d+)/);
    expect(text('modules/key-vault.bicep')).toMatch(/Microsoft\.KeyVault\/vaults\/secrets@[\d-]+' = \{[^]*value: gameTokenSecret/);
    expect(text('modules/key-vault.bicep')).toMatch(/enableRbacAuthorization: true/);
    expect(appModule.vars.get('commonSettings')).toMatch(/GAME_TOKEN_SECRET: '@Microsoft\.KeyVault\(SecretUri=\$\{tokenSecretUri\}\)'/);
    expect(appModule.text).toMatch(/keyVaultReferenceIdentity: identityId/);
    for (const [file, f] of files) expect(f.text, path.relative(INFRA, file)).not.toMatch(/AccountKey=|listKeys\(|SharedAccessSignature|InstrumentationKey=/);
  });

  it('the operator key is a secure parameter azd generates, its own secret in Key Vault, referenced from app settings', () => {
    const key = main.params.get('gameOperatorKey')!;
    expect(key.hasDefault).toBe(false);
    expect(key.decorators).toContain('@secure()');
    expect(key.decorators.join(' ')).toMatch(/azd: \{ type: 'generate', config: \{ length: (\d+)/);
    expect(text('modules/key-vault.bicep')).toMatch(/name: 'game-operator-key'\s+properties: \{\s+value: gameOperatorKey/);
    expect(appModule.vars.get('commonSettings')).toMatch(/GAME_OPERATOR_KEY: '@Microsoft\.KeyVault\(SecretUri=\$\{operatorKeyUri\}\)'/);
  });

  it('storage is reached by managed identity only, with blob, queue and table data roles', () => {
    expect(text('modules/storage.bicep')).toMatch(/allowSharedKeyAccess: false/);
    expect(text('modules/storage.bicep')).toMatch(/allowBlobPublicAccess: false/);
    const settings = appModule.vars.get('commonSettings')!;
    expect(settings).toMatch(/AzureWebJobsStorage__accountName: storageAccountName/);
    expect(settings).toMatch(/AzureWebJobsStorage__credential: 'managedidentity'/);
    expect(settings).toMatch(/AzureWebJobsStorage__clientId: identityClientId/);
    const roles = text('modules/roles.bicep');
    for (const id of ['b7e6dc6d-f1e8-4753-8033-0f276bb0955b', '974c5e8b-45b9-4653-ba55-5f855dd0fb88', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3', '4633458b-17de-408a-b874-0445c86b69e6', '3913510d-42f4-4e42-8a64-420c390055eb']) {
      expect(roles).toContain(id);
    }
    expect(text('modules/monitoring.bicep')).toMatch(/DisableLocalAuth: true/);
    expect(settings).toMatch(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=\$\{identityClientId\};Authorization=AAD'/);
  });

  it('Flex Consumption on Node 22, HTTPS only, always-ready http and durable groups; Elastic Premium by parameter without an Azure Files share', () => {
    expect(main.params.get('planSku')).toMatchObject({ defaultText: "'FC1'" });
    expect(main.params.get('planSku')!.decorators).toContain("@allowed(['FC1', 'EP1', 'EP2', 'EP3'])");
    expect(main.params.get('nodeVersion')).toMatchObject({ defaultText: "'22'" });
    expect(appModule.text).toMatch(/httpsOnly: true/);
    expect(appModule.text).toMatch(/runtime: \{ name: 'node', version: nodeVersion \}/);
    expect(appModule.text).toMatch(/\{ name: 'http', instanceCount: alwaysReadyHttp \}/);
    expect(appModule.text).toMatch(/\{ name: 'durable', instanceCount: alwaysReadyDurable \}/);
    expect(appModule.text).toMatch(/instanceMemoryMB: instanceMemoryMB/);
    expect(appModule.text).toMatch(/deployment: \{\s*storage: \{\s*type: 'blobContainer'/);
    expect(appModule.text).toMatch(/authentication: \{ type: 'UserAssignedIdentity'/);
    expect(appModule.text).not.toMatch(/WEBSITE_CONTENTAZUREFILECONNECTIONSTRING|WEBSITE_CONTENTSHARE/);
    expect(appModule.vars.get('premiumSettings')).toMatch(/WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID: identityId/);
    expect(text('modules/durable-task-scheduler.bicep')).toMatch(/loadJsonContent\('\.\.\/\.\.\/host\.json'\)\.extensions\.durableTask\.hubName/);
  });

  it('the app settings are the union of the *Settings variables, and every loadJsonContent file exists', () => {
    const parts = [...appModule.vars.keys()].filter((v) => v.endsWith('Settings') && v !== 'appSettings');
    expect(appModule.vars.get('appSettings')).toBe(`union(${parts.join(', ')})`);
    for (const f of files.values()) {
      for (const m of f.text.matchAll(/loadJsonContent\('([^']+)'\)/g)) expect(fs.existsSync(path.resolve(path.dirname(f.file), m[1])), m[1]).toBe(true);
    }
    expect(settingKeys(appModule.vars.get('appSettings')!, path.dirname(appModule.file))).toEqual([]);
  });

  it.skipIf(!hasCompiler)('bicep build and bicep lint accept main.bicep (runs where a Bicep compiler is on PATH)', () => {
    const build = spawnSync('bicep', ['build', path.join(INFRA, 'main.bicep'), '--stdout'], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const lint = spawnSync('bicep', ['lint', path.join(INFRA, 'main.bicep')], { encoding: 'utf8' });
    expect(lint.status, lint.stderr).toBe(0);
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

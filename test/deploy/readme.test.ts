// The README's deploy walkthrough, followed as far as it goes offline: every `npm run` script it names is in
// package.json, every `azd env set` variable is one main.parameters.json reads, every output it reads is one
// main.bicep produces, every file it names exists (or is what npm run package writes), and every workflow it
// describes is there and runs what it says.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const start = readme.indexOf('## With Azure Functions Core Tools, and on Azure');
const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
const commands = [...section.matchAll(/```sh\n([^]*?)```/g)].flatMap((m) => m[1].split('\n')).map((l) => l.replace(/\s+#.*$/, '').trim()).filter(Boolean);
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const parameters = fs.readFileSync(path.join(ROOT, 'infra/main.parameters.json'), 'utf8');
const mainBicep = fs.readFileSync(path.join(ROOT, 'infra/main.bicep'), 'utf8');

describe("the README's deploy walkthrough", () => {
  it('has the steps: prerequisites, azd up, the URL to open, Application Insights queries, costs, tear-down, the pipeline', () => {
    for (const heading of ['### First deploy with the Azure Developer CLI', '### The package: `npm run package`', '### A Durable backend per scale', '### Watching it in Application Insights', '### What it costs', '### Tearing down', '### Deploying from GitHub']) {
      expect(section).toContain(heading);
    }
    expect(commands).toEqual(expect.arrayContaining(['azd up', 'azd down --purge']));
    expect(section).toMatch(/```kusto\n/);
  });

  it('every npm script it runs exists in package.json', () => {
    const scripts = commands.flatMap((c) => [...c.matchAll(/npm run (\w+)/g)].map((m) => m[1]));
    expect(scripts).toEqual(expect.arrayContaining(['build', 'package']));
    for (const s of scripts) expect(pkg.scripts, `npm run ${s}`).toHaveProperty(s);
  });

  it('every azd command is one of azd; every variable it sets is read by main.parameters.json', () => {
    const azd = commands.filter((c) => c.startsWith('azd '));
    expect(azd.length).toBeGreaterThanOrEqual(5);
    for (const c of azd) expect(c, c).toMatch(/^azd (auth login|env new \S+|env set \w+ \S+|env get-values|up|provision|deploy|down --purge)(\s|$)/);
    for (const c of azd) {
      const set = /^azd env set (\w+)/.exec(c)?.[1];
      if (set && set !== 'AZURE_LOCATION') expect(parameters, set).toContain(`\${${set}`);
    }
    for (const name of [...section.matchAll(/azd env set (GAME_\w+)/g)].map((m) => m[1])) expect(parameters, name).toContain(`\${${name}`);
  });

  it('the outputs it reads ($GAME_URL, $AZURE_RESOURCE_GROUP, ...) are outputs of main.bicep', () => {
    const used = new Set([...section.matchAll(/\$\{?(AZURE_[A-Z_]+|GAME_[A-Z_]+|APPLICATIONINSIGHTS_NAME)\b/g)].map((m) => m[1]));
    for (const name of ['GAME_URL', 'APPLICATIONINSIGHTS_NAME']) if (section.includes(name)) used.add(name);
    for (const name of used) {
      if (['AZURE_CLIENT_ID', 'AZURE_TENANT_ID'].includes(name)) continue; // pipeline variables, set by azd pipeline config
      expect(mainBicep, `README reads ${name}`).toMatch(new RegExp(`^output ${name} `, 'm'));
    }
  });

  it('the files and folders it names exist, or are what npm run package writes', () => {
    const produced = ['.package/app', '.package/evennia-durable.zip', '.azure/<env>/config.json', 'local.settings.json'];
    const named = new Set([...section.matchAll(/`((?:infra|\.github|test|scripts|web|\.package|\.azure)\/[\w./<>-]*|azure\.yaml|host\.json|\.funcignore|local\.settings(?:\.example)?\.json)`/g)].map((m) => m[1]));
    expect(named.size).toBeGreaterThan(5);
    for (const name of named) {
      const target = name.replace(/\/$/, '');
      expect(produced.includes(target) || fs.existsSync(path.join(ROOT, target)), name).toBe(true);
    }
  });

  it('the workflows it describes are there: CI runs .ci/run on pushes and pull requests, deploy runs azd deploy on tags with OIDC and no secrets', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.github/workflows/ci.yml'), 'utf8');
    expect(ci).toMatch(/on:\n {2}push:\n {2}pull_request:/);
    expect(ci).toMatch(/run: bash \.ci\/run/);
    const deploy = fs.readFileSync(path.join(ROOT, '.github/workflows/deploy.yml'), 'utf8');
    expect(deploy).toMatch(/tags: \['v\*'\]/);
    expect(deploy).toMatch(/id-token: write/);
    expect(deploy).toMatch(/--federated-credential-provider github/);
    expect(deploy).toMatch(/run: azd deploy --no-prompt/);
    expect(deploy).not.toMatch(/secrets\./);
    for (const v of deploy.matchAll(/vars\.(\w+)/g)) expect(section, v[1]).toContain(v[1]);
  });
});

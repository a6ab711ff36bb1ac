// Lint is what keeps orchestrator code deterministic: this runs ESLint from the test suite (so CI enforces it)
// on the real orchestrator code, and on a sample of forbidden calls to prove the rules catch each one.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

describe('determinism lint', () => {
  const eslint = new ESLint({ cwd: ROOT });

  it('passes on orchestrations/ and the interactive driver', async () => {
    const results = await eslint.lintFiles(['orchestrations/**/*.ts', 'core/driver.ts']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.message}`));
    expect(errors).toEqual([]);
  });

  it.each([
    ['Date.now()', 'const t = Date.now();', /Date\.now\(\) is not deterministic/],
    ['new Date()', 'const t = new Date();', /new Date\(\) without an argument/],
    ['Math.random()', 'const r = Math.random();', /Math\.random\(\)/],
    ['setTimeout', 'setTimeout(() => undefined, 5);', /setTimeout is not deterministic/],
    ['fetch', "void fetch('http://x');", /fetch is not deterministic/],
    ['process.env', 'const s = process.env.X;', /process\.env/],
    ['await', 'export async function f(p: Promise<void>) { await p; }', /await|async functions/],
    ['node:fs', "import fs from 'node:fs';\nexport const x = fs;", /node:fs is not deterministic/],
  ])('flags %s in orchestrator code', async (_name, code, message) => {
    const [result] = await eslint.lintText(`export {};\n${code}\n`, { filePath: path.join(ROOT, 'orchestrations/sample.ts') });
    expect(result.messages.map((m) => m.message).join('\n')).toMatch(message);
  });

  it('the whole project lints clean (npm run lint)', async () => {
    const results = await eslint.lintFiles(['.']);
    const errors = results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${path.relative(ROOT, r.filePath)}:${m.line} ${m.ruleId}: ${m.message}`));
    expect(errors).toEqual([]);
  }, 120_000);

  it('allows the same calls outside orchestrator code', async () => {
    const [result] = await eslint.lintText('export const t = Date.now() + Math.random();\n', { filePath: path.join(ROOT, 'functions/sample.ts') });
    expect(result.messages.filter((m) => m.severity === 2)).toEqual([]);
  });
});

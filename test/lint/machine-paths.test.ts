// A test that names a path of the machine it was written on fails on every other machine (a smoke test once
// loaded /tmp/smokeapp): the lint refuses such paths in test code, and this proves it does.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

async function messagesFor(code: string, file: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  return result.messages.filter((m) => m.severity === 2).map((m) => m.message);
}

describe('machine paths in tests', () => {
  it.each([
    ['a /tmp folder', "export const dir = '/tmp/smokeapp';"],
    ['a home folder in a template', 'export const dir = `/home/dev/${1}`;'],
    ['a macOS user folder', "export const dir = '/Users/dev/app';"],
    ['a Windows drive path', "export const dir = 'C:\\\\work\\\\app';"],
  ])('refuses %s', async (_name, code) => {
    expect((await messagesFor(code, 'test/sample.test.ts')).join('\n')).toMatch(/absolute machine path/);
    expect((await messagesFor(code, 'devhost/sample.test.ts')).join('\n')).toMatch(/absolute machine path/);
  });

  it('allows routes, URLs and paths made from os.tmpdir() or the test file', async () => {
    const code = "import os from 'node:os';\nimport path from 'node:path';\nexport const a = ['/api/tasks', 'http://localhost/tmp/x', path.join(os.tmpdir(), 'x'), path.resolve(__dirname, 'fixtures')];\n";
    expect(await messagesFor(code, 'test/sample.test.ts')).toEqual([]);
  });

  it('leaves app code alone (a host may well read /etc or C:\\)', async () => {
    expect(await messagesFor("export const dir = '/etc/hosts';\n", 'devhost/sample.ts')).toEqual([]);
  });
});

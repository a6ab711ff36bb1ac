// The determinism lint reaches game code that runs inside the `command` orchestrator: every function passed to
// interactive() or loop() (start and round), wherever and however it is written, the functions nested in it and the
// same file's functions it calls. Each forbidden call is caught there, and the same calls elsewhere stay allowed.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const eslint = new ESLint({ cwd: ROOT });

/** Each forbidden call, as a statement, and how the error names it. */
const FORBIDDEN: [string, string, RegExp][] = [
  ['Date.now()', 'const a = Date.now();', /Date\.now\(\) is not deterministic/],
  ['new Date()', 'const a = new Date();', /new Date\(\) without an argument is not deterministic/],
  ['Date()', 'const a = Date();', /Date\(\) is not deterministic/],
  ['Math.random()', 'const a = Math.random();', /Math\.random\(\) is not deterministic/],
  ['setTimeout', 'setTimeout(() => undefined, 5);', /setTimeout is not deterministic/],
  ['setInterval', 'setInterval(() => undefined, 5);', /setInterval is not deterministic/],
  ['setImmediate', 'setImmediate(() => undefined);', /setImmediate is not deterministic/],
  ['queueMicrotask', 'queueMicrotask(() => undefined);', /queueMicrotask is not deterministic/],
  ['fetch', "void fetch('http://example.invalid');", /fetch is not deterministic/],
  ['performance.now()', 'const a = performance.now();', /performance\.now\(\) is not deterministic/],
  ['crypto.randomUUID()', 'const a = crypto.randomUUID();', /crypto\.randomUUID\(\) is not deterministic/],
  ['process.env', 'const a = process.env.GAME_X;', /process\.env is not deterministic.*Read settings in an activity/],
  ['process.hrtime', 'const a = process.hrtime();', /process\.hrtime is not deterministic/],
  ['an I/O import', "const a = fs.readFileSync('x');", /fs \(imported from node:fs\) is not deterministic/],
  ['await', 'const a = await Promise.resolve(1);', /await is not deterministic/],
];

/** Where a statement can end up inside an orchestrator, written as game code would be. */
const PLACES: [string, (stmt: string) => string][] = [
  ['a generator passed to interactive()', (s) => `command('x', interactive(function* (caller) {\n${s}\nyield 1;\ncaller.msg('');\n}));`],
  ['a generator defined first and passed by name', (s) => `const body = function* () {\n${s}\nyield 1;\n};\ncommand('x', interactive(body));`],
  ['a generator declaration passed by name', (s) => `function* body() {\n${s}\nyield 1;\n}\ncommand('x', interactive(body));`],
  ['interactive imported under another name', (s) => `command('x', ask2(function* () {\n${s}\nyield 1;\n}));`],
  ['interactive() through a namespace import', (s) => `command('x', core.interactive(function* () {\n${s}\nyield 1;\n}));`],
  ['a function nested in an interactive() body', (s) => `command('x', interactive(function* () {\nconst later = () => {\n${s}\n};\nlater();\nyield 1;\n}));`],
  ['a same-file helper an interactive() body calls', (s) => `function helper() {\n${s}\n}\ncommand('x', interactive(function* () {\nhelper();\nyield 1;\n}));`],
  ['the round method of loop()', (s) => `command('x', loop({\nstart: () => ({ n: 1 }),\n*round(_c, state) {\n${s}\nyield 1;\nreturn again(state);\n},\n}));`],
  ['the start function of loop()', (s) => `command('x', loop({\nstart: () => {\n${s}\nreturn { n: 1 };\n},\n*round(_c, state) {\nyield 1;\nreturn stop(state);\n},\n}));`],
  ['a loop() spec defined first', (s) => `const spec = {\nstart: () => ({ n: 1 }),\nround: function* (_c: unknown, state: { n: number }) {\n${s}\nyield 1;\nreturn stop(state);\n},\n};\ncommand('x', loop(spec));`],
];

const HEADER = [
  "import fs from 'node:fs';",
  "import { again, command, interactive, loop, stop, interactive as ask2 } from '../core';",
  "import * as core from '../core';",
  'export {};',
].join('\n');

/** The determinism errors ESLint reports for `code` as a file of game/. */
async function lintGame(code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${HEADER}\n${code}\n`, { filePath: path.join(ROOT, 'game/sample.ts') });
  return result.messages.filter((m) => m.ruleId === 'determinism/orchestrator-bodies' || m.fatal).map((m) => `${m.line}: ${m.message}`);
}

describe('determinism lint on interactive() and loop() bodies', () => {
  for (const [place, wrap] of PLACES) {
    it(`flags every forbidden call in ${place}`, async () => {
      // `await` needs an async function: it appears as such, which is flagged too.
      const statements = FORBIDDEN.map(([, stmt]) => (stmt.startsWith('const a = await') ? `void (async () => { ${stmt} })();` : stmt));
      const errors = (await lintGame(wrap(statements.map((s) => `{ ${s} }`).join('\n')))).join('\n');
      for (const [name, , message] of FORBIDDEN) expect(errors, `${name} in ${place}`).toMatch(message);
      expect(errors).toMatch(/async functions is not deterministic/);
      expect(errors).toMatch(/This function runs inside an orchestrator \((passed to|called from a function passed to) (interactive|loop)\(\) at line \d+\)/);
    });
  }

  it('allows the same calls in plain commands, callbacks, and functions that are only defined beside a body', async () => {
    const statements = FORBIDDEN.filter(([name]) => name !== 'await').map(([, stmt]) => `{ ${stmt} }`).join('\n');
    const code = [
      `command('plain', async () => {\n${statements}\nawait Promise.resolve();\n});`,
      `export function unrelated() {\n${statements}\n}`,
      `command('x', interactive(function* (caller) {\nconst unused = unrelated;\nvoid unused;\ncaller.msg(new Date(0).toISOString());\nyield 1;\n}));`,
      `function loopLike(spec: unknown) { return spec; }\nvoid loopLike({ start: () => Date.now() });`,
    ].join('\n');
    expect(await lintGame(code)).toEqual([]);
  });

  it("a type named Date, or a local variable named like a forbidden global, is not a call of it", async () => {
    const code = `command('x', interactive(function* () {\nconst when: Date | undefined = undefined;\nconst setTimeout = (f: () => void) => f();\nsetTimeout(() => undefined);\nvoid when;\nyield 1;\n}));`;
    expect(await lintGame(code)).toEqual([]);
  });
});

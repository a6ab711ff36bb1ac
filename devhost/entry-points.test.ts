// findEntryPoints / readPackageJson: package.json "main" resolved as the Node worker resolves it (globby with the
// app folder as cwd), on committed fixture folders.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEntryPoints, isEsModule } from './entry-points';

const DOCS = path.resolve(__dirname, '../test/fixtures/docs-layout-app');
const GLOB = path.resolve(__dirname, '../test/fixtures/glob-app');
const rel = (dir: string, files: string[]) => files.map((f) => path.relative(dir, f).split(path.sep).join('/'));

describe('findEntryPoints', () => {
  it("expands a brace set with a wildcard inside, as Microsoft's TypeScript layout writes \"main\"", async () => {
    const files = rel(DOCS, await findEntryPoints(DOCS, 'dist/src/{index.js,functions/*.js}'));
    expect([...files].sort()).toEqual(['dist/src/functions/hello.js', 'dist/src/functions/notes.js', 'dist/src/functions/routes.js', 'dist/src/index.js']);
  });

  it('matches character classes, ** and ./-prefixed files', async () => {
    expect(rel(DOCS, await findEntryPoints(DOCS, 'dist/src/functions/[hn]*.js')).sort()).toEqual(['dist/src/functions/hello.js', 'dist/src/functions/notes.js']);
    expect(rel(DOCS, await findEntryPoints(DOCS, 'dist/**/routes.js'))).toEqual(['dist/src/functions/routes.js']);
    expect(rel(DOCS, await findEntryPoints(DOCS, './dist/src/index.js'))).toEqual(['dist/src/index.js']);
  });

  it('a pattern that matches nothing stops the start with the worker\'s message, naming the pattern', async () => {
    await expect(findEntryPoints(GLOB, 'dist/src/{index.js,functions/*.js}')).rejects.toThrow(
      /Worker was unable to load entry point "dist\/src\/\{index\.js,functions\/\*\.js\}": Found zero files matching the supplied pattern/,
    );
    await expect(findEntryPoints(GLOB, 'dist/index.js')).rejects.toThrow(/entry point "dist\/index\.js": File does not exist/);
  });

  it('an unclosed brace is no glob: no match, and no endless loop', async () => {
    await expect(findEntryPoints(GLOB, 'functions/{a,b.js')).rejects.toThrow('functions/{a,b.js');
    await expect(findEntryPoints(GLOB, 'functions/*{')).rejects.toThrow('Found zero files');
  });
});

describe('isEsModule', () => {
  it('follows the worker: .mjs and .cjs decide, otherwise package.json "type"', () => {
    expect(isEsModule('/a/x.mjs', {})).toBe(true);
    expect(isEsModule('/a/x.cjs', { type: 'module' })).toBe(false);
    expect(isEsModule('/a/x.js', { type: 'module' })).toBe(true);
    expect(isEsModule('/a/x.js', {})).toBe(false);
  });
});

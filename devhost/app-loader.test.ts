// expandGlob: package.json "main" patterns as the worker reads them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandGlob } from './app-loader';

const APP = path.resolve(__dirname, '../test/fixtures/glob-app');

describe('expandGlob', () => {
  it('an unclosed brace is a literal character (no match), not an endless loop', () => {
    expect(expandGlob(APP, 'functions/{a,b.js')).toEqual([]);
    expect(expandGlob(APP, 'functions/*{')).toEqual([]);
  });
});

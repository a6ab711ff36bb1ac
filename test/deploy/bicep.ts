// A small reader of the Bicep files in infra/, for the structural test that runs where no Bicep compiler can be
// installed (none on npm or Debian without a download at install time): parameters with their decorators, module
// calls with the parameters they pass, and the keys of the object literals that make up the app settings. It reads
// the files as they are written here (one declaration per line); the compiler, where present, checks the rest.
import fs from 'node:fs';
import path from 'node:path';

export interface BicepParam {
  name: string;
  type: string;
  hasDefault: boolean;
  defaultText?: string;
  decorators: string[];
}

export interface BicepModule {
  symbol: string;
  file: string;
  params: string[];
}

export interface BicepFile {
  file: string;
  text: string;
  params: Map<string, BicepParam>;
  modules: BicepModule[];
  /** `var name = expression`, expression text as written. */
  vars: Map<string, string>;
}

/** Text with comments blanked out (strings kept), so searches never match commented code. */
export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text[i] === "'") {
      const end = findStringEnd(text, i);
      out += text.slice(i, end);
      i = end;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else out += text[i++];
  }
  return out;
}

function findStringEnd(text: string, start: number): number {
  if (text.startsWith("'''", start)) {
    const end = text.indexOf("'''", start + 3);
    if (end < 0) throw new Error(`unterminated ''' string at ${start}`);
    return end + 3;
  }
  let i = start + 1;
  while (i < text.length) {
    if (text[i] === '\\') i += 2;
    else if (text[i] === "'") return i + 1;
    else if (text[i] === '\n') throw new Error(`unterminated string at offset ${start}`);
    else i++;
  }
  throw new Error(`unterminated string at offset ${start}`);
}

/** Index just past the bracket that closes the one at `open` ({, [ or (), skipping strings. */
export function matchingClose(text: string, open: number): number {
  const pairs: Record<string, string> = { '{': '}', '[': ']', '(': ')' };
  const stack: string[] = [];
  let i = open;
  while (i < text.length) {
    const c = text[i];
    if (c === "'") {
      i = findStringEnd(text, i);
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === '}' || c === ']' || c === ')') {
      if (stack.pop() !== c) throw new Error(`unbalanced '${c}' at offset ${i}`);
      if (stack.length === 0) return i + 1;
    }
    i++;
  }
  throw new Error(`no closing bracket for offset ${open}`);
}

/** Keys at the top level of the object literal opening at `open`. */
export function objectKeys(text: string, open: number): string[] {
  const body = text.slice(open + 1, matchingClose(text, open) - 1);
  const keys: string[] = [];
  let depth = 0;
  let lineStart = true;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "'") {
      const end = findStringEnd(body, i);
      if (depth === 0 && lineStart && body[end] === ':') keys.push(body.slice(i + 1, end - 1));
      i = end - 1;
      lineStart = false;
      continue;
    }
    if ('{[('.includes(c)) depth++;
    else if ('}])'.includes(c)) depth--;
    if (depth === 0 && lineStart && /[A-Za-z_]/.test(c)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*:/.exec(body.slice(i));
      if (m) keys.push(m[1]);
    }
    if (c === '\n' || (depth === 0 && c === ',')) lineStart = true;
    else if (!/\s/.test(c)) lineStart = false;
  }
  return keys;
}

/** Reads one .bicep file. */
export function readBicep(file: string): BicepFile {
  const raw = fs.readFileSync(file, 'utf8');
  const text = stripComments(raw);
  matchingClose(`{${text}}`, 0); // every bracket and string of the file is balanced
  const params = new Map<string, BicepParam>();
  const vars = new Map<string, string>();
  const modules: BicepModule[] = [];
  const lines = text.split('\n');
  let decorators: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    if (/^@/.test(line)) {
      decorators.push(line.trim());
      continue;
    }
    const param = /^param (\w+) (\w+)(?: = (.+))?$/.exec(line.trimEnd());
    if (param) params.set(param[1], { name: param[1], type: param[2], hasDefault: param[3] !== undefined, defaultText: param[3], decorators });
    decorators = line.trim() === '' ? decorators : [];
  }
  for (const m of text.matchAll(/^var (\w+) = /gm)) {
    const start = m.index! + m[0].length;
    let end = start;
    // The expression runs to the end of its line, or past every bracket it opens.
    while (end < text.length && text[end] !== '\n') {
      if ('{[('.includes(text[end]) || text[end] === "'") end = text[end] === "'" ? findStringEnd(text, end) : matchingClose(text, end);
      else end++;
    }
    vars.set(m[1], text.slice(start, end));
  }
  for (const m of text.matchAll(/^module (\w+) '([^']+)' = (?:if \([^\n]*\) )?\{/gm)) {
    const open = m.index! + m[0].length - 1;
    const block = text.slice(open, matchingClose(text, open));
    const paramsAt = /\n {2}params: \{/.exec(block);
    modules.push({ symbol: m[1], file: path.resolve(path.dirname(file), m[2]), params: paramsAt ? objectKeys(block, paramsAt.index + paramsAt[0].length - 1) : [] });
  }
  return { file, text, params, modules, vars };
}

/** Keys of every object literal directly in an expression (union(...) arguments, both arms of a ternary), plus loadJsonContent files. */
export function settingKeys(expression: string, dir: string): string[] {
  const keys: string[] = [];
  for (const m of expression.matchAll(/loadJsonContent\('([^']+)'\)/g)) {
    keys.push(...Object.keys(JSON.parse(fs.readFileSync(path.resolve(dir, m[1]), 'utf8')) as object));
  }
  for (let i = 0; i < expression.length; i++) {
    if (expression[i] === "'") {
      i = findStringEnd(expression, i) - 1;
      continue;
    }
    if (expression[i] === '{') {
      keys.push(...objectKeys(expression, i));
      i = matchingClose(expression, i) - 1;
    }
  }
  return keys;
}

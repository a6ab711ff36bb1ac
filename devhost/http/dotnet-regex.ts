// Turns the pattern of a `regex(...)` route constraint, written for .NET's Regex, into a JavaScript RegExp that
// matches the same values: ASP.NET Core compiles it with IgnoreCase | CultureInvariant and calls IsMatch, so it is
// NOT anchored (RegexRouteConstraint.cs). Where .NET and JavaScript read a construct differently, it is rewritten;
// where JavaScript has no equivalent, the pattern is refused with the reason, never silently read another way.

/** .NET's \w: letters, non-spacing marks, decimal digits, connector punctuation (JavaScript's \w is ASCII). */
const WORD = '\\p{L}\\p{Mn}\\p{Nd}\\p{Pc}';
/** Characters JavaScript's u-mode accepts escaped (elsewhere an escaped punctuation mark is a syntax error). */
const SYNTAX = new Set('^$\\.*+?()[]{}|/-');

/** A pattern devhost cannot translate; `reason` says which construct and why. */
export class DotnetRegexError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DotnetRegexError';
  }
}

/**
 * Compile a .NET route-constraint regex the way ASP.NET Core does (case-insensitive, culture-invariant, unanchored).
 * Throws DotnetRegexError naming the construct it cannot honour.
 * @example dotnetRegex('^(a|b)$').test('B') // true
 */
export function dotnetRegex(pattern: string): RegExp {
  const source = translate(pattern);
  try {
    return new RegExp(source, 'iu');
  } catch (err) {
    throw new DotnetRegexError(`it is not a regular expression JavaScript can compile (${(err as Error).message})`);
  }
}

function translate(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      const next = p[i + 1];
      if (next === undefined) throw new DotnetRegexError('it ends with a lone backslash');
      i++;
      out += inClass ? classEscape(next) : escape(next, p, i);
      if ((next === 'p' || next === 'P') && p[i + 1] === '{') {
        const end = p.indexOf('}', i);
        if (end < 0) throw new DotnetRegexError(`\\${next}{ is not closed`);
        out += p.slice(i + 1, end + 1);
        i = end;
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (c === '-' && p[i + 1] === '[') throw new DotnetRegexError('it uses character-class subtraction ([a-z-[aeiou]]), which JavaScript has no form of');
      out += c === '[' ? '\\[' : c;
      continue;
    }
    switch (c) {
      case '[':
        inClass = true;
        out += '[';
        if (p[i + 1] === '^') out += p[++i];
        // .NET reads a ']' right after '[' or '[^' as a literal; JavaScript would close an empty class.
        if (p[i + 1] === ']') {
          out += '\\]';
          i++;
        }
        break;
      case '$':
        out += '(?=\\n?$)'; // .NET's $ also matches before a final newline
        break;
      case '.':
        out += '[^\\n]'; // .NET's . excludes only \n; JavaScript's also \r, U+2028 and U+2029
        break;
      case '(':
        i = group(p, i, (s) => (out += s));
        break;
      case '{': {
        const q = /^\{\d+(,\d*)?\}/.exec(p.slice(i));
        // A brace that is not a quantifier is a literal in .NET and a syntax error in JavaScript's u-mode.
        out += q ? q[0] : '\\{';
        if (q) i += q[0].length - 1;
        break;
      }
      case '}':
      case ']':
        out += '\\' + c;
        break;
      default:
        out += c;
    }
  }
  if (inClass) throw new DotnetRegexError("a '[' is not closed");
  return out;
}

function escape(c: string, p: string, i: number): string {
  switch (c) {
    case 'A':
      return '^';
    case 'z':
      return '$';
    case 'Z':
      return '(?=\\n?$)';
    case 'd':
      return '\\p{Nd}';
    case 'D':
      return '\\P{Nd}';
    case 'w':
      return `[${WORD}]`;
    case 'W':
      return `[^${WORD}]`;
    case 'e':
      return '\\x1B';
    case 'a':
      return '\\x07';
    case 'G':
      throw new DotnetRegexError('it uses \\G (contiguous match), which JavaScript has no form of');
    case 'k':
      if (p[i + 1] !== '<') throw new DotnetRegexError("it uses \\k'name'; write \\k<name>");
      return '\\k';
    default:
      return common(c, false);
  }
}

function classEscape(c: string): string {
  switch (c) {
    case 'd':
      return '\\p{Nd}';
    case 'D':
      return '\\P{Nd}';
    case 'w':
      return WORD;
    case 'W':
      throw new DotnetRegexError('it uses \\W inside [...], which JavaScript cannot express for .NET\'s Unicode \\w');
    case 'e':
      return '\\x1B';
    case 'a':
      return '\\x07';
    case 'b':
      return '\\x08';
    default:
      return common(c, true);
  }
}

/** Escapes both dialects read alike; an escaped punctuation mark becomes a form u-mode accepts. */
function common(c: string, inClass: boolean): string {
  if (/[tnrfvsSbBpPxuc0-9]/.test(c)) return '\\' + c;
  if (/[A-Za-z]/.test(c)) throw new DotnetRegexError(`'\\${c}' is not an escape .NET knows`);
  if (SYNTAX.has(c) && (inClass || c !== '-')) return '\\' + c;
  return c;
}

/** Copies a group opener JavaScript reads alike; refuses the .NET-only ones. Returns the index of its last char. */
function group(p: string, i: number, emit: (s: string) => void): number {
  if (p[i + 1] !== '?') {
    emit('(');
    return i;
  }
  const rest = p.slice(i + 2);
  const same = /^(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(rest);
  if (same) {
    emit('(?' + same[0]);
    return i + 1 + same[0].length;
  }
  if (rest.startsWith('#')) {
    const end = p.indexOf(')', i);
    if (end < 0) throw new DotnetRegexError('a (?# comment is not closed');
    return end; // a comment matches nothing
  }
  const what = rest.startsWith('>')
    ? 'an atomic group (?>...)'
    : rest.startsWith('(')
      ? 'a conditional (?(...)...)'
      : /^[imnsx-]+[:)]/.test(rest)
        ? 'inline options such as (?i) or (?-i:...)'
        : rest.startsWith("'") || /^<[^>]*-/.test(rest)
          ? "a (?'name') or balancing group"
          : `'(?${rest.slice(0, 3)}'`;
  throw new DotnetRegexError(`it uses ${what}, which JavaScript has no form of`);
}

// Parses an HTTP trigger's route template the way ASP.NET Core does for the Functions host (RoutePatternParser.cs,
// RouteParameterParser.cs): literal segments, {name}, {name?}, {*rest}, {name=default}, {name:c1:c2(args)},
// '{{' / '}}' for literal braces, and the same errors for a template ASP.NET Core refuses.

/** One '/'-separated piece of a template: a literal, or one parameter. */
export type TemplateSegment = { kind: 'literal'; text: string } | ({ kind: 'parameter' } & TemplateParameter);

export interface TemplateParameter {
  name: string;
  optional: boolean;
  catchAll: boolean;
  /** Value when the request has no segment for it (`{x=abc}`). */
  defaultValue?: string;
  /** Inline constraints as written, e.g. `int`, `min(1)`, `regex(^a$)`. */
  constraints: string[];
}

/** A template ASP.NET Core would refuse; the message is ASP.NET Core's. */
export class RouteTemplateError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RouteTemplateError';
  }
}

const MISMATCHED = "There is an incomplete parameter in the route template. Check that each '{' character has a matching '}' character.";

/**
 * Parse a route template into segments. Throws RouteTemplateError for templates ASP.NET Core refuses, and for
 * segments that mix literals and parameters (`{name}.{ext}`), which devhost does not match yet.
 * @example parseRouteTemplate('items/{id:int:min(1)}/{*rest}')
 */
export function parseRouteTemplate(template: string): TemplateSegment[] {
  const t = template.startsWith('~/') ? template.slice(2) : template.startsWith('/') ? template.slice(1) : template;
  const segments: TemplateSegment[] = [];
  const names = new Set<string>();
  let i = 0;
  while (i < t.length) {
    if (t[i] === '/') throw new RouteTemplateError("The route template separator character '/' cannot appear consecutively. It must be separated by either a parameter or a literal value.");
    const parts: TemplateSegment[] = [];
    while (i < t.length && t[i] !== '/') {
      if (t[i] === '{' && t[i + 1] !== '{') {
        const end = parameterEnd(t, i);
        const param = parseParameter(t.slice(i + 1, end).replace(/\}\}/g, '}').replace(/\{\{/g, '{'));
        if (names.has(param.name.toLowerCase())) throw new RouteTemplateError(`The route parameter name '${param.name}' appears more than one time in the route template.`);
        names.add(param.name.toLowerCase());
        parts.push({ kind: 'parameter', ...param });
        i = end + 1;
      } else {
        const start = i;
        i = literalEnd(t, i);
        const text = t.slice(start, i).replace(/\}\}/g, '}').replace(/\{\{/g, '{');
        if (text.includes('?')) throw new RouteTemplateError(`The literal section '${text}' is invalid. Literal sections cannot contain the '?' character.`);
        parts.push({ kind: 'literal', text });
      }
    }
    if (parts.length > 1) {
      const shown = t.slice(0, i).split('/').pop();
      throw new RouteTemplateError(
        `has the segment '${shown}', which mixes literals and parameters; devhost matches one literal or one parameter per segment. Use a parameter per segment, or {*rest} and split it in the handler.`,
      );
    }
    segments.push(parts[0]);
    i++; // the separator (or past the end)
  }
  const catchAll = segments.findIndex((s) => s.kind === 'parameter' && s.catchAll);
  if (catchAll >= 0 && catchAll !== segments.length - 1) throw new RouteTemplateError('A catch-all parameter can only appear as the last segment of the route template.');
  return segments;
}

/** Index of the '}' closing the parameter opened at `start` ('{{' and '}}' inside are escaped braces). */
function parameterEnd(t: string, start: number): number {
  for (let j = start + 1; j < t.length; j++) {
    if (t[j] === '{') {
      if (t[j + 1] !== '{') throw new RouteTemplateError(j + 1 >= t.length ? MISMATCHED : "In a route parameter, '{' and '}' must be escaped with '{{' and '}}'.");
      j++;
    } else if (t[j] === '}') {
      if (t[j + 1] !== '}') return j;
      j++;
    }
  }
  throw new RouteTemplateError(MISMATCHED);
}

/** Index just past a literal starting at `start`: up to a separator or an unescaped '{'. */
function literalEnd(t: string, start: number): number {
  let i = start;
  while (i < t.length && t[i] !== '/') {
    if (t[i] === '{') {
      if (t[i + 1] !== '{') return i;
      i += 2;
    } else if (t[i] === '}') {
      if (t[i + 1] !== '}') throw new RouteTemplateError(MISMATCHED);
      i += 2;
    } else i++;
  }
  return i;
}

/** The inside of `{...}`, as RouteParameterParser.ParseRouteParameter reads it. */
function parseParameter(text: string): TemplateParameter {
  let start = 0;
  let end = text.length - 1;
  let catchAll = false;
  let optional = false;
  if (text.startsWith('**')) {
    catchAll = true;
    start = 2;
  } else if (text.startsWith('*')) {
    catchAll = true;
    start = 1;
  }
  if (text.endsWith('?') && text.length > 0) {
    optional = true;
    end--;
  }
  if (catchAll && optional) throw new RouteTemplateError('A catch-all parameter cannot be marked optional.');
  // The name runs to the first ':' or '=' that is not its first character.
  let i = start;
  let name = '';
  for (; i <= end; i++) {
    if ((text[i] === ':' || text[i] === '=') && i !== start) {
      name = text.slice(start, i);
      i--; // as ASP.NET Core does: the constraint parser starts on the name's last character
      break;
    }
    if (i === end) name = text.slice(start, end + 1);
  }
  const { constraints, index } = parseConstraints(text, i, end);
  const defaultValue = index <= end && text[index] === '=' ? text.slice(index + 1, end + 1) : undefined;
  if (optional && defaultValue !== undefined) throw new RouteTemplateError('An optional parameter cannot have default value.');
  if (name.length === 0 || /[/{}?*]/.test(name)) {
    throw new RouteTemplateError(
      `The route parameter name '${name}' is invalid. Route parameter names must be non-empty and cannot contain these characters: '{', '}', '/'. The '?' character marks a parameter as optional, and can occur only at the end of the parameter. The '*' character marks a parameter as catch-all, and can occur only at the start of the parameter.`,
    );
  }
  return { name, optional, catchAll, defaultValue, constraints };
}

/**
 * ASP.NET Core's constraint state machine: ':' starts a constraint; inside '(...)' a ':' or '=' belongs to the
 * argument as long as a ')' follows, so `regex(^(a|b):c$)` stays one constraint.
 */
function parseConstraints(text: string, from: number, end: number): { constraints: string[]; index: number } {
  const constraints: string[] = [];
  let state: 'start' | 'name' | 'paren' | 'end' = 'start';
  let start = from;
  let i = from;
  const add = (s: string) => {
    if (s.length > 0) constraints.push(s);
  };
  do {
    const c = i > end ? undefined : text[i];
    if (state === 'start') {
      if (c === undefined) state = 'end';
      else if (c === ':') {
        state = 'name';
        start = i + 1;
      } else if (c === '(') state = 'paren';
      else if (c === '=') {
        state = 'end';
        i--;
      }
    } else if (state === 'paren') {
      if (c === undefined) {
        state = 'end';
        constraints.push(text.slice(start, i));
      } else if (c === ')') {
        const next = i + 1 > end ? undefined : text[i + 1];
        if (next === undefined || next === ':' || next === '=') {
          constraints.push(text.slice(start, i + 1));
          if (next === ':') {
            state = 'start';
            start = i + 1;
          } else state = 'end';
        }
      } else if (c === ':' || c === '=') {
        const close = text.indexOf(')', i + 1);
        if (close === -1) {
          constraints.push(text.slice(start, i));
          if (c === ':') {
            state = 'name';
            start = i + 1;
          } else {
            state = 'end';
            i--;
          }
        } else i = close;
      }
    } else if (state === 'name') {
      if (c === undefined) {
        state = 'end';
        add(text.slice(start, i));
      } else if (c === ':') {
        add(text.slice(start, i));
        start = i + 1;
      } else if (c === '(') state = 'paren';
      else if (c === '=') {
        state = 'end';
        add(text.slice(start, i));
        i--;
      }
    }
    i++;
  } while (state !== 'end');
  return { constraints, index: i };
}

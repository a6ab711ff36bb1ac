// Route templates of HTTP triggers, as the Functions host reads them: literal segments (case-insensitive),
// {param}, {param?} (optional), {*rest} (catch-all) and {param:constraint} (int, alpha, bool, guid, ...).

interface Segment {
  literal?: string;
  param?: string;
  optional?: boolean;
  catchAll?: boolean;
  constraint?: string;
}

export interface CompiledRoute<T> {
  template: string;
  segments: Segment[];
  target: T;
}

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  alpha: /^[a-z]+$/i,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  double: /^-?\d+(\.\d+)?$/,
  float: /^-?\d+(\.\d+)?$/,
  decimal: /^-?\d+(\.\d+)?$/,
};

/**
 * Compile a route template.
 * @example compileRoute('orchestrators/{name}/{id?}', fn)
 */
export function compileRoute<T>(template: string, target: T): CompiledRoute<T> {
  const segments = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map((s): Segment => {
      const m = /^\{(\*)?([A-Za-z_][\w]*)(?::([a-z]+)(?:\([^)]*\))?)?(\?)?\}$/.exec(s);
      if (!m) return { literal: s.toLowerCase() };
      return { param: m[2], catchAll: !!m[1], constraint: m[3], optional: !!m[4] || !!m[1] };
    });
  return { template, segments, target };
}

/** Match a path (already split and decoded) against a route; returns the params or undefined. */
export function matchRoute<T>(route: CompiledRoute<T>, parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  let i = 0;
  for (const seg of route.segments) {
    if (seg.catchAll) {
      if (i < parts.length) params[seg.param!] = parts.slice(i).join('/');
      return params;
    }
    const part = parts[i];
    if (part === undefined) {
      if (seg.optional) continue;
      return undefined;
    }
    if (seg.literal !== undefined) {
      if (part.toLowerCase() !== seg.literal) return undefined;
    } else {
      const c = seg.constraint ? CONSTRAINTS[seg.constraint] : undefined;
      if (c && !c.test(part)) return undefined;
      params[seg.param!] = part;
    }
    i++;
  }
  return i === parts.length ? params : undefined;
}

/** Most specific first: more literal segments, then fewer optional/catch-all ones. */
export function sortRoutes<T>(routes: CompiledRoute<T>[]): CompiledRoute<T>[] {
  const score = (r: CompiledRoute<T>) => r.segments.filter((s) => s.literal !== undefined).length * 100 - r.segments.filter((s) => s.optional).length * 10 + r.segments.length;
  return [...routes].sort((a, b) => score(b) - score(a));
}

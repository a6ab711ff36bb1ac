// One HTTP trigger's route, matched as the Functions host matches it: ASP.NET Core's RoutePatternMatcher over the
// parsed template (literals case-insensitive, {x?} optional, {x=abc} defaults, {*rest} catch-all), then every
// inline constraint on the values it produced (RouteBase: constraints of an absent optional parameter pass).
import { compileConstraint, ConstraintCheck, RouteConstraintError } from './route-constraints';
import { parseRouteTemplate, RouteTemplateError, TemplateParameter } from './route-template';

interface Param extends Omit<TemplateParameter, 'constraints'> {
  checks: ConstraintCheck[];
}

type Segment = { literal: string } | { param: Param };

export interface CompiledRoute<T> {
  template: string;
  segments: Segment[];
  target: T;
}

/** A template or constraint the Functions host would refuse, or devhost cannot honour; `reason` says which. */
export class RouteError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'RouteError';
  }
}

/**
 * Compile a route template with its constraints. Throws RouteError naming the problem.
 * @example compileRoute('items/{id:int:min(1)}/{*rest}', fn)
 */
export function compileRoute<T>(template: string, target: T): CompiledRoute<T> {
  let parsed;
  try {
    parsed = parseRouteTemplate(template.replace(/\/+$/, ''));
  } catch (err) {
    if (err instanceof RouteTemplateError) throw new RouteError(err.reason);
    throw err;
  }
  const segments = parsed.map((s): Segment => {
    if (s.kind === 'literal') return { literal: s.text.toLowerCase() };
    const checks = s.constraints.map((c) => {
      try {
        return compileConstraint(c);
      } catch (err) {
        if (err instanceof RouteConstraintError) throw new RouteError(`the constraint '${c}' on '${s.name}': ${err.reason}`);
        throw err;
      }
    });
    return { param: { name: s.name, optional: s.optional, catchAll: s.catchAll, defaultValue: s.defaultValue, checks } };
  });
  return { template, segments, target };
}

/**
 * Match a path (split at '/', segments decoded, none empty) against a route; returns the route values (defaults
 * included, absent optional ones left out) or undefined.
 * @example matchRoute(compileRoute('items/{id:int}', fn), ['items', '42']) // { id: '42' }
 */
export function matchRoute<T>(route: CompiledRoute<T>, parts: string[]): Record<string, string> | undefined {
  const values: Record<string, string> = {};
  let consumed = 0;
  for (const seg of route.segments) {
    const part = parts[consumed];
    if ('literal' in seg) {
      if (part === undefined || part.toLowerCase() !== seg.literal) return undefined;
      consumed++;
      continue;
    }
    const p = seg.param;
    if (p.catchAll) {
      // A catch-all takes the rest, or its default, or stays absent; it is always the last segment.
      const rest = parts.slice(consumed).join('/');
      if (rest) values[p.name] = rest;
      else if (p.defaultValue !== undefined) values[p.name] = p.defaultValue;
      consumed = parts.length;
      break;
    }
    if (part === undefined) {
      if (p.defaultValue !== undefined) values[p.name] = p.defaultValue;
      else if (!p.optional) return undefined;
      continue;
    }
    values[p.name] = part;
    consumed++;
  }
  if (consumed < parts.length) return undefined;
  for (const seg of route.segments) {
    if (!('param' in seg)) continue;
    const value = values[seg.param.name];
    if (value === undefined && seg.param.optional) continue;
    if (!seg.param.checks.every((check) => check(value))) return undefined;
  }
  return values;
}

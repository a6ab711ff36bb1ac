// The HTTP routes of an app, checked and ordered as the Functions host maps them: functions sorted by name
// (FunctionMetadataManager, OrdinalIgnoreCase), each route added to one ASP.NET Core RouteCollection in that order
// (WebScriptHostHttpRoutesManager, WebJobsRouteBuilder), so the first route whose path, constraints and method
// match wins. Routes the host would refuse stop the start with the function, the route and the reason.
import { HostError } from '../errors';
import { RegisteredFunction, Registry } from '../registry';
import { CompiledRoute, compileRoute, matchRoute, RouteError } from './routes';

export interface HttpRoute {
  fn: RegisteredFunction;
  /** The route as registered (the function name when none was given), without the routePrefix. */
  template: string;
  methods: string[];
  compiled: CompiledRoute<RegisteredFunction>;
}

export type RouteMatch = { route: HttpRoute; params: Record<string, string> } | { allowed: string[] } | undefined;

/** The app's HTTP routes in the host's matching order. */
export class RouteTable {
  readonly routes: HttpRoute[];

  /**
   * Compile and check every HTTP function's route. Throws HostError ('Registration') for a route the host refuses.
   * @example const table = new RouteTable(app.registry);
   */
  constructor(registry: Registry) {
    const fns = registry.byKind('http').sort((a, b) => ordinalIgnoreCase(a.name, b.name));
    this.routes = [];
    for (const fn of fns) {
      const template = typeof fn.trigger.route === 'string' && fn.trigger.route.length > 0 ? fn.trigger.route : fn.name;
      const methods = (Array.isArray(fn.trigger.methods) ? (fn.trigger.methods as string[]) : ['GET', 'POST']).map((m) => m.toUpperCase());
      const fail = (reason: string) => new HostError('Registration', `HTTP function '${fn.name}' has the route '${template}', which the Functions host cannot use: ${reason}`);
      // ScriptHost.ValidateHttpFunction: the host's own URL space.
      const trimmed = template.replace(/^\/+|\/+$/g, '').toLowerCase();
      if (trimmed.startsWith('admin') || trimmed.startsWith('runtime')) throw fail("The specified route conflicts with one or more built in routes (routes may not start with 'admin' or 'runtime').");
      // ScriptHost.HttpRoutesConflict: the same route text with a method in common.
      const twin = this.routes.find((r) => r.template.replace(/^\/+|\/+$/g, '').toLowerCase() === trimmed && r.methods.some((m) => methods.includes(m)));
      if (twin) throw fail(`The route specified conflicts with the route defined by function '${twin.fn.name}'.`);
      let compiled: CompiledRoute<RegisteredFunction>;
      try {
        compiled = compileRoute(template, fn);
      } catch (err) {
        if (err instanceof RouteError) throw fail(err.reason);
        throw err;
      }
      this.routes.push({ fn, template, methods, compiled });
    }
  }

  /**
   * The first route that matches the path and the method, or the methods the path's routes allow, or undefined.
   * @example table.match('GET', ['items', '42']) // { route, params: { id: '42' } }
   */
  match(method: string, parts: string[]): RouteMatch {
    let allowed: string[] | undefined;
    for (const route of this.routes) {
      const params = matchRoute(route.compiled, parts);
      if (!params) continue;
      if (route.methods.includes(method)) return { route, params };
      allowed = [...(allowed ?? []), ...route.methods];
    }
    return allowed ? { allowed: [...new Set(allowed)] } : undefined;
  }
}

/** .NET's StringComparer.OrdinalIgnoreCase order. */
function ordinalIgnoreCase(a: string, b: string): number {
  const x = a.toUpperCase();
  const y = b.toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

// Provides the module `@azure/functions-core`, which the Functions Node worker normally fabricates:
// `@azure/functions` registers every app.* call and hook through it. Installed once per process by
// wrapping Module.prototype.require; registrations go to the Registry of the app being loaded.
import Module from 'node:module';
import { HostError } from './errors';
import { FunctionCallback, FunctionMetadata, HookCallback, Registry } from './registry';

type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';
export type SystemLogSink = (level: LogLevel, category: string, message: string) => void;

class Disposable {
  private done = false;
  constructor(private readonly callOnDispose: () => void) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    if (!this.done) {
      this.done = true;
      this.callOnDispose();
    }
  }
}

interface Target {
  registry: Registry;
  log: SystemLogSink;
}

let current: Target | undefined;
let installed = false;

function target(what: string): Target {
  if (!current) {
    throw new HostError('Registration', `${what} was called while no app is loading: registrations must happen at the top level of the app's entry files.`);
  }
  return current;
}

/** The object `require('@azure/functions-core')` returns inside the devhost. */
const coreApi = {
  version: '3.10.1',
  hostVersion: '4.1037.0',
  Disposable,
  setProgrammingModel(model: unknown): void {
    target('setProgrammingModel').registry.programmingModel = model;
  },
  getProgrammingModel(): unknown {
    return current?.registry.programmingModel;
  },
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    const t = target(`Registering function '${metadata?.name}'`);
    t.registry.registerFunction(metadata, callback);
    t.registry.calls++;
    return new Disposable(() => t.registry.functions.delete(metadata.name.toLowerCase()));
  },
  registerHook(name: string, callback: HookCallback): Disposable {
    const t = current;
    if (!t) throw new HostError('Registration', `Hook '${name}' was registered while no app is loading.`);
    t.registry.registerHook(name, callback);
    t.registry.calls++;
    return new Disposable(() => t.registry.unregisterHook(name as never, callback));
  },
  log(level: LogLevel, category: string, message: string): void {
    if (current) {
      // A file whose only call is app.setup() (index.ts in Microsoft's layout) logs through here: it did something.
      current.registry.calls++;
      // @azure/functions keeps `enableHttpStream` private and says it only through this log line (src/setup.ts);
      // the worker learns it from getCapabilities(), which would start the library's HTTP proxy.
      if (message === 'HTTP streaming enabled.') current.registry.httpStream = true;
    }
    current?.log(level, category, message);
  },
};

/** Make `@azure/functions-core` resolvable in this process (idempotent). */
export function installCoreModule(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  const original = proto.require;
  proto.require = function (this: unknown, id: string) {
    if (id === '@azure/functions-core') return coreApi;
    return original.call(this, id);
  } as typeof proto.require;
}

/**
 * Run `load` with registrations routed to `registry`. Loads are serialized per process because
 * `@azure/functions` keeps one module-level view of the core API.
 */
let chain: Promise<unknown> = Promise.resolve();
export function withRegistrationTarget<T>(registry: Registry, log: SystemLogSink, load: () => Promise<T>): Promise<T> {
  const run = chain.then(async () => {
    current = { registry, log };
    try {
      return await load();
    } finally {
      current = undefined;
    }
  });
  chain = run.catch(() => undefined);
  return run;
}

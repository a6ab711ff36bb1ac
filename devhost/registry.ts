// What an app registered while it loaded: functions by kind, and hooks. Filled through the
// `@azure/functions-core` module the host provides (see core-module.ts).
import { HostError } from './errors';

/** A binding as `@azure/functions` describes it in function metadata. */
export interface BindingInfo {
  type: string;
  name: string;
  direction: 'in' | 'out' | 'inout';
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, BindingInfo>;
  retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export type FunctionKind = 'http' | 'orchestration' | 'activity' | 'entity' | 'other';

export interface RegisteredFunction {
  name: string;
  kind: FunctionKind;
  metadata: FunctionMetadata;
  callback: FunctionCallback;
  trigger: BindingInfo;
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
export type HookCallback = (context: Record<string, unknown>) => unknown;

const KIND_BY_TRIGGER: Record<string, FunctionKind> = {
  httpTrigger: 'http',
  orchestrationTrigger: 'orchestration',
  activityTrigger: 'activity',
  entityTrigger: 'entity',
};

/** The functions and hooks of one loaded app. */
export class Registry {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks: Record<HookName, HookCallback[]> = {
    appStart: [],
    appTerminate: [],
    preInvocation: [],
    postInvocation: [],
    log: [],
  };
  programmingModel: unknown;
  /** Calls the app made into `@azure/functions-core` while loading (registrations, hooks, setup logs). */
  calls = 0;
  /** The app called `app.setup({ enableHttpStream: true })`: its HTTP requests are built the streaming way. */
  httpStream = false;
  private locked = false;
  private readonly disabled = new Set<string>();

  /** Called by `@azure/functions` for every `app.*` registration. */
  registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): void {
    if (this.locked) {
      throw new HostError(
        'Registration',
        `A function can only be registered during app startup: '${metadata.name}' was registered after the app finished loading. Move the app.* call to the top level of a file named by package.json "main".`,
      );
    }
    const key = metadata.name.toLowerCase();
    if (this.functions.has(key)) {
      throw new HostError('Registration', `A function with the name '${metadata.name}' has already been registered. Function names are case-insensitive and must be unique.`);
    }
    const trigger = Object.values(metadata.bindings).find((b) => b.direction === 'in' && /Trigger$/.test(b.type));
    if (!trigger) {
      throw new HostError('Registration', `Function '${metadata.name}' has no trigger binding.`);
    }
    this.functions.set(key, { name: metadata.name, kind: KIND_BY_TRIGGER[trigger.type] ?? 'other', metadata, callback, trigger });
  }

  registerHook(name: string, callback: HookCallback): void {
    if (!(name in this.hooks)) throw new HostError('Registration', `Unknown hook '${name}'.`);
    if (this.locked && name === 'appStart') {
      throw new HostError('Registration', `An appStart hook was registered after the app started; register hooks at the top level of the app.`);
    }
    this.hooks[name as HookName].push(callback);
  }

  unregisterHook(name: HookName, callback: HookCallback): void {
    const list = this.hooks[name];
    const i = list.indexOf(callback);
    if (i >= 0) list.splice(i, 1);
  }

  /**
   * Mark a function disabled (app setting `AzureWebJobs.<name>.Disabled`): `get` no longer finds it, as the
   * Durable extension finds no disabled function, and its HTTP route answers 404.
   * @example registry.disable('sayHello');
   */
  disable(name: string): void {
    this.disabled.add(name.toLowerCase());
  }

  isDisabled(name: string): boolean {
    return this.disabled.has(name.toLowerCase());
  }

  /** Refuse further function registrations (the app finished loading). */
  lock(): void {
    this.locked = true;
  }

  /** The enabled function of that name (case-insensitive) and kind, if any. */
  get(name: string, kind?: FunctionKind): RegisteredFunction | undefined {
    const key = name.toLowerCase();
    if (this.disabled.size > 0 && this.disabled.has(key)) return undefined;
    const f = this.functions.get(key);
    return f && (!kind || f.kind === kind) ? f : undefined;
  }

  /** Every function of a kind, disabled ones included (a disabled HTTP function still owns its route). */
  byKind(kind: FunctionKind): RegisteredFunction[] {
    return [...this.functions.values()].filter((f) => f.kind === kind);
  }
}

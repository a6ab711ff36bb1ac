// Calls a registered function the way the worker does: a fresh InvocationContext, the durable-client
// binding filled in, preInvocation hooks (which may swap inputs or the handler), then postInvocation hooks.
import { randomUUID } from 'node:crypto';
import { LoadedApp } from './app-loader';
import { BindingInfo, RegisteredFunction } from './registry';

export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical';

export interface HostLogEntry {
  time: string;
  level: string;
  functionName?: string;
  invocationId?: string;
  message: string;
}

export type LogSink = (entry: Omit<HostLogEntry, 'time'>) => void;

export interface InvokeOptions {
  /** Makes the value handed to a durableClient / orchestrationClient input binding (only when the function has one). */
  clientBinding?: () => unknown;
  triggerMetadata?: Record<string, unknown>;
  invocationId?: string;
  retryContext?: unknown;
}

export interface InvokeResult {
  invocationId: string;
  result: unknown;
}

const CLIENT_TYPES = new Set(['durableClient', 'orchestrationClient']);

/** Runs registered functions of one loaded app. */
export class Invoker {
  constructor(private readonly app: LoadedApp, private readonly log: LogSink) {}

  /**
   * Invoke `fn` with its trigger input; resolves to what the handler returned (after hooks).
   * @example const { result } = await invoker.invoke(fn, request);
   */
  async invoke(fn: RegisteredFunction, triggerInput: unknown, opts: InvokeOptions = {}): Promise<InvokeResult> {
    const invocationId = opts.invocationId ?? randomUUID();
    const { extraInputs, extraOutputs } = bindingsOf(fn);
    const context = new this.app.af.InvocationContext({
      invocationId,
      functionName: fn.name,
      triggerMetadata: opts.triggerMetadata,
      retryContext: opts.retryContext,
      logHandler: (level: LogLevel, ...args: unknown[]) => this.log({ level, functionName: fn.name, invocationId, message: args.map(format).join(' ') }),
      options: { trigger: fn.trigger, extraInputs, extraOutputs, return: fn.metadata.bindings['$return'] },
    }) as { extraInputs: { set(b: BindingInfo, v: unknown): void } };
    for (const b of extraInputs) {
      if (CLIENT_TYPES.has(b.type)) context.extraInputs.set(b, opts.clientBinding?.());
    }

    const hooks = this.app.registry.hooks;
    let inputs: unknown[] = [triggerInput];
    let callback = fn.callback;
    let hookData: unknown = {};
    if (hooks.preInvocation.length > 0) {
      const pre: Record<string, unknown> = { invocationContext: context, inputs, functionCallback: callback, hookData: {}, appHookData: this.app.appHookData };
      for (const h of hooks.preInvocation) await h(pre);
      inputs = pre.inputs as unknown[];
      callback = pre.functionCallback as typeof callback;
      hookData = pre.hookData;
    }
    let result: unknown;
    let error: unknown;
    try {
      result = await callback(...inputs, context);
    } catch (err) {
      error = err;
    }
    if (hooks.postInvocation.length > 0) {
      const post: Record<string, unknown> = { invocationContext: context, inputs, result, error, hookData, appHookData: this.app.appHookData };
      for (const h of hooks.postInvocation) await h(post);
      result = post.result;
      error = post.error;
    }
    if (error !== undefined) throw error;
    return { invocationId, result };
  }
}

/** A function's extra input and output bindings, worked out once per function (every invocation needs them). */
const bindingCache = new WeakMap<RegisteredFunction, { extraInputs: BindingInfo[]; extraOutputs: BindingInfo[] }>();
function bindingsOf(fn: RegisteredFunction): { extraInputs: BindingInfo[]; extraOutputs: BindingInfo[] } {
  let b = bindingCache.get(fn);
  if (!b) {
    const all = Object.entries(fn.metadata.bindings);
    b = {
      extraInputs: all.filter(([k, x]) => k !== '$return' && x.direction === 'in' && x !== fn.trigger).map(([, x]) => x),
      extraOutputs: all.filter(([k, x]) => k !== '$return' && x.direction === 'out').map(([, x]) => x),
    };
    bindingCache.set(fn, b);
  }
  return b;
}

function format(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x instanceof Error) return x.stack ?? x.message;
  try {
    return JSON.stringify(x);
  } catch {
    return String(x);
  }
}

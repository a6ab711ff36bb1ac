// The Durable client of an invocation, made once per distinct binding: df.getClient builds a new client (an axios
// instance, URL checks) on every call, a visible cost per command; the client holds nothing but the binding's
// data, so invocations with the same binding share one.
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';
import { remember } from '../../core/bounded';

const clients = new Map<string, DurableClient>();
const MAX_CLIENTS = 16;

/**
 * df.getClient(context), shared by invocations whose client binding data is the same.
 *
 * @example
 * const client = durableClient(context);
 */
export function durableClient(context: InvocationContext): DurableClient {
  const binding = context.options.extraInputs.find((i) => i.type === 'durableClient' || i.type === 'orchestrationClient');
  const data = binding ? context.extraInputs.get(binding) : undefined;
  const key = data === undefined ? undefined : `${process.env.WEBSITE_HOSTNAME ?? ''}\u0000${JSON.stringify(data)}`;
  if (key === undefined) return df.getClient(context); // let the SDK report the missing binding
  return clients.get(key) ?? remember(clients, key, df.getClient(context), MAX_CLIENTS);
}

// What an HTTP handler finds in `request.params`, which depends on how @azure/functions builds the request:
// * by default from the RPC request's `params`, which the host fills with the route values only
//   (azure-functions-host GrpcMessageConversionExtensions.PopulateHttpRouteDataAsParams);
// * with `app.setup({ enableHttpStream: true })` from the invocation's trigger metadata (library createStreamRequest),
//   which is the HTTP trigger's binding data: every query value but `code`, then the route values over them
//   (azure-webjobs-sdk-extensions HttpTriggerAttributeBindingProvider.GetRequestBindingData, keys case-insensitive).

/**
 * `request.params` for a request with these route values and query string.
 * @example requestParams({ id: '7' }, new URLSearchParams('id=1&q=x'), true) // { id: '7', q: 'x' }
 */
export function requestParams(route: Record<string, string>, query: URLSearchParams, httpStream: boolean): Record<string, string> {
  if (!httpStream) return { ...route };
  // ASP.NET Core's query collection is case-insensitive and joins repeated values with ','.
  const merged = new Map<string, { key: string; value: string }>();
  for (const [key, value] of query) {
    const k = key.toLowerCase();
    if (k === 'code') continue; // the function key: "skip any system parameters that should not be bound to"
    const seen = merged.get(k);
    merged.set(k, seen ? { key: seen.key, value: `${seen.value},${value}` } : { key, value });
  }
  // A route value replaces a query value of the same name (in any case); the first spelling stays, as in a .NET dictionary.
  for (const [key, value] of Object.entries(route)) {
    const seen = merged.get(key.toLowerCase());
    merged.set(key.toLowerCase(), { key: seen?.key ?? key, value });
  }
  return Object.fromEntries([...merged.values()].map(({ key, value }) => [key, value]));
}

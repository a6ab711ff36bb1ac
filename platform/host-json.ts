// host.json as the Functions host reads it: the file's values, then app settings named
// AzureFunctionsJobHost__<path> (segments joined by "__", matched without regard to case), which override single
// values. Shared by devhost (devhost/host-json.ts) and the app's start-up checks (platform/durable-backend.ts).

const OVERRIDE = /^AzureFunctionsJobHost__(.+)$/i;

/**
 * Applies every `AzureFunctionsJobHost__*` setting in `env` to `json` (in place) and returns it.
 * @example applyJobHostOverrides({}, { AzureFunctionsJobHost__extensions__durableTask__hubName: 'Other' }) // { extensions: { durableTask: { hubName: 'Other' } } }
 */
export function applyJobHostOverrides<T extends Record<string, unknown>>(json: T, env: NodeJS.ProcessEnv): T {
  for (const [name, value] of Object.entries(env)) {
    const m = OVERRIDE.exec(name);
    if (m && value !== undefined) setPath(json, m[1].split('__'), value);
  }
  return json;
}

/** Sets a value at a path, reusing keys that match a segment case-insensitively (configuration keys are case-insensitive). */
function setPath(target: Record<string, unknown>, segments: string[], value: string): void {
  let node = target;
  for (let i = 0; i < segments.length; i++) {
    const key = Object.keys(node).find((k) => k.toLowerCase() === segments[i].toLowerCase()) ?? segments[i];
    if (i === segments.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
}

// host.json as the Functions host reads it: the file, then app settings named AzureFunctionsJobHost__<path>
// (path segments joined by "__", matched case-insensitively), which override single values, as on Azure.
import fs from 'node:fs';
import path from 'node:path';
import { HostError, messageOf } from './errors';

export interface HostJson {
  version?: string;
  extensions?: {
    http?: { routePrefix?: string };
    durableTask?: {
      hubName?: string;
      storageProvider?: Record<string, unknown>;
      maxConcurrentActivityFunctions?: number;
      defaultVersion?: string;
      versionMatchStrategy?: string;
      versionFailureStrategy?: string;
      [key: string]: unknown;
    };
  };
  [key: string]: unknown;
}

const OVERRIDE = /^AzureFunctionsJobHost__(.+)$/i;

/**
 * Reads `<dir>/host.json` (a missing file is `{ "version": "2.0" }`) and applies `AzureFunctionsJobHost__*`
 * overrides from `env`.
 * @example readHostJson('.', { AzureFunctionsJobHost__extensions__durableTask__hubName: 'Other' }).extensions?.durableTask?.hubName // 'Other'
 */
export function readHostJson(dir: string, env: NodeJS.ProcessEnv = process.env): HostJson {
  const file = path.join(dir, 'host.json');
  let json: HostJson = { version: '2.0' };
  if (fs.existsSync(file)) {
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8')) as HostJson;
    } catch (err) {
      throw new HostError('Registration', `host.json in '${dir}' is not valid JSON: ${messageOf(err)}`);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new HostError('Registration', `host.json in '${dir}' is not a JSON object.`);
  }
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

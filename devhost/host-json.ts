// host.json as the Functions host reads it: the file, then app settings named AzureFunctionsJobHost__<path>
// (path segments joined by "__", matched case-insensitively), which override single values, as on Azure.
import fs from 'node:fs';
import path from 'node:path';
import { HostError, messageOf } from './errors';
import { applyJobHostOverrides } from '../platform/host-json';

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
  return applyJobHostOverrides(json, env);
}

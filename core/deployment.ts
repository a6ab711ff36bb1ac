// Start-up checks of the settings a deployment needs, run before any function registers (functions/lib/app.ts): an
// unresolved Key Vault reference, the storage connection (string or managed identity), the Durable backend host.json
// and its AzureFunctionsJobHost__ overrides select, the game's numeric settings and the operator key. A bad one stops
// the app with one line naming the setting and its expected form, instead of a 503 on the first request.
import fs from 'node:fs';
import path from 'node:path';
import { durableBackend, type DurableBackend } from '../platform/durable-backend';
import { applyJobHostOverrides } from '../platform/host-json';
import { KEY_VAULT_REFERENCE, unresolvedKeyVaultReference } from '../platform/setting-error';
import { GameError, isGameError } from './errors';
import { onAzure, operatorKey, settings } from './settings';

/** host.json beside package.json: two levels up from dist/core/, one from core/ when run from source. */
const HOST_JSON_CANDIDATES = [path.resolve(__dirname, '../../host.json'), path.resolve(__dirname, '../host.json')];

/**
 * Checks every setting the deployed app depends on; throws GameError('missing_setting') with a one-line message.
 * Returns the Durable backend in use.
 *
 * @example
 * checkDeploymentSettings(); // in functions/lib/app.ts, before tokenSecret()
 */
export function checkDeploymentSettings(env: NodeJS.ProcessEnv = process.env): DurableBackend {
  try {
    // First: a reference App Service could not resolve is a public-looking string (it names the vault), never a secret.
    const unresolved = Object.keys(env)
      .filter((k) => KEY_VAULT_REFERENCE.test(env[k] ?? ''))
      .sort();
    if (unresolved.length > 0) throw unresolvedKeyVaultReference(unresolved[0]);
    settings.storageConnection();
    settings.tablePrefix();
    settings.tokenTtlSeconds();
    settings.messageRetentionSeconds();
    operatorKey(); // missing on Azure, or weak anywhere
    return durableBackend(readHostJson(env), env, { onAzure: onAzure() });
  } catch (err) {
    if (isGameError(err)) throw err;
    throw new GameError('missing_setting', (err as Error).message, { cause: err });
  }
}

function readHostJson(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const file = HOST_JSON_CANDIDATES.find((f) => fs.existsSync(f));
  let json: Record<string, unknown> = {};
  if (file) {
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new GameError('missing_setting', `host.json is not valid JSON (${(err as Error).message}); the Functions host cannot start with it either.`);
    }
  }
  return applyJobHostOverrides(json, env);
}

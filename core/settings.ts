// App settings the toolkit reads (from process.env, i.e. Azure app settings or local.settings.json), each with
// its safe local default; read lazily so a test host can set them before the first request.
import { randomBytes } from 'node:crypto';
import { GameError } from './errors';
import { readStorageConnection, type StorageConnection } from '../platform/storage-connection';

let generatedSecret: string | undefined;

/** True when running on Azure (the platform sets WEBSITE_INSTANCE_ID on every instance). */
export function onAzure(): boolean {
  return Boolean(process.env.WEBSITE_INSTANCE_ID);
}

/**
 * The secret that signs player tokens: `GAME_TOKEN_SECRET`. Missing on Azure is an error (every instance must share
 * one secret); missing locally, a random one is generated for this process with a warning.
 *
 * @example
 * const secret = tokenSecret(console.warn);
 */
export function tokenSecret(warn: (message: string) => void = console.warn): string {
  const configured = process.env.GAME_TOKEN_SECRET;
  if (configured && configured.length >= 16) return configured;
  if (configured) {
    throw new GameError('missing_setting', `GAME_TOKEN_SECRET is only ${configured.length} characters; use at least 16 random characters (e.g. \`openssl rand -base64 32\`).`);
  }
  if (onAzure()) {
    throw new GameError(
      'missing_setting',
      'GAME_TOKEN_SECRET is not set. Every instance must sign player tokens with the same secret: add an app setting ' +
        'GAME_TOKEN_SECRET with at least 16 random characters (e.g. `az functionapp config appsettings set --settings GAME_TOKEN_SECRET=$(openssl rand -base64 32)`).',
    );
  }
  if (!generatedSecret) {
    generatedSecret = randomBytes(32).toString('base64url');
    warn('GAME_TOKEN_SECRET is not set: using a random secret for this process; tokens stop working when it restarts. Set it in local.settings.json to keep them.');
  }
  return generatedSecret;
}

function intSetting(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new GameError('missing_setting', `${name}=${JSON.stringify(raw)} is not an integer between ${min} and ${max}.`);
  }
  return value;
}

/** Settings with defaults, read at call time. */
export const settings = {
  /**
   * Storage connection for the game's tables: `AzureWebJobsStorage` (the same account as the task hub), a connection
   * string (Azurite locally) or the identity-based `AzureWebJobsStorage__accountName` / `__tableServiceUri` form.
   */
  storageConnection(): StorageConnection {
    try {
      return readStorageConnection(process.env, 'AzureWebJobsStorage');
    } catch (err) {
      throw new GameError('missing_setting', (err as Error).message, { cause: err });
    }
  },
  /** `GAME_TABLE_PREFIX`: prefix of the game's table names (letters and digits), to share one account between apps or tests. */
  tablePrefix(): string {
    const value = process.env.GAME_TABLE_PREFIX ?? '';
    if (!/^[A-Za-z0-9]{0,20}$/.test(value) || (value !== '' && !/^[A-Za-z]/.test(value))) {
      throw new GameError('missing_setting', `GAME_TABLE_PREFIX=${JSON.stringify(value)} must be empty or start with a letter and hold at most 20 letters and digits.`);
    }
    return value;
  },
  /** `GAME_TOKEN_TTL_SECONDS`: how long a player token is valid (default 1 day). */
  tokenTtlSeconds: (): number => intSetting('GAME_TOKEN_TTL_SECONDS', 86_400, 60, 31_536_000),
  /** `GAME_MESSAGE_RETENTION_SECONDS`: how long outbox messages are kept (default 1 day). */
  messageRetentionSeconds: (): number => intSetting('GAME_MESSAGE_RETENTION_SECONDS', 86_400, 60, 31_536_000),
  /** `GAME_DEV_COMMANDS`: "1" registers the extra commands the end-to-end tests and benchmarks drive. */
  devCommands: (): boolean => process.env.GAME_DEV_COMMANDS === '1',
};

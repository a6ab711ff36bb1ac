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
 * Values of GAME_TOKEN_SECRET anyone can read in the repository: the example file's placeholder (devhost replaces it
 * per clone) and the value the example file shipped before it. Refused everywhere, whatever their length.
 */
export const PUBLISHED_TOKEN_SECRETS: readonly string[] = ['<random-secret>', 'local-dev-secret-change-me-0123456789'];
/** Shortest accepted GAME_TOKEN_SECRET, in bytes (UTF-8): 256 bits, the size of an HMAC-SHA256 key that brute force cannot reach. */
export const MIN_TOKEN_SECRET_BYTES = 32;

/**
 * The secret that signs player tokens: `GAME_TOKEN_SECRET`, at least 32 bytes and not a published value (the example
 * file's placeholder, or anything in angle brackets). Anything else is an error naming the setting and the fix, so
 * the app stops at start-up; missing is an error on Azure (every instance must share one secret), and locally a
 * random secret for this process with a warning (devhost fills local.settings.json, so this is for other hosts).
 *
 * @example
 * const secret = tokenSecret(console.warn);
 */
export function tokenSecret(warn: (message: string) => void = console.warn): string {
  const configured = process.env.GAME_TOKEN_SECRET;
  const fix = onAzure()
    ? 'Set a random one: `az functionapp config appsettings set --settings GAME_TOKEN_SECRET=$(openssl rand -base64 32)`.'
    : 'Run `npm start` once (devhost writes a random one into local.settings.json, which git ignores), or set a random one: `openssl rand -base64 32`.';
  if (configured) {
    const trimmed = configured.trim();
    if (PUBLISHED_TOKEN_SECRETS.includes(trimmed) || /^<.*>$/.test(trimmed)) {
      throw new GameError(
        'missing_setting',
        `GAME_TOKEN_SECRET is ${trimmed.startsWith('<') ? 'the placeholder' : 'the value'} ${JSON.stringify(trimmed)} from local.settings.example.json: anyone can read it there and sign tokens for any player. ${fix}`,
      );
    }
    const bytes = Buffer.byteLength(configured, 'utf8');
    if (bytes < MIN_TOKEN_SECRET_BYTES) {
      throw new GameError('missing_setting', `GAME_TOKEN_SECRET is only ${bytes} bytes; use at least ${MIN_TOKEN_SECRET_BYTES} random bytes. ${fix}`);
    }
    return configured;
  }
  if (onAzure()) {
    throw new GameError(
      'missing_setting',
      'GAME_TOKEN_SECRET is not set. Every instance must sign player tokens with the same secret: add an app setting ' +
        `GAME_TOKEN_SECRET with at least ${MIN_TOKEN_SECRET_BYTES} random bytes (e.g. \`az functionapp config appsettings set --settings GAME_TOKEN_SECRET=$(openssl rand -base64 32)\`).`,
    );
  }
  if (!generatedSecret) {
    generatedSecret = randomBytes(32).toString('base64url');
    warn('GAME_TOKEN_SECRET is not set: using a random secret for this process; tokens stop working when it restarts. Set it in local.settings.json to keep them.');
  }
  return generatedSecret;
}

/** Shortest accepted GAME_OPERATOR_KEY, in bytes: as for the token secret, beyond the reach of guessing. */
export const MIN_OPERATOR_KEY_BYTES = 32;

/**
 * The key of the operator routes: `GAME_OPERATOR_KEY`, at least 32 bytes, not a placeholder and not the token secret.
 * A weak one is an error everywhere; a missing one is an error on Azure (infra/ puts a generated one in Key Vault)
 * and, elsewhere, undefined: the operator routes are off.
 *
 * @example
 * const key = operatorKey(); // undefined locally when not set
 */
export function operatorKey(): string | undefined {
  const configured = process.env.GAME_OPERATOR_KEY;
  const fix = onAzure()
    ? '`azd provision` generates one into Key Vault (infra/), or set a random one: `az functionapp config appsettings set --settings GAME_OPERATOR_KEY=$(openssl rand -base64 32)`.'
    : 'Set a random one in local.settings.json: `"GAME_OPERATOR_KEY": "<random-secret>"` makes `npm start` fill it in, or use `openssl rand -base64 32`.';
  if (!configured) {
    if (onAzure()) throw new GameError('missing_setting', `GAME_OPERATOR_KEY is not set: the operator routes (/api/operator) need a key of their own. ${fix}`);
    return undefined;
  }
  if (/^<.*>$/.test(configured.trim())) throw new GameError('missing_setting', `GAME_OPERATOR_KEY is the placeholder ${JSON.stringify(configured.trim())}, which anyone can read. ${fix}`);
  const bytes = Buffer.byteLength(configured, 'utf8');
  if (bytes < MIN_OPERATOR_KEY_BYTES) throw new GameError('missing_setting', `GAME_OPERATOR_KEY is only ${bytes} bytes; use at least ${MIN_OPERATOR_KEY_BYTES} random bytes. ${fix}`);
  if (configured === process.env.GAME_TOKEN_SECRET) throw new GameError('missing_setting', `GAME_OPERATOR_KEY is the same as GAME_TOKEN_SECRET: a leak of one must not give away the other. ${fix}`);
  return configured;
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
  /**
   * `GAME_PASSWORD_COST`: scrypt's N is 2^cost (default 17, OWASP's minimum: about 128 MiB and half a second per
   * hash). Tests lower it to stay fast; on Azure anything below 17 is refused, so a test value cannot ship.
   */
  passwordCost(): number {
    const cost = intSetting('GAME_PASSWORD_COST', 17, 10, 20);
    if (cost < 17 && onAzure()) {
      throw new GameError('missing_setting', `GAME_PASSWORD_COST=${cost} is below 17 (scrypt N=2^17, OWASP's minimum); lower values are for tests only. Remove the setting on Azure.`);
    }
    return cost;
  },
  /** `GAME_SIGNUPS_PER_HOUR`: new accounts one client address may create per hour (default 20, in bursts of up to that many). */
  signupsPerHour: (): number => intSetting('GAME_SIGNUPS_PER_HOUR', 20, 1, 1_000_000),
  /** `GAME_DEV_COMMANDS`: "1" registers the extra commands the end-to-end tests and benchmarks drive. */
  devCommands: (): boolean => process.env.GAME_DEV_COMMANDS === '1',
  /** `GAME_MAX_TASKS_PER_PLAYER`: most live delays and background jobs (runAsync) one player may have (default 100). */
  maxTasksPerPlayer: (): number => intSetting('GAME_MAX_TASKS_PER_PLAYER', 100, 1, 1000),
  /** `GAME_MAX_COMMANDS_PER_PLAYER`: most interactive commands one player may have running at once (default 10). */
  maxCommandsPerPlayer: (): number => intSetting('GAME_MAX_COMMANDS_PER_PLAYER', 10, 1, 1000),
  /** `GAME_MAX_DELAY_SECONDS`: longest delay (and runAsync retry wait) a task may ask for (default one year). */
  maxDelaySeconds: (): number => intSetting('GAME_MAX_DELAY_SECONDS', 31_536_000, 1, 3_153_600_000),
  /** `GAME_INPUT_RATE`: lines per second one player may send to /api/input, sustained (default 10). */
  inputRate: (): number => intSetting('GAME_INPUT_RATE', 10, 1, 10_000),
  /** `GAME_INPUT_BURST`: lines one player may send at once before GAME_INPUT_RATE applies (default 30). */
  inputBurst: (): number => intSetting('GAME_INPUT_BURST', 30, 1, 100_000),
  /**
   * `GAME_STREAM_SECONDS`: how long one GET /api/stream stays open before it ends with `event: end` and the client
   * reconnects (default 120; at most 220, under the 230 s Azure's front end allows a request).
   */
  streamSeconds: (): number => intSetting('GAME_STREAM_SECONDS', 120, 1, 220),
  /**
   * `GAME_MAX_STREAMS_PER_PLAYER`: most GET /api/stream one player may hold open on one instance (default 5); one
   * more ends their oldest (a tab closed long ago, whose stream Azure's worker keeps running to its end).
   */
  maxStreamsPerPlayer: (): number => intSetting('GAME_MAX_STREAMS_PER_PLAYER', 5, 1, 1000),
  /**
   * `GAME_STREAM_HEARTBEAT_SECONDS`: a quiet stream sends a `: keepalive` comment this often, for proxies (default
   * 15, at most 15: the terminal and web clients take a stream silent for 45 s, three heartbeats, as broken).
   */
  streamHeartbeatSeconds: (): number => intSetting('GAME_STREAM_HEARTBEAT_SECONDS', 15, 1, 15),
};

// Which Durable backend host.json (with its AzureFunctionsJobHost__ overrides) selects, and whether the settings it
// names can work: the Azure Storage provider (default), the Durable Task Scheduler (`azureManaged`) or MSSQL. Checked
// when the app starts, so a wrong setting stops it with one line instead of failing the first request.
import { readStorageConnection } from './storage-connection';
import { KEY_VAULT_REFERENCE, SettingError, unresolvedKeyVaultReference } from './setting-error';

/** The backends this app documents and provisions (infra/durable/*.json switch between them). */
export type DurableBackendKind = 'azureStorage' | 'durableTaskScheduler' | 'mssql';

export interface DurableBackend {
  kind: DurableBackendKind;
  /** The app setting that holds the connection (AzureWebJobsStorage, DURABLE_TASK_SCHEDULER_CONNECTION_STRING, ...). */
  connectionSetting: string;
  hubName?: string;
}

const OVERRIDE_PREFIX = 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__';

/**
 * The backend `hostJson` (already merged with its overrides) selects, after checking the settings it needs.
 * `onAzure` refuses what only works locally (the scheduler emulator's connection string). Throws SettingError.
 *
 * @example
 * durableBackend(readHostJsonWithOverrides(dir), process.env, { onAzure: true }).kind // 'azureStorage'
 */
export function durableBackend(hostJson: Record<string, unknown>, env: NodeJS.ProcessEnv, opts: { onAzure: boolean }): DurableBackend {
  const durableTask = objectAt(hostJson, ['extensions', 'durableTask']);
  const provider = objectAt(durableTask, ['storageProvider']);
  const type = typeof provider.type === 'string' ? provider.type.trim() : '';
  const hubName = resolveHubName(durableTask.hubName, env);
  switch (type.toLowerCase()) {
    case '':
    case 'azurestorage': {
      const name = stringOf(provider.connectionName) ?? stringOf(provider.connectionStringName) ?? 'AzureWebJobsStorage';
      readStorageConnection(env, name);
      return { kind: 'azureStorage', connectionSetting: name, hubName };
    }
    case 'azuremanaged': {
      const name = requiredConnectionName(provider, 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING');
      checkSchedulerConnection(name, settingValue(env, name), opts.onAzure);
      if (!hubName) {
        throw new SettingError('MissingSetting', 'extensions.durableTask.hubName', 'host.json extensions.durableTask.hubName is not set: the Durable Task Scheduler needs the name of a task hub that exists in the scheduler.');
      }
      return { kind: 'durableTaskScheduler', connectionSetting: name, hubName };
    }
    case 'mssql': {
      const name = requiredConnectionName(provider, 'SQLDB_Connection');
      checkSqlConnection(name, settingValue(env, name));
      return { kind: 'mssql', connectionSetting: name, hubName };
    }
    default:
      throw new SettingError(
        'InvalidSetting',
        `${OVERRIDE_PREFIX}type`,
        `The Durable storage provider type "${type}" (host.json extensions.durableTask.storageProvider.type, or ${OVERRIDE_PREFIX}type) is not one this app supports: leave it unset for Azure Storage, or use "azureManaged" (Durable Task Scheduler) or "mssql".`,
      );
  }
}

function requiredConnectionName(provider: Record<string, unknown>, example: string): string {
  const name = stringOf(provider.connectionStringName);
  if (!name) {
    throw new SettingError(
      'MissingSetting',
      `${OVERRIDE_PREFIX}connectionStringName`,
      `${OVERRIDE_PREFIX}connectionStringName (host.json storageProvider.connectionStringName) is not set: name the app setting that holds the connection string, e.g. ${example}.`,
    );
  }
  return name;
}

function settingValue(env: NodeJS.ProcessEnv, name: string): string {
  const value = Object.entries(env).find(([k, v]) => k.toLowerCase() === name.toLowerCase() && v !== undefined && v.trim() !== '')?.[1];
  if (value === undefined) throw new SettingError('MissingSetting', name, `${name} is not set, and the Durable storage provider reads its connection string from it.`);
  if (KEY_VAULT_REFERENCE.test(value)) throw unresolvedKeyVaultReference(name);
  return value.trim();
}

function parts(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const piece of value.split(';')) {
    const eq = piece.indexOf('=');
    if (eq > 0) map.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  return map;
}

function checkSchedulerConnection(name: string, value: string, onAzure: boolean): void {
  const p = parts(value);
  const form = `Endpoint=https://<scheduler>.<region>.durabletask.io;Authentication=ManagedIdentity;ClientID=<identity client id> (locally, with the emulator: Endpoint=http://localhost:8080;Authentication=None)`;
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(p.get('endpoint') ?? '');
  } catch {
    endpoint = undefined;
  }
  const auth = p.get('authentication');
  if (!endpoint || !/^https?:$/.test(endpoint.protocol) || !auth) {
    throw new SettingError('InvalidSetting', name, `${name} is not a Durable Task Scheduler connection string: expected ${form}.`);
  }
  if (onAzure && (endpoint.protocol !== 'https:' || /^(localhost|127\.|\[::1\])/.test(endpoint.hostname) || auth.toLowerCase() === 'none')) {
    throw new SettingError('InvalidSetting', name, `${name} points at the local emulator (plain http or Authentication=None), which does not exist on Azure: use Endpoint=https://<scheduler>.<region>.durabletask.io;Authentication=ManagedIdentity;ClientID=<identity client id>.`);
  }
}

function checkSqlConnection(name: string, value: string): void {
  const p = parts(value);
  const server = p.get('server') ?? p.get('data source') ?? p.get('address') ?? p.get('addr');
  const database = p.get('database') ?? p.get('initial catalog');
  if (!server || !database) {
    throw new SettingError(
      'InvalidSetting',
      name,
      `${name} is not a SQL Server connection string (it lacks ${server ? 'Database' : 'Server'}): expected Server=tcp:<server>.database.windows.net,1433;Database=<db>;Authentication=Active Directory Managed Identity;User Id=<identity client id>;Encrypt=True.`,
    );
  }
}

function resolveHubName(value: unknown, env: NodeJS.ProcessEnv): string | undefined {
  const hub = stringOf(value);
  if (!hub) return undefined;
  const m = /^%(.+)%$/.exec(hub);
  if (!m) return hub;
  const resolved = env[m[1]]?.trim();
  if (!resolved) throw new SettingError('MissingSetting', m[1], `${m[1]} is not set, and host.json takes the task hub name from it (hubName "${hub}").`);
  return resolved;
}

function objectAt(root: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  let node: unknown = root;
  for (const key of keys) {
    if (!node || typeof node !== 'object') return {};
    const found = Object.keys(node).find((k) => k.toLowerCase() === key.toLowerCase());
    node = found === undefined ? undefined : (node as Record<string, unknown>)[found];
  }
  return node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : {};
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

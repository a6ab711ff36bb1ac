// How app settings name a storage account, read the way the Functions host reads them: a connection string in
// `<prefix>` (Azurite: `UseDevelopmentStorage=true`), or an identity-based connection in `<prefix>__accountName` or
// `<prefix>__tableServiceUri` (with `__credential` / `__clientId` for a user-assigned identity, no keys). Shared by
// the app (core/tables.ts) and devhost's table store, so both accept the same settings; it imports neither.
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { KEY_VAULT_REFERENCE, SettingError, unresolvedKeyVaultReference } from './setting-error';

/** Where the tables are and how to authenticate: what one storage setting (or family of settings) says. */
export type StorageConnection =
  | { kind: 'connectionString'; setting: string; connectionString: string }
  | { kind: 'identity'; setting: string; tableServiceUri: string; clientId?: string };

const ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the storage connection named by `prefix` (default `AzureWebJobsStorage`) from app settings. As in the
 * Functions host, a value in `<prefix>` itself wins over `<prefix>__*` settings; setting names are matched without
 * regard to case. Throws SettingError naming the setting and the expected form.
 *
 * @example
 * readStorageConnection({ AzureWebJobsStorage__accountName: 'mudstore' })
 * // { kind: 'identity', setting: 'AzureWebJobsStorage__accountName', tableServiceUri: 'https://mudstore.table.core.windows.net' }
 */
export function readStorageConnection(env: NodeJS.ProcessEnv = process.env, prefix = 'AzureWebJobsStorage'): StorageConnection {
  const get = (suffix: string): { name: string; value: string } | undefined => {
    const wanted = `${prefix}${suffix}`.toLowerCase();
    for (const [name, value] of Object.entries(env)) {
      if (name.toLowerCase() === wanted && value !== undefined && value.trim() !== '') return { name, value: value.trim() };
    }
    return undefined;
  };
  const direct = get('');
  if (direct) return { kind: 'connectionString', setting: direct.name, connectionString: checkConnectionString(direct.name, direct.value) };

  const tableUri = get('__tableServiceUri');
  const account = get('__accountName');
  if (!tableUri && !account) {
    const others = Object.keys(env).filter((k) => k.toLowerCase().startsWith(`${prefix.toLowerCase()}__`) && env[k]);
    if (others.length > 0) {
      throw new SettingError(
        'MissingSetting',
        `${prefix}__tableServiceUri`,
        `${prefix}__tableServiceUri (or ${prefix}__accountName) is not set, and the game's tables need it: set it to https://<account>.table.core.windows.net (found only ${others.sort().join(', ')}).`,
      );
    }
    throw new SettingError(
      'MissingSetting',
      prefix,
      `${prefix} is not set: use "UseDevelopmentStorage=true" with Azurite, a storage connection string, or an identity-based connection (${prefix}__accountName=<account>, or ${prefix}__tableServiceUri=https://<account>.table.core.windows.net).`,
    );
  }
  for (const s of [tableUri, account]) if (s && KEY_VAULT_REFERENCE.test(s.value)) throw unresolvedKeyVaultReference(s.name);

  let tableServiceUri: string;
  let setting: string;
  if (tableUri) {
    setting = tableUri.name;
    tableServiceUri = checkServiceUri(tableUri.name, tableUri.value);
  } else {
    setting = account!.name;
    if (!ACCOUNT_NAME.test(account!.value)) {
      throw new SettingError('InvalidSetting', account!.name, `${account!.name} must be a storage account name (3 to 24 lower-case letters and digits), not a URL or a connection string.`);
    }
    tableServiceUri = `https://${account!.value}.table.core.windows.net`;
  }

  const credential = get('__credential');
  if (credential && credential.value.toLowerCase() !== 'managedidentity') {
    throw new SettingError(
      'InvalidSetting',
      credential.name,
      `${credential.name} must be "managedidentity" (with ${prefix}__clientId for a user-assigned identity) or unset; other credential types are not supported.`,
    );
  }
  const clientId = get('__clientId');
  if (clientId && !GUID.test(clientId.value)) {
    throw new SettingError('InvalidSetting', clientId.name, `${clientId.name} must be the client id (a GUID) of the app's user-assigned managed identity.`);
  }
  return clientId ? { kind: 'identity', setting, tableServiceUri, clientId: clientId.value } : { kind: 'identity', setting, tableServiceUri };
}

/**
 * A factory of TableClients for one connection: shared-key or SAS from a connection string (plain http allowed, for
 * Azurite), or a token credential for the identity-based form (`DefaultAzureCredential`, with the user-assigned
 * identity's client id when one is set; `credential` replaces it, e.g. in tests).
 *
 * @example
 * const tables = tableClientFactory(readStorageConnection());
 * const outbox = tables('Messages');
 */
export function tableClientFactory(
  connection: StorageConnection,
  options: { credential?: TokenCredential; clientOptions?: TableServiceClientOptions } = {},
): (tableName: string) => TableClient {
  if (connection.kind === 'connectionString') {
    const cs = connection.connectionString;
    // Azurite speaks plain http; real accounts use https and ignore this.
    const allowInsecureConnection = /UseDevelopmentStorage=true|DefaultEndpointsProtocol=http;|Endpoint=http:\/\//i.test(cs);
    return (tableName) => TableClient.fromConnectionString(cs, tableName, { allowInsecureConnection, ...options.clientOptions });
  }
  const credential = options.credential ?? new DefaultAzureCredential(connection.clientId ? { managedIdentityClientId: connection.clientId } : {});
  return (tableName) => new TableClient(connection.tableServiceUri, tableName, credential, options.clientOptions);
}

/**
 * A short description of a connection for logs: the endpoint and the identity, never a key.
 * @example describeStorageConnection(readStorageConnection()) // 'identity-based: https://mudstore.table.core.windows.net (user-assigned identity 0000...)'
 */
export function describeStorageConnection(connection: StorageConnection): string {
  if (connection.kind === 'identity') {
    return `identity-based: ${connection.tableServiceUri} (${connection.clientId ? `user-assigned identity ${connection.clientId}` : 'DefaultAzureCredential'})`;
  }
  const account = /AccountName=([^;]+)/i.exec(connection.connectionString)?.[1];
  return /UseDevelopmentStorage=true/i.test(connection.connectionString) ? 'connection string: Azurite (UseDevelopmentStorage=true)' : `connection string${account ? `: account ${account}` : ''}`;
}

function checkServiceUri(setting: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError('InvalidSetting', setting, `${setting} must be the table endpoint URL, e.g. https://<account>.table.core.windows.net.`);
  }
  if (url.protocol !== 'https:') {
    throw new SettingError('InvalidSetting', setting, `${setting} must be an https URL (e.g. https://<account>.table.core.windows.net): tokens are never sent over plain http.`);
  }
  if (url.search || url.username || url.password) {
    throw new SettingError('InvalidSetting', setting, `${setting} must be the bare table endpoint (https://<account>.table.core.windows.net), without a SAS token or credentials: the identity-based form uses no keys.`);
  }
  return value.replace(/\/+$/, '');
}

function checkConnectionString(setting: string, value: string): string {
  if (KEY_VAULT_REFERENCE.test(value)) throw unresolvedKeyVaultReference(setting);
  const parts = new Map<string, string>();
  for (const piece of value.split(';')) {
    const eq = piece.indexOf('=');
    if (eq > 0) parts.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return value;
  const reachable = parts.has('accountname') || parts.has('tableendpoint');
  const signed = parts.has('accountkey') || parts.has('sharedaccesssignature');
  if (!reachable || !signed) {
    throw new SettingError(
      'InvalidSetting',
      setting,
      `${setting} is not a storage connection string (it lacks ${reachable ? 'AccountKey or SharedAccessSignature' : 'AccountName or TableEndpoint'}): use "UseDevelopmentStorage=true" for Azurite, ` +
        `"DefaultEndpointsProtocol=https;AccountName=<account>;AccountKey=<key>;EndpointSuffix=core.windows.net", or no ${setting} and ${setting}__accountName=<account> for a managed identity.`,
    );
  }
  return value;
}

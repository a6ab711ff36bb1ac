// The TableClient devhost's table store uses, from the same settings the app reads: a connection string
// (`UseDevelopmentStorage=true` for Azurite) or the identity-based AzureWebJobsStorage__accountName /
// __tableServiceUri form (DefaultAzureCredential: az login locally, the managed identity on Azure).
import type { TableClient, TableServiceClientOptions } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import { readStorageConnection, tableClientFactory, type StorageConnection } from '../../platform/storage-connection';
import { HostError } from '../errors';

export interface StoreConnectionOptions {
  /** An explicit connection string (the store's `connectionString` option); wins over `env`. */
  connectionString?: string;
  /** App settings to read AzureWebJobsStorage (or its `__` family) from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Replaces DefaultAzureCredential for the identity-based form (tests). */
  credential?: TokenCredential;
  clientOptions?: TableServiceClientOptions;
}

/**
 * Where the store's table lives, from an explicit connection string or the app settings; a missing or malformed
 * setting is a HostError('InvalidArgument') naming it and the form it should take.
 * @example storeConnection({ env: { AzureWebJobsStorage__accountName: 'mudstore' } }).kind // 'identity'
 */
export function storeConnection(options: StoreConnectionOptions = {}): StorageConnection {
  try {
    if (options.connectionString !== undefined) return readStorageConnection({ AzureWebJobsStorage: options.connectionString });
    return readStorageConnection(options.env ?? process.env, 'AzureWebJobsStorage');
  } catch (err) {
    throw new HostError('InvalidArgument', `The table store cannot connect: ${(err as Error).message}`);
  }
}

/**
 * A client for one table of the store, for either form of the setting.
 * @example const client = storeTableClient('DevHubInstances', { env: process.env, clientOptions: { retryOptions: { maxRetries: 1 } } });
 */
export function storeTableClient(tableName: string, options: StoreConnectionOptions = {}): TableClient {
  return tableClientFactory(storeConnection(options), { credential: options.credential, clientOptions: options.clientOptions })(tableName);
}

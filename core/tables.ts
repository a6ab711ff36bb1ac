// Table clients for the game's own tables (Messages with prompts, Players) on AzureWebJobsStorage, by connection
// string or by managed identity (platform/storage-connection.ts); each table is created once per process on first
// use. Connection problems become GameError('storage_unavailable').
import { TableClient, RestError } from '@azure/data-tables';
import { tableClientFactory, type StorageConnection } from '../platform/storage-connection';
import { GameError } from './errors';
import { settings } from './settings';

/** The tables the game owns (prompts live in Messages, beside the questions that open them; Operators logs actions). */
export type TableName = 'Messages' | 'Players' | 'Operators';

const clients = new Map<string, Promise<TableClient>>();
/** One factory (and so one credential, whose tokens are cached) per connection. */
const factories = new Map<string, (tableName: string) => TableClient>();

function factoryFor(connection: StorageConnection): { key: string; create: (tableName: string) => TableClient } {
  const key = JSON.stringify(connection);
  let create = factories.get(key);
  if (!create) {
    create = tableClientFactory(connection);
    factories.set(key, create);
  }
  return { key, create };
}

/**
 * A ready TableClient for one of the game's tables (prefixed with GAME_TABLE_PREFIX).
 *
 * @example
 * const outbox = await table('Messages');
 */
export function table(name: TableName): Promise<TableClient> {
  const factory = factoryFor(settings.storageConnection());
  const fullName = `${settings.tablePrefix()}${name}`;
  const key = `${factory.key}\u0000${fullName}`;
  let ready = clients.get(key);
  if (!ready) {
    const client = factory.create(fullName);
    ready = client.createTable().then(
      () => client,
      (err: unknown) => {
        clients.delete(key);
        throw storageError(err, `create table ${fullName}`);
      },
    );
    clients.set(key, ready);
  }
  return ready;
}

/** The HTTP status of a storage error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof RestError || (typeof err === 'object' && err !== null && 'statusCode' in err)
    ? (err as { statusCode?: number }).statusCode
    : undefined;
}

/**
 * Wraps a storage failure as GameError('storage_unavailable') unless it already is a GameError.
 *
 * @example
 * try { await client.getEntity(p, r) } catch (err) { throw storageError(err, 'read prompt') }
 */
export function storageError(err: unknown, doing: string): Error {
  if (err instanceof GameError) return err;
  const status = statusOf(err);
  const detail = err instanceof Error ? err.message.split('\n')[0] : String(err);
  return new GameError('storage_unavailable', `Table storage failed to ${doing}${status ? ` (HTTP ${status})` : ''}: ${detail}`, { cause: err });
}

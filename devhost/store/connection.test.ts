// devhost's table store reaches its table through either form of AzureWebJobsStorage: a connection string (Azurite,
// round trip against the run's Azurite) or the identity-based settings (a bearer token on the account's endpoint);
// a malformed setting is a HostError naming it.
import { randomUUID } from 'node:crypto';
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../../test/support/azurite';
import { storeConnection, storeTableClient } from './connection';

const token: TokenCredential = { getToken: () => Promise.resolve({ token: 'store-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

describe('the table store connection', () => {
  it('a connection string (the store option, or AzureWebJobsStorage) reaches Azurite: create, write, read', async () => {
    const table = `Conn${randomUUID().replace(/-/g, '').slice(0, 10)}`;
    const client = storeTableClient(table, { env: { AzureWebJobsStorage: azuriteConnectionString() } });
    await client.createTable();
    await client.createEntity({ partitionKey: 'p', rowKey: 'r', v: 'hello' });
    const again = storeTableClient(table, { connectionString: azuriteConnectionString(), env: {} });
    expect((await again.getEntity<{ v: string }>('p', 'r')).v).toBe('hello');
    await client.deleteTable();
  });

  it('the identity-based settings send a bearer token to https://<account>.table.core.windows.net', async () => {
    const requests: PipelineRequest[] = [];
    const httpClient: HttpClient = {
      sendRequest: (request) => {
        requests.push(request);
        return Promise.resolve({ status: 204, headers: createHttpHeaders(), request });
      },
    };
    const env = { AzureWebJobsStorage__accountName: 'mudstore123', AzureWebJobsStorage__credential: 'managedidentity' };
    expect(storeConnection({ env })).toMatchObject({ kind: 'identity', tableServiceUri: 'https://mudstore123.table.core.windows.net' });
    await storeTableClient('DevHubInstances', { env, credential: token, clientOptions: { httpClient } }).createTable();
    expect(new URL(requests[0].url).host).toBe('mudstore123.table.core.windows.net');
    expect(requests[0].headers.get('authorization')).toBe('Bearer store-token');
  });

  it('a missing or malformed setting is a HostError that names it', () => {
    expect(() => storeConnection({ env: {} })).toThrow(/^The table store cannot connect: AzureWebJobsStorage is not set/);
    expect(() => storeConnection({ env: { AzureWebJobsStorage__tableServiceUri: 'http://mud.table.core.windows.net' } })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument', message: expect.stringMatching(/AzureWebJobsStorage__tableServiceUri must be an https URL/) }),
    );
  });
});

describe('the table store on the identity-based settings', () => {
  it('reaches its tables and its large-payload blobs on the account endpoints, with the token credential', async () => {
    const { TableStore } = await import('./table');
    const connection = storeConnection({ env: { AzureWebJobsStorage__accountName: 'mudstore' } });
    const store = new TableStore({ connection, credential: token, taskHub: 'IdHub' });
    const inner = store as unknown as { client: { url: string }; index: { client: { url: string } }; blobs: { client(): { url: string } | undefined } };
    expect(inner.client.url).toBe('https://mudstore.table.core.windows.net');
    expect(inner.index.client.url).toBe('https://mudstore.table.core.windows.net');
    expect(inner.blobs.client()?.url).toBe('https://mudstore.blob.core.windows.net/idhub-largemessages');
  });
});

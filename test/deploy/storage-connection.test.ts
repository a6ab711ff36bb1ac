// AzureWebJobsStorage as the app and devhost read it: the connection-string form (Azurite) and the identity-based form
// Microsoft recommends (AzureWebJobsStorage__accountName / __tableServiceUri, no keys), which must build clients on the
// account's table endpoint with a token credential; every malformed value is refused with one line naming it.
import { createHttpHeaders, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it, vi } from 'vitest';
import { readStorageConnection, tableClientFactory } from '../../platform/storage-connection';

vi.mock('@azure/identity', async (importOriginal) => {
  const real = await importOriginal<typeof import('@azure/identity')>();
  // Records how the app builds its credential; getToken is never called by these tests.
  class RecordingCredential {
    static made: unknown[] = [];
    constructor(options?: unknown) {
      RecordingCredential.made.push(options);
    }
    getToken(): Promise<AccessToken> {
      return Promise.reject(new Error('no token in tests'));
    }
  }
  return { ...real, DefaultAzureCredential: RecordingCredential };
});

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';

/** A credential that hands out a fixed token and records the scopes asked for. */
function fakeCredential(): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    getToken: (scope) => {
      scopes.push(...(Array.isArray(scope) ? scope : [scope]));
      return Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 });
    },
  };
}

/** An HTTP client that answers every request with 204 and keeps it. */
function recordingHttpClient(): HttpClient & { requests: PipelineRequest[] } {
  const requests: PipelineRequest[] = [];
  return {
    requests,
    sendRequest: (request) => {
      requests.push(request);
      return Promise.resolve({ status: 204, headers: createHttpHeaders(), request });
    },
  };
}

describe('identity-based AzureWebJobsStorage', () => {
  it('__accountName reaches https://<account>.table.core.windows.net with a bearer token for Azure Storage, never a key', async () => {
    const connection = readStorageConnection({ AzureWebJobsStorage__accountName: 'mudstore123', AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: CLIENT_ID });
    expect(connection).toEqual({ kind: 'identity', setting: 'AzureWebJobsStorage__accountName', tableServiceUri: 'https://mudstore123.table.core.windows.net', clientId: CLIENT_ID });
    const credential = fakeCredential();
    const httpClient = recordingHttpClient();
    const client = tableClientFactory(connection, { credential, clientOptions: { httpClient } })('Messages');
    await client.createTable();
    const sent = httpClient.requests[0];
    expect(new URL(sent.url).origin).toBe('https://mudstore123.table.core.windows.net');
    expect(sent.headers.get('authorization')).toBe('Bearer test-token');
    expect(credential.scopes).toEqual(['https://storage.azure.com/.default']);
  });

  it('__tableServiceUri is used as it is (sovereign clouds, custom domains), and wins over __accountName', () => {
    const connection = readStorageConnection({ AzureWebJobsStorage__tableServiceUri: 'https://mud.table.core.chinacloudapi.cn/', AzureWebJobsStorage__accountName: 'other' });
    expect(connection).toMatchObject({ kind: 'identity', tableServiceUri: 'https://mud.table.core.chinacloudapi.cn' });
    expect(tableClientFactory(connection, { credential: fakeCredential() })('Players').url).toBe('https://mud.table.core.chinacloudapi.cn');
  });

  it('builds a DefaultAzureCredential for the user-assigned identity named by __clientId, and a token policy instead of a key', async () => {
    const { DefaultAzureCredential } = await import('@azure/identity');
    const made = (DefaultAzureCredential as unknown as { made: unknown[] }).made;
    made.length = 0;
    const withId = tableClientFactory(readStorageConnection({ AzureWebJobsStorage__accountName: 'mudstore123', AzureWebJobsStorage__clientId: CLIENT_ID }))('Messages');
    tableClientFactory(readStorageConnection({ AzureWebJobsStorage__accountName: 'mudstore123' }))('Messages');
    expect(made).toEqual([{ managedIdentityClientId: CLIENT_ID }, {}]);
    const policies = withId.pipeline.getOrderedPolicies().map((p) => p.name);
    expect(policies).toContain('bearerTokenAuthenticationPolicy');
    expect(policies.some((p) => /SharedKey|NamedKey|Sas/i.test(p))).toBe(false);
  });

  it('setting names match without regard to case, as in the Functions host', () => {
    expect(readStorageConnection({ azurewebjobsstorage__ACCOUNTNAME: 'mudstore123' })).toMatchObject({ tableServiceUri: 'https://mudstore123.table.core.windows.net' });
  });
});

describe('connection-string AzureWebJobsStorage (Azurite)', () => {
  it('a connection string wins over __ settings and is used with plain http for Azurite', () => {
    const cs = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1';
    const connection = readStorageConnection({ AzureWebJobsStorage: cs, AzureWebJobsStorage__accountName: 'ignored' });
    expect(connection).toEqual({ kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: cs });
    expect(tableClientFactory(connection)('Messages').url).toBe('http://127.0.0.1:10002/devstoreaccount1');
  });

  it('UseDevelopmentStorage=true is Azurite on its default port', () => {
    expect(tableClientFactory(readStorageConnection({ AzureWebJobsStorage: 'UseDevelopmentStorage=true' }))('Messages').url).toBe('http://127.0.0.1:10002/devstoreaccount1');
  });
});

describe('bad storage settings: one line naming the setting and the form it should take, never the value', () => {
  const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['nothing set', {}, /^AzureWebJobsStorage is not set: use "UseDevelopmentStorage=true".*__accountName=<account>/],
    ['only blob and queue endpoints', { AzureWebJobsStorage__blobServiceUri: 'https://x.blob.core.windows.net', AzureWebJobsStorage__queueServiceUri: 'https://x.queue.core.windows.net' }, /AzureWebJobsStorage__tableServiceUri \(or AzureWebJobsStorage__accountName\) is not set.*found only AzureWebJobsStorage__blobServiceUri, AzureWebJobsStorage__queueServiceUri/],
    ['an account name that is a URL', { AzureWebJobsStorage__accountName: 'https://x.table.core.windows.net' }, /AzureWebJobsStorage__accountName must be a storage account name \(3 to 24 lower-case/],
    ['a table endpoint over http', { AzureWebJobsStorage__tableServiceUri: 'http://x.table.core.windows.net' }, /AzureWebJobsStorage__tableServiceUri must be an https URL/],
    ['a table endpoint with a SAS token', { AzureWebJobsStorage__tableServiceUri: 'https://x.table.core.windows.net/?sv=2024&sig=SECRETSIG' }, /must be the bare table endpoint.*without a SAS token/],
    ['a table endpoint that is no URL', { AzureWebJobsStorage__tableServiceUri: 'x.table.core.windows.net' }, /AzureWebJobsStorage__tableServiceUri must be the table endpoint URL/],
    ['another credential type', { AzureWebJobsStorage__accountName: 'mudstore123', AzureWebJobsStorage__credential: 'clientsecret' }, /AzureWebJobsStorage__credential must be "managedidentity"/],
    ['a client id that is no GUID', { AzureWebJobsStorage__accountName: 'mudstore123', AzureWebJobsStorage__clientId: 'id-mud' }, /AzureWebJobsStorage__clientId must be the client id \(a GUID\)/],
    ['a connection string without a key', { AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=mud;EndpointSuffix=core.windows.net' }, /AzureWebJobsStorage is not a storage connection string \(it lacks AccountKey or SharedAccessSignature\)/],
    ['a bare account name in the connection string setting', { AzureWebJobsStorage: 'mudstore123' }, /AzureWebJobsStorage is not a storage connection string \(it lacks AccountName or TableEndpoint\)/],
    ['an unresolved Key Vault reference', { AzureWebJobsStorage: '@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/storage/)' }, /AzureWebJobsStorage is an unresolved Key Vault reference.*Key Vault Secrets User/],
  ];
  for (const [what, env, message] of cases) {
    it(what, () => {
      let thrown: Error | undefined;
      try {
        readStorageConnection(env);
      } catch (err) {
        thrown = err as Error;
      }
      expect(thrown?.message).toMatch(message);
      expect(thrown?.message).not.toMatch(/\n|SECRETSIG/);
      expect((thrown as { code?: string }).code).toMatch(/^(Missing|Invalid)Setting$/);
    });
  }
});

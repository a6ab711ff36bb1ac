// A missing or malformed setting (storage, secret, Durable backend) stops the app while it loads, with one line
// naming the setting and the form it should take: never a 503 on the first request. Driven through devhost, which
// loads the app as the Functions worker does.
import { afterEach, describe, expect, it } from 'vitest';
import type { TestHost } from '../../devhost';
import scheduler from '../../infra/durable/durable-task-scheduler.json';
import mssql from '../../infra/durable/mssql.json';
import { Player, startGame } from '../game/harness';

const ON_AZURE = { WEBSITE_INSTANCE_ID: 'instance-1', GAME_TOKEN_SECRET: 'a-long-random-secret-0123456789abcdef-0123456789' };
const KEY_VAULT = '@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/game-token-secret/)';

let host: TestHost | undefined;
afterEach(async () => {
  await host?.dispose();
  host = undefined;
});

/** The one line the failed start reports. */
async function startError(env: Record<string, string>): Promise<string> {
  try {
    host = await startGame(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`the app started with ${JSON.stringify(env)}`);
}

describe('the secret checks refuse each bad GAME_TOKEN_SECRET', () => {
  it('an unresolved Key Vault reference (the platform leaves the reference in the setting; it names the vault, it is no secret)', async () => {
    expect(await startError({ ...ON_AZURE, GAME_TOKEN_SECRET: KEY_VAULT })).toMatch(/GAME_TOKEN_SECRET is an unresolved Key Vault reference \(@Microsoft\.KeyVault\(\.\.\.\)\).*"Key Vault Secrets User".*keyVaultReferenceIdentity/);
  });
  it('missing on Azure', async () => {
    expect(await startError({ ...ON_AZURE, GAME_TOKEN_SECRET: '' })).toMatch(/GAME_TOKEN_SECRET is not set/);
  });
  it('too short', async () => {
    expect(await startError({ ...ON_AZURE, GAME_TOKEN_SECRET: 'short' })).toMatch(/GAME_TOKEN_SECRET is only 5/);
  });
});

describe('storage and numeric settings', () => {
  it('no storage setting at all', async () => {
    expect(await startError({ ...ON_AZURE, AzureWebJobsStorage: '' })).toMatch(/AzureWebJobsStorage is not set: use "UseDevelopmentStorage=true" with Azurite, a storage connection string, or an identity-based connection/);
  });
  it('a connection string without a key', async () => {
    expect(await startError({ ...ON_AZURE, AzureWebJobsStorage: 'AccountName=mudstore123' })).toMatch(/AzureWebJobsStorage is not a storage connection string \(it lacks AccountKey or SharedAccessSignature\)/);
  });
  it('an identity-based endpoint over http', async () => {
    expect(await startError({ ...ON_AZURE, AzureWebJobsStorage: '', AzureWebJobsStorage__tableServiceUri: 'http://mud.table.core.windows.net' })).toMatch(/AzureWebJobsStorage__tableServiceUri must be an https URL/);
  });
  it('a token lifetime that is not a number', async () => {
    expect(await startError({ GAME_TOKEN_TTL_SECONDS: 'a day' })).toMatch(/GAME_TOKEN_TTL_SECONDS="a day" is not an integer/);
  });
});

describe('the Durable backend the overrides select', () => {
  it('the Durable Task Scheduler without its connection string', async () => {
    expect(await startError({ ...ON_AZURE, ...scheduler })).toMatch(/DURABLE_TASK_SCHEDULER_CONNECTION_STRING is not set, and the Durable storage provider reads its connection string from it/);
  });
  it("the scheduler emulator's connection string on Azure", async () => {
    const env = { ...ON_AZURE, ...scheduler, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=http://localhost:8080;Authentication=None' };
    expect(await startError(env)).toMatch(/DURABLE_TASK_SCHEDULER_CONNECTION_STRING points at the local emulator.*Authentication=ManagedIdentity/);
  });
  it('a scheduler connection string that is not one', async () => {
    expect(await startError({ ...ON_AZURE, ...scheduler, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'https://dts-abc.westeurope.durabletask.io' })).toMatch(/is not a Durable Task Scheduler connection string: expected Endpoint=https:/);
  });
  it('MSSQL with a connection string that names no database', async () => {
    expect(await startError({ ...ON_AZURE, ...mssql, SQLDB_Connection: 'Server=tcp:mud.database.windows.net,1433' })).toMatch(/SQLDB_Connection is not a SQL Server connection string \(it lacks Database\)/);
  });
  it('a provider type this app does not support', async () => {
    expect(await startError({ ...ON_AZURE, AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'netherite' })).toMatch(/storage provider type "netherite".*not one this app supports/);
  });
  it("locally, the emulator's connection string is accepted and the game plays (devhost keeps its own Durable store)", async () => {
    host = await startGame({ ...scheduler, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=http://localhost:8080;Authentication=None' });
    const p = await Player.join(host, 'dtsuser');
    expect(await p.type('echo ok')).toMatchObject({ kind: 'command' });
    expect(await p.read()).toEqual(['ok']);
  });
});

// The Durable backend per scale: host.json stays on Azure Storage with tuned polling; the app settings in
// infra/durable/*.json (which the templates apply, and the README shows for local use) turn it into the documented
// storageProvider for the Durable Task Scheduler and for MSSQL, as the Functions host (and devhost) merge them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHostJson } from '../../devhost/host-json';
import { durableBackend } from '../../platform/durable-backend';
import scheduler from '../../infra/durable/durable-task-scheduler.json';
import mssql from '../../infra/durable/mssql.json';

const ROOT = path.resolve(__dirname, '../..');
const fileHostJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'host.json'), 'utf8')) as { extensions: { durableTask: Record<string, unknown> } };
const durableTask = (env: Record<string, string>) => (readHostJson(ROOT, env).extensions?.durableTask ?? {}) as Record<string, unknown>;
const STORAGE = { AzureWebJobsStorage__accountName: 'mudstore123' };

describe('Durable backends', () => {
  it('default: the Azure Storage provider, polled at most every second, on the same storage as the app', () => {
    expect(durableTask({})).toEqual(fileHostJson.extensions.durableTask);
    expect(durableTask({})).toMatchObject({ hubName: 'EvenniaAsync', storageProvider: { maxQueuePollingInterval: '00:00:01' } });
    expect(durableBackend(readHostJson(ROOT, STORAGE) as Record<string, unknown>, STORAGE, { onAzure: true })).toEqual({ kind: 'azureStorage', connectionSetting: 'AzureWebJobsStorage', hubName: 'EvenniaAsync' });
  });

  it('infra/durable/durable-task-scheduler.json: storageProvider azureManaged reading DURABLE_TASK_SCHEDULER_CONNECTION_STRING, same task hub', () => {
    expect(durableTask(scheduler)).toMatchObject({
      hubName: 'EvenniaAsync',
      storageProvider: { type: 'azureManaged', connectionStringName: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING' },
    });
    const onAzure = { ...STORAGE, ...scheduler, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=https://dts-abc.westeurope.durabletask.io;Authentication=ManagedIdentity;ClientID=11111111-2222-3333-4444-555555555555' };
    expect(durableBackend(readHostJson(ROOT, onAzure) as Record<string, unknown>, onAzure, { onAzure: true })).toEqual({ kind: 'durableTaskScheduler', connectionSetting: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING', hubName: 'EvenniaAsync' });
    const emulator = { ...STORAGE, ...scheduler, DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'Endpoint=http://localhost:8080;Authentication=None' };
    expect(durableBackend(readHostJson(ROOT, emulator) as Record<string, unknown>, emulator, { onAzure: false }).kind).toBe('durableTaskScheduler');
  });

  it('infra/durable/mssql.json: storageProvider mssql reading SQLDB_Connection', () => {
    expect(durableTask(mssql)).toMatchObject({ hubName: 'EvenniaAsync', storageProvider: { type: 'mssql', connectionStringName: 'SQLDB_Connection' } });
    const env = { ...STORAGE, ...mssql, SQLDB_Connection: 'Server=tcp:mud.database.windows.net,1433;Database=mud;Authentication=Active Directory Managed Identity;User Id=11111111-2222-3333-4444-555555555555;Encrypt=True' };
    expect(durableBackend(readHostJson(ROOT, env) as Record<string, unknown>, env, { onAzure: true }).kind).toBe('mssql');
  });

  it('the overrides only touch storageProvider: host.json itself never changes per environment', () => {
    for (const file of [scheduler, mssql]) for (const key of Object.keys(file)) expect(key).toMatch(/^AzureFunctionsJobHost__extensions__durableTask__storageProvider__/);
  });
});

// Payloads of several MB on both stores: a 5 MB activity output and a 5 MB orchestration output complete (the
// table store moves them to blob storage, container <hub>-largemessages, as the Azure Storage provider does),
// the status shows the real output, and purge deletes the blobs.
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { azuriteConnectionString } from '../support/azurite';
import { MGMT, STORES, startFixture, startViaHttp } from './support';

describe.each(STORES)('large payloads on the %s store', (storage) => {
  it('a 5 MB activity output and a 5 MB orchestration output complete; purge deletes their blobs', async () => {
    const host = await startFixture('durable-basics', storage);
    try {
      const id = await startViaHttp(host, 'bigOutput', 5);
      const done = await host.waitFor(id);
      expect(done.runtimeStatus, JSON.stringify(done).slice(0, 300)).toBe('Completed');
      const res = await host.fetch(`${MGMT}/instances/${id}?showHistory=true&showHistoryOutput=true`);
      const status = (await res.json()) as { output: { length: number; big: string }; historyEvents: Array<{ EventType: string; Result?: unknown }> };
      expect(status.output.length).toBe(5 * 1024 * 1024);
      expect(status.output.big).toBe('x'.repeat(5 * 1024 * 1024));
      expect(status.historyEvents.find((e) => e.EventType === 'TaskCompleted')?.Result).toBe('x'.repeat(5 * 1024 * 1024));
      if (storage === 'table') {
        const container = BlobServiceClient.fromConnectionString(azuriteConnectionString()).getContainerClient(`${host.host.taskHub.toLowerCase()}-largemessages`);
        const blobs = async () => {
          const names: string[] = [];
          for await (const b of container.listBlobsFlat({ prefix: `${id}/` })) names.push(b.name);
          return names;
        };
        expect((await blobs()).length).toBeGreaterThan(0);
        expect((await host.fetch(`${MGMT}/instances/${id}`, { method: 'DELETE' })).status).toBe(200);
        expect(await blobs()).toEqual([]);
      }
    } finally {
      await host.dispose();
    }
  });
});

// Large payloads of the table store, as the Azure Storage provider keeps them: a row whose JSON is over 60 KB
// (UTF-16, the provider's limit per property) is gzipped into a blob of the container `<taskhub>-largemessages`
// and the row keeps only the blob's name. Blob names are `<instance id>/<sha256 of the JSON>.json.gz`: the same
// content is uploaded once (a meta row rewritten by every episode with the same large input costs nothing), and
// purging an instance deletes everything under its id.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { BlobServiceClient, ContainerClient } from '@azure/storage-blob';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** JSON longer than this many characters (61,440 bytes in UTF-16, the provider's threshold) goes to a blob. */
export const BLOB_THRESHOLD_CHARS = 30_720;

/** Reads and writes the large-payload blobs of one task hub. */
export class LargePayloads {
  readonly containerName: string;
  private container: ContainerClient | undefined;
  private created: Promise<void> | undefined;
  /** Names known to exist (uploaded or read by this process), so a repeated payload is not uploaded again. */
  private readonly known = new Set<string>();

  /**
   * `service` makes the blob service client (from a connection string or an endpoint and a token credential), or
   * answers undefined when the storage setting names no blob endpoint.
   */
  constructor(private readonly service: () => BlobServiceClient | undefined, taskHub: string, private readonly missingEndpoint: () => Error) {
    this.containerName = `${taskHub.toLowerCase()}-largemessages`;
  }

  /**
   * The blob service of a connection string, or undefined when it has explicit endpoints but no BlobEndpoint
   * (a plain account string, AccountName without endpoints, implies one).
   * @example LargePayloads.fromConnectionString('UseDevelopmentStorage=true')
   */
  static serviceOf(connectionString: string): () => BlobServiceClient | undefined {
    const has = (key: string) => new RegExp(`(^|;)\\s*${key}\\s*=`, 'i').test(connectionString);
    return () => (!has('BlobEndpoint') && (has('TableEndpoint') || !has('AccountName')) ? undefined : BlobServiceClient.fromConnectionString(connectionString, { retryOptions: { maxTries: 2 } }));
  }

  /**
   * Stores `json` for an instance; returns the blob name to keep in the row.
   * @example const name = await blobs.put('order-42', bigJson);
   */
  async put(instanceId: string, json: string): Promise<string> {
    const name = `${instanceId}/${createHash('sha256').update(json).digest('hex')}.json.gz`;
    if (this.known.has(name)) return name;
    const container = await this.ready();
    const body = await gzipAsync(Buffer.from(json, 'utf8'));
    await container.getBlockBlobClient(name).uploadData(body, { blobHTTPHeaders: { blobContentType: 'application/json', blobContentEncoding: 'gzip' } });
    this.known.add(name);
    return name;
  }

  /** The JSON a blob holds. */
  async get(name: string): Promise<string> {
    const container = await this.ready();
    const data = await container.getBlockBlobClient(name).downloadToBuffer();
    this.known.add(name);
    return (await gunzipAsync(data)).toString('utf8');
  }

  /** Deletes every blob of an instance (purge). Nothing to do when the hub never stored a large payload. */
  async deleteInstance(instanceId: string): Promise<void> {
    const container = this.client();
    if (!container) return;
    try {
      for await (const b of container.listBlobsFlat({ prefix: `${instanceId}/` })) {
        await container.deleteBlob(b.name, { deleteSnapshots: 'include' }).catch((err: unknown) => {
          if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        });
        this.known.delete(b.name);
      }
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err; // no container yet: nothing stored
    }
  }

  private client(): ContainerClient | undefined {
    if (this.container) return this.container;
    this.container = this.service()?.getContainerClient(this.containerName);
    return this.container;
  }

  private async ready(): Promise<ContainerClient> {
    const container = this.client();
    if (!container) throw this.missingEndpoint();
    this.created ??= container.createIfNotExists().then(
      () => undefined,
      (err: unknown) => {
        this.created = undefined;
        throw err;
      },
    );
    await this.created;
    return container;
  }
}

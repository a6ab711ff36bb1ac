// Store on Azure Table Storage (Azurite or a real account): one table per task hub, one partition per
// instance, so the result of every episode is written by a single entity-group transaction (atomic).
import { odata, TableClient, TransactionAction } from '@azure/data-tables';
import { ActiveInstance, Commit, HistoryEvent, InboxMessage, InstanceMeta, InstanceQuery, Page, PageRequest, RuntimeStatus, Store, StoreConflictError, StoredInstance } from './types';
import { matchesQuery } from './query';
import { allPages, mapLimit, MAX_PAGE, pageSize } from './pages';
import { IndexRow, InstanceIndex, isActive } from './table-index';
import { IdleHints } from './idle-hints';
import { HubLease, LeaseOptions } from './lease';
import { BLOB_THRESHOLD_CHARS, LargePayloads } from './blobs';
import { BlobServiceClient } from '@azure/storage-blob';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { tableClientFactory, type StorageConnection } from '../../platform/storage-connection';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../azurite';
import { faultPoint } from '../faults';
import {
  checkKey, checkSize, compare, EMPTY_INLINE, Entity, historyEntities, historyPrefix, inboxEntity, INBOX, Inline, INLINE_CHARS, inlineOf, inventoryOf,
  Inventory, isKey, joinJsonArrays, MAX_POINT_READS, MAX_TX_ACTIONS, MAX_TX_BYTES, META_ROW, metaEntity, payloadKey, readChunks, Row, SEQ_DIGITS, statusOf, TableStoreError, txFailure,
} from './table-rows';

export { TableStoreError, type TableStoreErrorCode } from './table-rows';

// The rows of an instance and how they are encoded: table-rows.ts. Beside the instances, `<taskHub>Index` holds one
// summary row per instance for listing and recovery (see table-index.ts).

const DEV_ACCOUNT = AZURITE_ACCOUNT;
const DEV_KEY = AZURITE_KEY;
/** What `UseDevelopmentStorage=true` means: Azurite's well-known account on its default table port. */
const DEV_CONNECTION_STRING = `DefaultEndpointsProtocol=http;AccountName=${DEV_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=http://127.0.0.1:10000/${DEV_ACCOUNT};TableEndpoint=http://127.0.0.1:10002/${DEV_ACCOUNT}`;

/** Durable's own task hub rule (3 to 45 letters and digits, starting with a letter); table names allow nothing else. */
const TASK_HUB = /^[A-Za-z][A-Za-z0-9]{2,44}$/;
/** Instances read at once when a page of the index is checked against their meta rows or loaded. */
const READ_CONCURRENCY = 16;

export interface TableStoreOptions {
  /** A storage connection string (the value of `AzureWebJobsStorage`), or `UseDevelopmentStorage=true` for Azurite. */
  connectionString?: string;
  /**
   * Or the connection the app settings name (devhost/store/connection.ts), including the identity-based form
   * (AzureWebJobsStorage__accountName / __tableServiceUri: tables and blobs with a token credential, no keys).
   */
  connection?: StorageConnection;
  /** Replaces DefaultAzureCredential for the identity-based form (tests). */
  credential?: TokenCredential;
  /** The task hub; the store uses the table `<taskHub>Instances`. */
  taskHub: string;
  /**
   * Called when the clean-up after a successful commit fails (deleting a continued-as-new execution's
   * history or consumed messages past the transaction limit). The commit itself stands and the clean-up
   * is retried by the next commit; the default logs with console.warn.
   */
  onCleanupError?: (err: Error) => void;
  /**
   * With the lease: how long an instance stays quiet before its index row says it is idle, so recovery can leave it
   * in the store (see idle-hints.ts). Default 30 s.
   */
  idleAfterMs?: number;
}

/** Default of TableStoreOptions.idleAfterMs. */
const IDLE_AFTER_MS = 30_000;

/** Where this store is in an instance's history; kept per instance so a commit needs no extra read. */
interface Cursor {
  executionId: string;
  /** Seq of the next history row of `executionId`. */
  nextSeq: number;
  /** Consumed message ids whose rows may still exist (recorded in the meta row, hidden from `load`). */
  tombstones: string[];
  /** The status the index row was last written with (or read as), so a commit writes the index only when it changes. */
  status: RuntimeStatus;
  /** ETag and JSON text of the meta row as this store last read or wrote it: commits replace only that version. */
  etag?: string;
  metaText?: string;
  /** Ids of the stored inbox messages not consumed yet (written into the meta row, see `inventory`). */
  inbox: Set<string>;
  /** The current execution's history and action signatures (JSON arrays) while they live in the meta row. */
  inline?: Inline;
  /** Seq of the first history row of `executionId` that counts: a rewind wrote the whole history again from there. */
  historyFrom: number;
}


/**
 * A Store on Azure Table Storage. Everything an instance holds lives in one partition, so `create`,
 * `enqueue` and `commit` are each one atomic transaction.
 * @example
 * const store = new TableStore({ connectionString: process.env.AzureWebJobsStorage ?? 'UseDevelopmentStorage=true', taskHub: 'DevHub' });
 * await store.init();
 */
export class TableStore implements Store {
  readonly kind = 'table' as const;
  readonly tableName: string;
  readonly indexTableName: string;
  private readonly client: TableClient;
  private readonly index: InstanceIndex;
  /** Index rows whose write after a commit failed: retried by the next commit (and repaired by reads). */
  private readonly indexBacklog = new Map<string, IndexRow>();
  private lease: HubLease | undefined;
  private readonly taskHub: string;
  private readonly blobs: LargePayloads;
  private readonly cursors = new Map<string, Cursor>();
  private readonly onCleanupError: (err: Error) => void;
  private readonly hints: IdleHints;
  /** The background read of the index into its mirror (with the lease), settled when the mirror is complete. */
  private mirrorLoad: Promise<void> | undefined;
  private closed = false;
  /** The storage is an emulator (Azurite): its index is read into memory by slices (see InstanceIndex.readAll). */
  private readonly emulator: boolean;

  constructor(options: TableStoreOptions) {
    if (!TASK_HUB.test(options.taskHub)) {
      throw new TableStoreError(
        'InvalidConfig',
        `Invalid task hub name '${options.taskHub}': use 3 to 45 letters and digits, starting with a letter ` +
          `(it becomes part of the Azure table name '<taskHub>Instances', which allows no other characters).`,
      );
    }
    this.taskHub = options.taskHub;
    this.tableName = `${options.taskHub}Instances`;
    const connection: StorageConnection = options.connection ?? { kind: 'connectionString', setting: 'connectionString', connectionString: options.connectionString ?? '' };
    // The SDK retries 408/5xx (503 included) and ECONNRESET-like network errors; once is enough for a local host,
    // and the retried transactions are made safe by `landed` below.
    const clientOptions = { retryOptions: { maxRetries: 1, retryDelayInMs: 200, maxRetryDelayInMs: 2000 } };
    let tables: (name: string) => TableClient;
    let blobService: () => BlobServiceClient | undefined;
    if (connection.kind === 'connectionString') {
      const conn = resolveConnectionString(connection.connectionString);
      tables = (name) => TableClient.fromConnectionString(conn, name, { ...clientOptions, allowInsecureConnection: isHttp(conn) });
      this.emulator = isHttp(conn) || parseConnectionString(conn).get('accountname') === DEV_ACCOUNT;
      blobService = LargePayloads.serviceOf(conn);
    } else {
      this.emulator = false;
      const credential = options.credential ?? new DefaultAzureCredential(connection.clientId ? { managedIdentityClientId: connection.clientId } : {});
      tables = tableClientFactory(connection, { credential, clientOptions });
      // The account's blob endpoint beside its table endpoint (https://<account>.blob.core.windows.net).
      const blobUri = /\.table\./.test(connection.tableServiceUri) ? connection.tableServiceUri.replace('.table.', '.blob.') : undefined;
      blobService = () => (blobUri ? new BlobServiceClient(blobUri, credential, { retryOptions: { maxTries: 2 } }) : undefined);
    }
    this.client = tables(this.tableName);
    this.indexTableName = `${options.taskHub}Index`;
    this.index = new InstanceIndex(tables(this.indexTableName));
    this.blobs = new LargePayloads(blobService, options.taskHub, () =>
      new TableStoreError('InvalidConfig', `A payload over ${BLOB_THRESHOLD_CHARS * 2} bytes goes to blob storage, but the storage setting (AzureWebJobsStorage) names no blob endpoint. Add BlobEndpoint=... (Azurite serves blobs on port 10000), use UseDevelopmentStorage=true, or an account whose table endpoint is https://<account>.table.core.windows.net.`),
    );
    this.onCleanupError = options.onCleanupError ?? ((err) => console.warn(`[TableStore ${this.tableName}] clean-up after a commit failed (will retry on the next commit): ${err.message}`));
    this.hints = new IdleHints(this.index, { quietMs: options.idleAfterMs ?? IDLE_AFTER_MS, onError: (err) => this.onCleanupError(err), mayWrite: () => this.lease?.check() });
  }

  async init(): Promise<void> {
    for (const client of [this.client, this.index.client]) {
      try {
        await client.createTable();
        if (client === this.index.client) await this.index.markBucketed(); // a new index: every row will have its bucket
      } catch (err) {
        if (statusOf(err) !== 409) throw err; // TableAlreadyExists (Azurite's reply is not always recognised by the SDK)
      }
    }
  }

  /**
   * Takes the task hub's lease (see lease.ts): from then on every write checks it first, so a host that lost it
   * writes nothing. Throws LeaseError('LeaseHeld') naming the holder when another live host has the hub.
   * @example await store.acquireLease({ onLost: (why) => host.stop(why) });
   */
  async acquireLease(options: Omit<LeaseOptions, 'taskHub'> = {}): Promise<void> {
    const lease = new HubLease(this.index.client, { ...options, taskHub: this.taskHub });
    await lease.acquire();
    this.lease = lease;
    // The one writer of the hub from now on: the index can be kept in memory (index-mirror.ts), read in the background.
    await this.index.openMirror(this.emulator);
    this.mirrorLoad = this.loadMirror();
  }

  /**
   * Resolves once the index is in memory (listings read it from then on); false when the store has no lease (or
   * closed first). Listings read the table until then.
   * @example await store.indexLoaded();
   */
  async indexLoaded(): Promise<boolean> {
    await this.mirrorLoad;
    return this.index.mirror?.complete ?? false;
  }

  /** Reads every index row into the mirror; a failure (storage down) is reported and tried again, until closed. */
  private async loadMirror(): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await this.index.readAll(() => this.closed);
        if (!this.closed) this.index.mirror?.finishLoad();
        return;
      } catch (err) {
        this.onCleanupError(new Error(`reading the index into memory failed (attempt ${attempt}; listings read the table meanwhile): ${err instanceof Error ? err.message : String(err)}`));
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** Math.min(attempt, 6))).unref());
      }
    }
  }

  /**
   * Writes many instances at once (benchmarks, migrations): the index rows in transactions of up to 100 per index
   * partition, then each instance's rows in one transaction, `concurrency` at a time. Existing ids are replaced.
   * An item's `idleUntil` (as Commit.idleUntil) goes into its index row as it is.
   * @example await store.importInstances([{ meta, history, actions: [], inbox: [] }]);
   */
  async importInstances(items: (StoredInstance & { idleUntil?: number })[], concurrency = 16): Promise<void> {
    await this.index.putMany(items.map((x) => ({ ...InstanceIndex.rowOf(x.meta), ...(x.idleUntil !== undefined && x.inbox.length === 0 ? { idleUntil: x.idleUntil } : {}) })));
    await mapLimit(items, concurrency, async ({ meta, history, actions, inbox }) => {
      const id = checkKey(meta.instanceId, 'instance id');
      const inline = { events: JSON.stringify(history), actions: JSON.stringify(actions) };
      const small = inline.events.length + inline.actions.length <= INLINE_CHARS;
      const hs = small ? [] : historyEntities(id, meta.executionId, 0, history, actions);
      const m = metaEntity(meta, [], { historyRows: hs.length, inbox: inbox.map((x) => x.id) }, small ? inline : undefined);
      const rows = await Promise.all([m, ...hs, ...inbox.map((x) => inboxEntity(id, x))].map((e) => this.offload(e)));
      checkSize(id, 'import', rows, MAX_TX_BYTES);
      await this.client.submitTransaction(rows.map((e): TransactionAction => ['upsert', e, 'Replace']));
    });
  }

  /** The index row first (an unfinished instance must never be missing from it), then the instance. */
  async create(meta: InstanceMeta, first: InboxMessage): Promise<void> {
    this.lease?.check();
    const id = checkKey(meta.instanceId, 'instance id');
    this.forgetIndexWrites(id);
    const m = await this.offload(metaEntity(meta, [], { historyRows: 0, inbox: [first.id] }, EMPTY_INLINE));
    const i = await this.offload(inboxEntity(id, first));
    checkSize(id, 'create', [m, i]);
    if (!(await this.index.create(InstanceIndex.rowOf(meta)))) {
      // A row exists: the instance's (then the create below fails and the row must stay as it is), or one a
      // crash left behind (a purge that deleted the instance but not yet its row).
      if (await this.getMeta(id)) throw new StoreConflictError(id);
      await this.index.put(InstanceIndex.rowOf(meta));
    }
    let etag: string | undefined;
    try {
      etag = (await this.client.submitTransaction([['create', m], ['upsert', i, 'Replace']])).getResponseForEntity(META_ROW)?.etag;
    } catch (err) {
      const f = txFailure(err);
      if (f?.status !== 409 || f.index !== 0) throw err;
      if (!(await this.landed(id, m))) throw new StoreConflictError(id);
    }
    this.cursors.set(id, { executionId: meta.executionId, nextSeq: 0, tombstones: [], status: meta.status, etag, metaText: payloadKey(m), inbox: new Set([first.id]), inline: EMPTY_INLINE, historyFrom: 0 });
  }

  /** Not atomic: the index row (Pending), then deletes the partition (meta row first, so nothing can be enqueued meanwhile), then creates. */
  async recreate(meta: InstanceMeta, first: InboxMessage): Promise<void> {
    this.lease?.check();
    this.forgetIndexWrites(meta.instanceId);
    await this.index.put(InstanceIndex.rowOf(meta));
    await this.deletePartition(checkKey(meta.instanceId, 'instance id'));
    await this.create(meta, first);
  }

  async load(instanceId: string): Promise<StoredInstance | undefined> {
    if (!isKey(instanceId)) return undefined;
    const m = await this.metaRow(instanceId);
    if (!m) {
      this.cursors.delete(instanceId);
      return undefined; // rows without a meta row are leftovers of an interrupted purge (see deletePartition)
    }
    const inv = inventoryOf(m);
    const meta = JSON.parse(await this.payload(m)) as InstanceMeta;
    const hPrefix = historyPrefix(meta.executionId);
    const inline = inlineOf(m);
    const historyFrom = Number(m.historyFrom ?? 0); // after a rewind: the first history row that counts
    let hRows: Row[] | undefined;
    let inboxRows: Row[] = [];
    if (inv && inline && inv.inbox.length === 0) {
      hRows = []; // one read: a waiting instance whose history is short
    } else if (inv && inv.historyRows <= MAX_POINT_READS) {
      const count = Math.max(0, inv.historyRows - historyFrom);
      const keys = [...Array.from({ length: count }, (_, n) => hPrefix + String(historyFrom + n).padStart(SEQ_DIGITS, '0')), ...inv.inbox.map((i) => INBOX + i)];
      const got = await mapLimit(keys, READ_CONCURRENCY, (k) => this.row(instanceId, k));
      const h = got.slice(0, count);
      if (h.every((r) => r !== undefined)) {
        hRows = h as Row[];
        inboxRows = got.slice(count).filter((r): r is Row => r !== undefined);
      }
    }
    const tomb = new Set(JSON.parse(readChunks(m, 't', '[]')) as string[]);
    if (!hRows) {
      const rows = await this.rows(odata`PartitionKey eq ${instanceId}`);
      hRows = rows.filter((r) => r.rowKey!.startsWith(hPrefix) && Number(r.rowKey!.slice(hPrefix.length)) >= historyFrom).sort((a, b) => compare(a.rowKey!, b.rowKey!));
      inboxRows = rows.filter((r) => r.rowKey!.startsWith(INBOX) && !tomb.has(r.rowKey!.slice(INBOX.length)));
    }
    if (inline) hRows = []; // (rows of the current execution exist only once it moved out of the meta row)
    const history = inline ? (JSON.parse(inline.events) as HistoryEvent[]) : (await Promise.all(hRows.map(async (r) => JSON.parse(await this.payload(r)) as HistoryEvent[]))).flat();
    const actions = inline ? (JSON.parse(inline.actions) as string[]) : hRows.flatMap((r) => JSON.parse(readChunks(r, 'a', '[]')) as string[]);
    const inbox = (await Promise.all(inboxRows.map(async (r) => JSON.parse(await this.payload(r)) as InboxMessage))).sort((a, b) => compare(a.id, b.id));
    // Only a store without a cursor (after a restart) takes it from a load: this store's own writes move
    // it, and a load that read before a commit but finished after it (the history API) must not rewind it.
    if (!this.cursors.has(instanceId)) {
      const last = hRows.at(-1);
      this.cursors.set(instanceId, {
        executionId: meta.executionId,
        nextSeq: last ? Number(last.rowKey!.slice(hPrefix.length)) + 1 : Math.max(historyFrom, inv?.historyRows ?? 0),
        tombstones: [...tomb], // deleting a row that is already gone is harmless
        status: meta.status,
        etag: m.etag,
        metaText: payloadKey(m),
        inbox: new Set(inbox.map((x) => x.id)),
        inline,
        historyFrom,
      });
      await this.repairIndex(meta); // the first load after a restart: a crash may have left the row behind
    }
    return { meta, history, actions, inbox };
  }

  /** Puts the mirror's row of an instance right when it disagrees with the instance's meta (conditionally on its ETag). */
  private async repairIndex(meta: InstanceMeta): Promise<void> {
    const row = this.index.mirror?.get(meta.instanceId);
    if (row?.etag && row.status !== meta.status) await this.index.repair(InstanceIndex.rowOf(meta), row.etag);
  }

  /** One row by key, or undefined. */
  private async row(instanceId: string, rowKey: string): Promise<Row | undefined> {
    try {
      return await this.client.getEntity<Record<string, unknown>>(instanceId, rowKey);
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async getMeta(instanceId: string): Promise<InstanceMeta | undefined> {
    if (!isKey(instanceId)) return undefined;
    const m = await this.metaRow(instanceId);
    return m ? (JSON.parse(await this.payload(m)) as InstanceMeta) : undefined;
  }

  /** A row's JSON payload: its `d` chunks, or the blob `b` names (see blobs.ts). */
  private payload(row: Record<string, unknown>): Promise<string> {
    return typeof row.b === 'string' ? this.blobs.get(row.b) : Promise.resolve(readChunks(row, 'd'));
  }

  /** The row as written: a payload over BLOB_THRESHOLD_CHARS moves to a blob first (uploaded before the row is). */
  private async offload(e: Entity): Promise<Entity> {
    const text = readChunks(e, 'd');
    if (text.length <= BLOB_THRESHOLD_CHARS) return e;
    const name = await this.blobs.put(e.partitionKey, text);
    const out: Entity = { partitionKey: e.partitionKey, rowKey: e.rowKey };
    for (const [k, v] of Object.entries(e)) if (k !== 'partitionKey' && k !== 'rowKey' && !/^d\d+$/.test(k)) out[k] = v as string;
    out.b = name;
    return out;
  }

  private metaRow(instanceId: string): Promise<Row | undefined> {
    return this.row(instanceId, META_ROW);
  }

  async list(query: InstanceQuery = {}): Promise<InstanceMeta[]> {
    return allPages((after) => this.listPage(query, { top: MAX_PAGE, after }));
  }

  /**
   * A page of the index (its mirror in memory once complete, else the table), each row read from the instance itself
   * (READ_CONCURRENCY at a time): what is returned is what the instance's meta row says, filtered again by the query.
   * A row that disagrees with the meta is repaired; a row without an instance (a purge that crashed half-way) is skipped.
   */
  async listPage(query: InstanceQuery, page: PageRequest): Promise<Page<InstanceMeta>> {
    const mirror = this.index.mirror;
    const { rows, next } = mirror?.complete ? ((p) => ({ rows: p.items, next: p.next }))(mirror.page(query, page)) : await this.index.page(query, pageSize(page), page.after);
    const found = await mapLimit(rows, READ_CONCURRENCY, async (row): Promise<InstanceMeta[]> => {
      const meta = await this.getMeta(row.instanceId);
      if (meta === undefined) return [];
      if (meta.status !== row.status && row.etag) await this.index.repair(InstanceIndex.rowOf(meta), row.etag);
      return matchesQuery(meta, query) ? [meta] : [];
    });
    return { items: found.flat(), next };
  }

  /** Read from the index table (never the mirror: recovery runs before it is complete); the rows fill the mirror. */
  async activePage(page: PageRequest): Promise<Page<ActiveInstance>> {
    const { rows, next } = await this.index.activePage(pageSize(page), page.after);
    return { items: rows.map((r) => (r.idleUntil === undefined ? { instanceId: r.instanceId } : { instanceId: r.instanceId, idleUntil: r.idleUntil })), next };
  }

  /** The engine loaded an instance with nothing to do until `idleUntil`: its row may say so once it stays quiet. */
  idle(instanceId: string, idleUntil: number | undefined): void {
    if ((this.cursors.get(instanceId)?.inbox.size ?? 1) === 0) this.hints.idle(instanceId, idleUntil);
  }

  /**
   * Adds the message and touches the meta row (a merge without properties) in one transaction: when the
   * instance does not exist, the transaction fails as a whole and no orphan row is written. Messages to
   * a missing instance are dropped, as the extension does.
   */
  async enqueue(instanceId: string, message: InboxMessage): Promise<void> {
    if (!isKey(instanceId)) return;
    this.lease?.check();
    const i = await this.offload(inboxEntity(instanceId, message));
    checkSize(instanceId, 'message', [i]);
    await this.hints.lower(instanceId, undefined, true); // the row must not say "idle" once the message is stored (idle-hints.ts)
    this.cursors.get(instanceId)?.inbox.add(message.id); // before sending: a commit racing this one must list it
    try {
      await this.client.submitTransaction([
        ['update', { partitionKey: instanceId, rowKey: META_ROW, qx: '1' }, 'Merge', { etag: '*' }],
        ['upsert', i, 'Replace'],
      ]);
    } catch (err) {
      const f = txFailure(err);
      if (f?.status === 404 && f.index === 0) return;
      throw err;
    }
  }

  /**
   * One transaction: replace the meta row, insert one history row with all appended events, add the
   * enqueued messages, delete the consumed ones. Consumed messages beyond the 100-operation limit are recorded as tombstones in the
   * meta row (so `load` hides them at once) and deleted right after; a dropped execution's history is
   * deleted after the transaction too (`load` ignores other executions, so a crash in between is harmless).
   */
  async commit(instanceId: string, commit: Commit): Promise<void> {
    const id = instanceId;
    if (!isKey(id)) return;
    this.lease?.check();
    const exec = checkKey(commit.meta.executionId, 'execution id');
    if (!this.cursors.has(id)) await this.load(id); // after a restart: the rows tell where history ends
    const cur = this.cursors.get(id);
    if (!cur) return; // purged meanwhile
    // A new execution (continue-as-new) has a fresh id and no rows: it starts in the meta row. A rewind
    // (replaceHistory) writes the whole history again: in the meta row when short, else as new rows after the
    // old ones, moving historyFrom past those in the same transaction; the old rows are deleted afterwards
    // (load ignores them meanwhile).
    const sameExec = cur.executionId === exec;
    const nextSeq = sameExec ? cur.nextSeq : 0;
    const historyFrom = commit.replaceHistory ? nextSeq : sameExec ? cur.historyFrom : 0;
    const base = commit.replaceHistory || !sameExec ? EMPTY_INLINE : cur.inline;
    let inline: Inline | undefined;
    let hs: Entity[];
    if (base) {
      const grown = { events: joinJsonArrays(base.events, JSON.stringify(commit.append)), actions: joinJsonArrays(base.actions, JSON.stringify(commit.actions ?? [])) };
      if (grown.events.length + grown.actions.length <= INLINE_CHARS) {
        inline = grown;
        hs = [];
      } else {
        hs = historyEntities(id, exec, nextSeq, JSON.parse(grown.events) as HistoryEvent[], JSON.parse(grown.actions) as string[]);
      }
    } else {
      hs = historyEntities(id, exec, nextSeq, commit.append, commit.actions ?? []);
    }
    hs = await Promise.all(hs.map((h) => this.offload(h)));
    const consumed = [...new Set(commit.consumed)];
    for (const c of consumed) checkKey(c, 'message id');
    const adds = await Promise.all((commit.enqueue ?? []).map((x) => this.offload(inboxEntity(id, x))));
    const room = MAX_TX_ACTIONS - 1 - hs.length - adds.length;
    const inTx = consumed.slice(0, room);
    const tombstones = [...new Set([...cur.tombstones, ...consumed.slice(room)])];
    const inventory = (): Inventory => {
      const inbox = new Set(cur.inbox);
      for (const c of consumed) inbox.delete(c);
      for (const a of commit.enqueue ?? []) inbox.add(a.id);
      return { historyRows: nextSeq + hs.length, inbox: [...inbox] };
    };
    let m = await this.offload(metaEntity(commit.meta, tombstones, inventory(), inline, historyFrom));
    for (const e of [m, ...hs, ...adds]) checkSize(id, 'commit', [e]);
    checkSize(id, 'commit', [m, ...hs, ...adds], MAX_TX_BYTES);
    const firstDelete = 1 + hs.length + adds.length;
    // The index says "unfinished" before the instance is (and "finished" only after it is): see table-index.ts.
    // Nor may it say "idle" past what the instance will wait for (idle-hints.ts): a stored message means now.
    const indexRow = commit.meta.status !== cur.status ? InstanceIndex.rowOf(commit.meta) : undefined;
    const idleUntil = inventory().inbox.length > 0 ? undefined : commit.idleUntil;
    this.hints.forget(id);
    if (indexRow && isActive(indexRow.status)) await this.index.put(indexRow);
    else if (isActive(commit.meta.status)) await this.hints.lower(id, idleUntil, false);

    faultPoint('store.commit.before', commit.meta.name);
    let metaText = payloadKey(m);
    let etag = cur.etag ?? '*';
    for (;;) {
      // The meta row is replaced only in the version this store last saw: a writer that lost the task hub (or
      // any other writer) cannot overwrite what the holder wrote since.
      m = await this.offload(metaEntity(commit.meta, tombstones, inventory(), inline, historyFrom)); // the inbox may have grown since (an enqueue in between)
      metaText = payloadKey(m);
      const actions: TransactionAction[] = [['update', m, 'Replace', { etag }]];
      for (const h of hs) actions.push(['create', h]);
      for (const a of adds) actions.push(['upsert', a, 'Replace']);
      for (const c of inTx) actions.push(['delete', { partitionKey: id, rowKey: INBOX + c }]);
      try {
        etag = (await this.client.submitTransaction(actions)).getResponseForEntity(META_ROW)?.etag ?? '*';
        break;
      } catch (err) {
        const f = txFailure(err);
        if (f?.status === 404 && f.index === 0) {
          this.cursors.delete(id);
          return; // purged meanwhile
        }
        if (f?.status === 412 && f.index === 0) {
          const stored = await this.metaRow(id);
          if (!stored) {
            this.cursors.delete(id);
            return; // purged meanwhile
          }
          const text = payloadKey(stored);
          if (text === cur.metaText) {
            etag = stored.etag; // only touched (an enqueue merges into the meta row): same content, new ETag
            continue;
          }
          if (text === metaText && (await this.landed(id, ...hs))) {
            etag = stored.etag; // a retried request whose first attempt went through
            break;
          }
          this.cursors.delete(id);
          throw new TableStoreError('StaleWrite', `Instance '${id}': its meta row changed since this store last read it, so another writer changed this instance. Nothing was written; load the instance again before committing.`);
        }
        if (f?.status === 404 && f.index >= firstDelete && f.index < actions.length) {
          inTx.splice(f.index - firstDelete, 1); // already gone: deleting it is a no-op, like the memory store
          continue;
        }
        if (f?.status === 409 && f.index >= 1 && f.index <= hs.length) {
          const h = hs[f.index - 1];
          if (await this.landed(id, m, ...hs)) break; // a retried request whose first attempt went through
          this.cursors.delete(id);
          throw new TableStoreError(
            'StaleWrite',
            `Instance '${id}': history row '${h.rowKey}' already exists, so another writer appended to this instance ` +
              `or this store's view of it is stale. Nothing was written; load the instance again before committing.`,
          );
        }
        throw err;
      }
    }
    faultPoint('store.commit.after', commit.meta.name);
    const inv = inventory();
    const next: Cursor = { executionId: exec, nextSeq: inv.historyRows, tombstones, status: commit.meta.status, etag: etag === '*' ? undefined : etag, metaText, inbox: new Set(inv.inbox), inline, historyFrom };
    this.cursors.set(id, next);
    if (indexRow && !isActive(indexRow.status)) this.indexBacklog.set(id, indexRow);
    else if (isActive(commit.meta.status)) this.hints.idle(id, inv.inbox.length > 0 ? undefined : commit.idleUntil);
    await this.flushIndex();
    await this.cleanUp(id, next, commit.dropExecution !== exec ? commit.dropExecution : undefined, commit.replaceHistory);
  }

  /** The instance first, then its index row (a crash in between leaves a row that reads repair). */
  async purge(instanceId: string): Promise<boolean> {
    if (!isKey(instanceId)) return false;
    this.lease?.check();
    const existed = await this.deletePartition(instanceId);
    this.forgetIndexWrites(instanceId);
    await this.index.delete(instanceId);
    await this.blobs.deleteInstance(instanceId);
    return existed;
  }

  /** Drops the index writes still waiting for an instance whose row is about to be written whole or deleted. */
  private forgetIndexWrites(instanceId: string): void {
    this.indexBacklog.delete(instanceId);
    this.hints.forget(instanceId);
  }

  /** Writes the index rows that wait (finishing commits); a failure is reported, the rows wait for the next commit. */
  private async flushIndex(): Promise<void> {
    for (const [id, row] of [...this.indexBacklog]) {
      try {
        await this.index.put(row);
        if (this.indexBacklog.get(id) === row) this.indexBacklog.delete(id);
      } catch (err) {
        this.onCleanupError(new Error(`the index row of instance '${id}' could not be written (it says '${row.status}' at the next commit, or when a listing meets it): ${err instanceof Error ? err.message : String(err)}`));
        return;
      }
    }
  }

  /** Gives the lease back (so the next host starts at once) and forgets the cursors; the SDK's HTTP agent needs no release. */
  async close(): Promise<void> {
    this.closed = true;
    this.hints.close();
    await this.lease?.release();
    this.lease = undefined;
    this.cursors.clear();
  }

  /** Deletes the rows past the atomic part of a commit; failures are reported, and retried by the next commit. */
  private async cleanUp(id: string, cur: Cursor, dropExecution: string | undefined, replaced?: boolean): Promise<void> {
    try {
      if (cur.tombstones.length > 0) {
        await this.deleteRows(id, cur.tombstones.map((t) => INBOX + t));
        cur.tombstones = []; // the meta row keeps listing them until the next commit: harmless, the rows are gone
      }
      if (dropExecution !== undefined) await this.deleteRows(id, await this.keysWithPrefix(id, historyPrefix(dropExecution)));
      if (replaced) {
        const prefix = historyPrefix(cur.executionId);
        await this.deleteRows(id, (await this.keysWithPrefix(id, prefix)).filter((k) => Number(k.slice(prefix.length)) < cur.historyFrom));
      }
    } catch (err) {
      this.onCleanupError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Deletes every row of a partition; true when it held an instance. The first transaction deletes the
   * meta row together with the inbox (and as much history as fits): from then on `enqueue` and `commit`
   * fail for this id, so the rows listed afterwards are all that is left. If the process dies after that
   * first transaction, only history rows of a finished execution can be left behind (unless the inbox had
   * 99+ messages); `load` ignores them and a later purge or recreate deletes them.
   */
  private async deletePartition(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const keys = await this.keysWithPrefix(id, '');
      this.cursors.delete(id);
      if (!keys.includes(META_ROW)) {
        await this.deleteRows(id, keys);
        return false;
      }
      const rest = keys.filter((k) => k !== META_ROW);
      const first = [META_ROW, ...rest.filter((k) => k.startsWith(INBOX)), ...rest.filter((k) => !k.startsWith(INBOX))].slice(0, MAX_TX_ACTIONS);
      try {
        await this.client.submitTransaction(first.map((k): TransactionAction => ['delete', { partitionKey: id, rowKey: k }]));
      } catch (err) {
        if (txFailure(err)?.status === 404) continue; // the partition changed under us: list again
        throw err;
      }
      const left = await this.keysWithPrefix(id, '');
      if (!left.includes(META_ROW)) await this.deleteRows(id, left); // (a meta row means someone created the id again)
      return true;
    }
    throw new TableStoreError('PurgeContention', `Instance '${id}': could not purge, its rows kept changing during 5 attempts. Try again.`);
  }

  /** Deletes rows in transactions of 100, tolerating rows that are already gone. */
  private async deleteRows(id: string, rowKeys: string[]): Promise<void> {
    for (let i = 0; i < rowKeys.length; i += MAX_TX_ACTIONS) {
      const batch = rowKeys.slice(i, i + MAX_TX_ACTIONS);
      try {
        await this.client.submitTransaction(batch.map((k): TransactionAction => ['delete', { partitionKey: id, rowKey: k }]));
      } catch (err) {
        if (txFailure(err)?.status !== 404) throw err;
        for (const k of batch) {
          try {
            await this.client.deleteEntity(id, k);
          } catch (e) {
            if (statusOf(e) !== 404) throw e;
          }
        }
      }
    }
  }

  /** True when the stored rows hold exactly what `rows` would write: a retried request found its own first attempt. */
  private async landed(id: string, ...rows: Entity[]): Promise<boolean> {
    for (const row of rows) {
      try {
        const stored = await this.client.getEntity<Record<string, unknown>>(id, row.rowKey);
        if (payloadKey(stored) !== payloadKey(row)) return false;
      } catch (err) {
        if (statusOf(err) === 404) return false;
        throw err;
      }
    }
    return true;
  }

  private async nextSeqOf(id: string, executionId: string): Promise<number> {
    const prefix = historyPrefix(executionId);
    const keys = await this.keysWithPrefix(id, prefix);
    return keys.reduce((n, k) => Math.max(n, Number(k.slice(prefix.length)) + 1), 0);
  }

  /** Row keys of a partition starting with `prefix` ('' for all), in key order. */
  private async keysWithPrefix(id: string, prefix: string): Promise<string[]> {
    // Prefixes end with ':' (or are empty), so ';' (the next character) bounds the range.
    const filter = prefix === '' ? odata`PartitionKey eq ${id}` : odata`PartitionKey eq ${id} and RowKey ge ${prefix} and RowKey lt ${prefix.slice(0, -1) + ';'}`;
    const keys: string[] = [];
    for await (const r of this.client.listEntities({ queryOptions: { filter, select: ['RowKey'] } })) keys.push(r.rowKey!);
    return keys;
  }

  private async rows(filter: string): Promise<Row[]> {
    const out: Row[] = [];
    for await (const r of this.client.listEntities<Record<string, unknown>>({ queryOptions: { filter } })) out.push(r);
    return out;
  }
}

/**
 * The connection string the SDK should use: `UseDevelopmentStorage=true` becomes Azurite's well-known account.
 * @example resolveConnectionString('UseDevelopmentStorage=true') // 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;...'
 */
export function resolveConnectionString(connectionString: string): string {
  const parts = parseConnectionString(connectionString);
  if (parts.size === 0) {
    throw new TableStoreError('InvalidConfig', 'The storage connection string (AzureWebJobsStorage) is empty. Set it to UseDevelopmentStorage=true for Azurite, or to a storage account connection string.');
  }
  return parts.get('usedevelopmentstorage')?.toLowerCase() === 'true' ? DEV_CONNECTION_STRING : connectionString;
}

function parseConnectionString(s: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const piece of s.split(';')) {
    const eq = piece.indexOf('=');
    if (eq > 0) parts.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  return parts;
}

function isHttp(conn: string): boolean {
  const parts = parseConnectionString(conn);
  const endpoint = parts.get('tableendpoint');
  return endpoint ? endpoint.toLowerCase().startsWith('http:') : parts.get('defaultendpointsprotocol')?.toLowerCase() === 'http';
}


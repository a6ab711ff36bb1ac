// One writer per task hub: a lease row in the hub's index table (PartitionKey '@lease'), written with ETags,
// with an expiry that its holder renews while it runs. A second host on the same hub refuses to start, naming
// the holder; a lease its holder left behind (killed, crashed) is taken over as soon as it is provably free.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { LEASE_PARTITION } from './table-index';

/** How long a lease lasts without renewal. */
export const LEASE_DURATION_MS = 20_000;
/** How often the holder renews it. */
export const LEASE_RENEW_MS = 5_000;
/** After a renewal that met storage trouble, how soon it is tried again (the next tick may be seconds away). */
const RETRY_MS = 1_000;
/** The holder stops writing this long before its lease could be taken (clock steps, slow requests). */
const SAFETY_MS = 3_000;
const LEASE_ROW = 'hub';

/** Who holds a lease, as the row records it. */
export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  startedAt: string;
  expiresAt: string;
}

export interface LeaseOptions {
  taskHub: string;
  durationMs?: number;
  renewMs?: number;
  /** Injected for tests; default the real clock, a real timer, this machine and process. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  host?: string;
  pid?: number;
  pidAlive?: (pid: number) => boolean;
  /** Called once when another host took the lease: this one must stop. */
  onLost?: (message: string) => void;
}

/** Stable codes of lease errors. */
export type LeaseErrorCode =
  /** Another live host holds the task hub. */
  | 'LeaseHeld'
  /** This host's lease was taken, or could not be renewed in time: it may not write. */
  | 'LeaseLost';

/**
 * An error about the task hub lease, with a stable `code`.
 * @example if ((err as { code?: string }).code === 'LeaseHeld') process.exit(1);
 */
export class LeaseError extends Error {
  constructor(readonly code: LeaseErrorCode, message: string) {
    super(message);
    this.name = 'LeaseError';
  }
}

/**
 * The lease of one host on one task hub.
 * @example const lease = new HubLease(indexTable, { taskHub: 'MyHub' }); await lease.acquire(); lease.check(); await lease.release();
 */
export class HubLease {
  readonly owner = randomUUID();
  private etag: string | undefined;
  /** Until when this host may write (its clock): renewal time + duration - safety margin. */
  private validUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** The renewal in flight: one at a time, else the second would send the ETag the first replaced and read as lost. */
  private renewing: Promise<void> | undefined;
  private lost: string | undefined;
  private readonly o: Required<Omit<LeaseOptions, 'onLost'>> & Pick<LeaseOptions, 'onLost'>;

  constructor(private readonly client: TableClient, options: LeaseOptions) {
    this.o = {
      durationMs: LEASE_DURATION_MS,
      renewMs: LEASE_RENEW_MS,
      now: Date.now,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      host: os.hostname(),
      pid: process.pid,
      pidAlive,
      ...options,
    };
  }

  /**
   * Takes the lease, or throws LeaseError('LeaseHeld') naming the holder. A free, expired or abandoned lease is
   * taken at once (abandoned: its holder ran on this machine and its process is gone); a holder on another machine
   * is watched for one lease duration: if it renews, it is alive (refused), if not, the lease is taken.
   */
  async acquire(): Promise<void> {
    let watched: { etag: string; since: number } | undefined;
    for (;;) {
      const row = await this.read();
      const now = this.o.now();
      if (!row) {
        if (await this.write(undefined)) return this.started();
        continue;
      }
      const h = row.holder;
      const here = h.host === this.o.host;
      const abandoned = here && h.pid !== this.o.pid && !this.o.pidAlive(h.pid);
      // Same machine: same clock, so the expiry can be read. Elsewhere: only an ETag unchanged for a whole lease counts.
      const expired = here ? now >= Date.parse(h.expiresAt) : watched?.etag === row.etag && now - watched.since >= this.o.durationMs;
      if (abandoned || expired || h.owner === this.owner) {
        if (await this.write(row.etag)) return this.started();
        continue;
      }
      if (here || (watched && watched.etag !== row.etag)) throw new LeaseError('LeaseHeld', heldMessage(this.o.taskHub, h, here));
      watched ??= { etag: row.etag, since: now };
      await this.o.sleep(Math.min(this.o.renewMs, this.o.durationMs - (now - watched.since) + 1));
    }
  }

  /** Throws LeaseError('LeaseLost') unless this host may write now. Stores call it before every write. */
  check(): void {
    if (this.lost) throw new LeaseError('LeaseLost', this.lost);
    if (this.o.now() >= this.validUntil) {
      throw new LeaseError('LeaseLost', `This host's lease on task hub '${this.o.taskHub}' was not renewed in time (storage unreachable?); it writes nothing until the renewal succeeds.`);
    }
  }

  /** One renewal (the timer calls it every renewMs; tests call it directly); joins the one in flight. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (this.lost) return;
    const sent = this.o.now();
    try {
      this.etag = (await this.client.updateEntity(this.entity(sent), 'Replace', { etag: this.etag })).etag;
      this.validUntil = sent + this.o.durationMs - SAFETY_MS;
    } catch (err) {
      const s = statusOf(err);
      if (s !== 412 && s !== 404) {
        // Storage trouble: check() fences meanwhile. Tried again within a second, so that writes resume as soon as
        // storage is back rather than at the next tick (an outage longer than the lease's margin: up to 5 s of refusals).
        this.retrySoon();
        return;
      }
      const holder = (await this.read().catch(() => undefined))?.holder;
      this.lost = `This host lost its lease on task hub '${this.o.taskHub}'${holder ? ` to devhost pid ${holder.pid} on '${holder.host}'` : ''}: another host took it over, so this one stops writing.`;
      this.stopTimer();
      this.o.onLost?.(this.lost);
    }
  }

  /** Gives the lease up (only if it is still ours), so the next host starts at once. */
  async release(): Promise<void> {
    this.stopTimer();
    if (this.lost || !this.etag) return;
    try {
      await this.client.deleteEntity(LEASE_PARTITION, LEASE_ROW, { etag: this.etag });
    } catch {
      /* taken meanwhile, or storage gone: it expires on its own */
    }
    this.etag = undefined;
    this.validUntil = 0;
  }

  private started(): void {
    this.stopTimer();
    this.timer = setInterval(() => void this.renew(), this.o.renewMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.timer = undefined;
    this.retry = undefined;
  }

  private retrySoon(): void {
    if (this.retry || !this.timer) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.renew();
    }, Math.min(RETRY_MS, this.o.renewMs));
    this.retry.unref();
  }

  /** Writes our row: a create when there is none (`etag` undefined), else a replace of the version read. */
  private async write(etag: string | undefined): Promise<boolean> {
    const sent = this.o.now();
    try {
      const res = etag === undefined ? await this.client.createEntity(this.entity(sent)) : await this.client.updateEntity(this.entity(sent), 'Replace', { etag });
      this.etag = res.etag;
    } catch (err) {
      const s = statusOf(err);
      if (s === 409 || s === 412 || s === 404) return false; // someone else moved first: look again
      throw err;
    }
    this.validUntil = sent + this.o.durationMs - SAFETY_MS;
    return true;
  }

  private entity(now: number): Record<string, string | number> & { partitionKey: string; rowKey: string } {
    return {
      partitionKey: LEASE_PARTITION,
      rowKey: LEASE_ROW,
      owner: this.owner,
      host: this.o.host,
      pid: this.o.pid,
      startedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.o.durationMs).toISOString(),
    };
  }

  private async read(): Promise<{ holder: LeaseHolder; etag: string } | undefined> {
    try {
      const e = await this.client.getEntity<Record<string, unknown>>(LEASE_PARTITION, LEASE_ROW);
      const holder: LeaseHolder = { owner: String(e.owner), host: String(e.host), pid: Number(e.pid), startedAt: String(e.startedAt), expiresAt: String(e.expiresAt) };
      return { holder, etag: e.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}

function heldMessage(hub: string, h: LeaseHolder, here: boolean): string {
  const who = here ? `devhost pid ${h.pid} on this machine` : `devhost pid ${h.pid} on '${h.host}'`;
  return (
    `Task hub '${hub}' is in use by ${who} (lease renewed at ${h.startedAt}, valid until ${h.expiresAt}); one host writes a task hub at a time. ` +
    `Stop that host first, or start this one with another task hub (--task-hub). A host that was killed frees the hub at once on this machine, else when its lease expires.`
  );
}

/** True when a process with this id runs on this machine (EPERM: it runs, as another user). */
function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

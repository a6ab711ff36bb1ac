// Per-player allowances (lines per second, live tasks, running commands) that every instance draws from one row of
// the player's partition of the Messages table (`q<pool>`), changed only by ETag-conditioned writes: that row is the
// truth all instances share. So that a request does not pay a write, an instance borrows a small slice at once and
// spends it for at most LOCAL_MS (30 s); what it does not spend is lost, so the shared pool can look smaller than it
// is, never larger. The slice grows with use (twice what the last one used), so a player who types slowly borrows one
// line at a time and wastes nothing, and a fast one costs a write every few lines.
import { randomUUID } from 'node:crypto';
import { remember } from './bounded';
import { GameError } from './errors';
import { statusOf, storageError, table } from './tables';

/**
 * How long an instance may spend a slice it borrowed. Long enough that a player typing a line every few seconds still
 * costs a write only every few lines; what is left when it ends is lost, never returned.
 */
export const LOCAL_MS = 30_000;
/** A slice not reported back (see Spent) counts as fully used until this long after it was borrowed. */
export const GRANT_MS = 35_000;
/** Players whose rows and slices one process remembers. */
const MAX_PLAYERS = 10_000;

/** The previous slice of this instance, reported back with the next borrow. */
export interface Spent {
  id: string;
  /** How many units of it were used. */
  used: number;
  /** True when every use has finished (e.g. every task it admitted has been created, so listings show it). */
  finished: boolean;
}

/** A pool's rules: how one borrow changes the row's state, or a refusal (a thrown GameError). */
export interface Pool<S, C = void> {
  /** Row key suffix: the row is `q<name>`. */
  readonly name: string;
  /** Largest slice one borrow takes. */
  readonly maxSlice: number;
  /**
   * True when a refusal must be confirmed on a freshly read row (the state can move both ways, e.g. a slice another
   * instance reports back). A bucket that only other instances drain may refuse on a cached row: the truth is never
   * fuller than the cache.
   */
  readonly refuseOnFreshRow: boolean;
  /** Decides one borrow: `want` units wanted, `grantId` names the slice, `previous` is reported back. */
  borrow(a: { player: string; state: S | undefined; want: number; grantId: string; previous?: Spent; nowMs: number; ctx: C }): Promise<{ grant: number; state: S }>;
}

interface Holding {
  id: string;
  left: number;
  until: number;
  used: number;
  inFlight: number;
}

interface Row<S> {
  /** Undefined: there is no row yet. */
  etag: string | undefined;
  state: S | undefined;
}

/**
 * One pool of per-player allowances.
 *
 * @example
 * const lines = new Allowance(inputRatePool);
 * const done = await lines.take('alice', undefined); // throws the pool's GameError when refused
 * done();
 */
export class Allowance<S, C = void> {
  private readonly held = new Map<string, Holding>();
  private readonly rows = new Map<string, Row<S>>();
  private readonly borrowing = new Map<string, Promise<Holding>>();

  constructor(private readonly pool: Pool<S, C>) {}

  /**
   * Takes one unit for `player`; the returned function marks its use finished (for pools that count live things).
   * Throws the pool's GameError when the shared row has nothing left. `ctx` goes to the pool's borrow.
   */
  async take(player: string, ctx: C, nowMs: () => number = Date.now): Promise<() => void> {
    for (;;) {
      const h = this.held.get(player);
      if (h && h.left > 0 && nowMs() < h.until) {
        h.left--;
        h.used++;
        h.inFlight++;
        let finished = false;
        return () => {
          if (!finished) {
            finished = true;
            h.inFlight--;
          }
        };
      }
      let pending = this.borrowing.get(player);
      if (!pending) {
        pending = this.borrow(player, h, ctx, nowMs()).finally(() => this.borrowing.delete(player));
        this.borrowing.set(player, pending);
      }
      await pending;
    }
  }

  private async borrow(player: string, previous: Holding | undefined, ctx: C, nowMs: number): Promise<Holding> {
    const recent = previous && previous.until > nowMs - LOCAL_MS;
    const want = Math.max(1, Math.min(this.pool.maxSlice, recent ? previous.used * 2 : 1));
    const spent: Spent | undefined = previous ? { id: previous.id, used: previous.used, finished: previous.inFlight === 0 } : undefined;
    let fresh = false;
    for (let attempt = 0; attempt < 8; attempt++) {
      let row = this.rows.get(player);
      fresh = !row;
      row ??= await this.read(player);
      const grantId = randomUUID().slice(0, 8);
      let decision: { grant: number; state: S };
      try {
        decision = await this.pool.borrow({ player, state: row.state, want, grantId, previous: spent, nowMs, ctx });
      } catch (err) {
        if (fresh || !this.pool.refuseOnFreshRow) throw err;
        this.rows.delete(player); // confirm the refusal on the row as it is now
        continue;
      }
      const written = await this.write(player, row, decision.state);
      if (!written) {
        this.rows.delete(player); // another instance wrote first: read again
        continue;
      }
      if (written.etag) remember(this.rows, player, { etag: written.etag, state: decision.state }, MAX_PLAYERS);
      else this.rows.delete(player);
      const h: Holding = { id: grantId, left: decision.grant, until: nowMs + LOCAL_MS, used: 0, inFlight: 0 };
      remember(this.held, player, h, MAX_PLAYERS);
      return h;
    }
    throw new GameError('storage_unavailable', `Too many requests for player ${player} changed the same limit at once; try again in a moment.`, { retryAfterSeconds: 1 });
  }

  private async read(player: string): Promise<Row<S>> {
    const client = await table('Messages');
    try {
      const e = await client.getEntity<{ s?: string }>(player, `q${this.pool.name}`);
      let state: S | undefined;
      try {
        state = typeof e.s === 'string' ? (JSON.parse(e.s) as S) : undefined;
      } catch {
        state = undefined; // unreadable: start over (the write below replaces it)
      }
      return { etag: e.etag, state };
    } catch (err) {
      if (statusOf(err) === 404) return { etag: undefined, state: undefined };
      throw storageError(err, `read the ${this.pool.name} limit of ${player}`);
    }
  }

  /** Writes the new state if the row is still as read; undefined when it was not (someone else wrote first). */
  private async write(player: string, row: Row<S>, state: S): Promise<{ etag?: string } | undefined> {
    const client = await table('Messages');
    const entity = { partitionKey: player, rowKey: `q${this.pool.name}`, s: JSON.stringify(state) };
    try {
      const res = row.etag === undefined ? await client.createEntity(entity) : await client.updateEntity(entity, 'Replace', { etag: row.etag });
      return { etag: res.etag };
    } catch (err) {
      const status = statusOf(err);
      if (status === 409 || status === 412 || status === 404) return undefined;
      throw storageError(err, `update the ${this.pool.name} limit of ${player}`);
    }
  }
}

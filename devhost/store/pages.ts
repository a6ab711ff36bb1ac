// Paging shared by the stores and the management API: continuation tokens, reading every page, and running
// per-item reads of one page with bounded concurrency.
import { InstanceMeta, Page, PageRequest } from './types';

/** Largest page a store reads in one go (also the largest `top` the management API takes). */
export const MAX_PAGE = 1000;

/**
 * The continuation token of the management API for "instances after this id": `v1.` + base64url of the id.
 * @example encodeContinuation('order-42') // 'v1.b3JkZXItNDI'
 */
export function encodeContinuation(after: string): string {
  return `v1.${Buffer.from(after, 'utf8').toString('base64url')}`;
}

/**
 * The id a token made by encodeContinuation stands for, or undefined when the token is not one (strict: the
 * token must be exactly what encodeContinuation gives for the decoded id).
 * @example decodeContinuation('v1.b3JkZXItNDI') // 'order-42'
 */
export function decodeContinuation(token: string): string | undefined {
  const m = /^v1\.([A-Za-z0-9_-]{1,1400})$/.exec(token);
  if (!m) return undefined;
  const id = Buffer.from(m[1], 'base64url').toString('utf8');
  // Only what could be an instance id (the rules of validateInstanceId), encoded exactly as this host encodes it.
  if (id.length === 0 || id.length > 256 || /[/\\?#\u0000-\u001f\u007f-\u009f\ufffd]/.test(id)) return undefined;
  return encodeContinuation(id) === token ? id : undefined;
}

/**
 * Every item of a paged listing, page after page.
 * @example const all = await allPages((after) => store.listPage({}, { top: 1000, after }));
 */
export async function allPages<T>(read: (after: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  do {
    const page = await read(after);
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

/**
 * `fn` over `items` with at most `limit` calls running at once; results in item order.
 * @example const metas = await mapLimit(ids, 16, (id) => store.getMeta(id));
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Page size clamped to 1..MAX_PAGE. */
export function pageSize(page: PageRequest): number {
  return Math.max(1, Math.min(MAX_PAGE, Math.floor(page.top)));
}

/** Stable order of listings: by instance id (the order of the Azure Storage provider's Instances table). */
export function byId(a: InstanceMeta, b: InstanceMeta): number {
  return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0;
}

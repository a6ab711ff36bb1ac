// Instance-list filtering shared by every store (the management API's createdTime/runtimeStatus/prefix filters).
import { InstanceMeta, InstanceQuery } from './types';

/** True when `meta` passes every filter set in `q`. */
export function matchesQuery(meta: InstanceMeta, q: InstanceQuery): boolean {
  if (q.createdTimeFrom && meta.createdTime < q.createdTimeFrom) return false;
  if (q.createdTimeTo && meta.createdTime > q.createdTimeTo) return false;
  if (q.runtimeStatus && q.runtimeStatus.length > 0 && !q.runtimeStatus.includes(meta.status)) return false;
  if (q.instanceIdPrefix && !meta.instanceId.startsWith(q.instanceIdPrefix)) return false;
  return true;
}

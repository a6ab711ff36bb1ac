// The index of each player's tasks (table Tasks, partition = player, row = instance id): lists /api/tasks and
// decides ownership, so another player's task id is simply not found.
import { odata } from '@azure/data-tables';
import { statusOf, storageError, table } from './tables';

/** What the index keeps about one task. */
export interface TaskRecord {
  player: string;
  id: string;
  kind: 'delay' | 'async';
  /** The callback (delay) or function (runAsync) name. */
  callback: string;
  /** The command that started it. */
  command: string;
  createdAt: number;
  /** For delays: when it was due when created (ms). */
  fireAt?: number;
}

type Row = Omit<TaskRecord, 'player' | 'id'>;

/**
 * Records a task before its instance starts (so no instance exists without an owner).
 *
 * @example
 * await recordTask({ player: 'alice', id, kind: 'delay', callback: 'remind', command: 'remind', createdAt: Date.now() });
 */
export async function recordTask(rec: TaskRecord): Promise<void> {
  const client = await table('Tasks');
  const { player, id, ...row } = rec;
  try {
    await client.upsertEntity({ partitionKey: player, rowKey: id, ...row }, 'Replace');
  } catch (err) {
    throw storageError(err, `record task ${id}`);
  }
}

/**
 * The record of one of `player`'s tasks, or undefined (also for other players' tasks).
 *
 * @example
 * const rec = await findTask('alice', id);
 */
export async function findTask(player: string, id: string): Promise<TaskRecord | undefined> {
  if (!/^[A-Za-z0-9._:-]{1,256}$/.test(id)) return undefined;
  const client = await table('Tasks');
  try {
    const row = await client.getEntity<Row>(player, id);
    return { player, id, kind: row.kind, callback: row.callback, command: row.command, createdAt: row.createdAt, fireAt: row.fireAt };
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw storageError(err, `read task ${id}`);
  }
}

/**
 * A player's task records, newest first, at most `limit`.
 *
 * @example
 * const recent = await listTasks('alice', 50);
 */
export async function listTasks(player: string, limit = 50): Promise<TaskRecord[]> {
  const client = await table('Tasks');
  const out: TaskRecord[] = [];
  try {
    for await (const row of client.listEntities<Row>({ queryOptions: { filter: odata`PartitionKey eq ${player}` } })) {
      out.push({ player, id: row.rowKey ?? '', kind: row.kind, callback: row.callback, command: row.command, createdAt: row.createdAt, fireAt: row.fireAt });
    }
  } catch (err) {
    throw storageError(err, `list tasks of ${player}`);
  }
  return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
}

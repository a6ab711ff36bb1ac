// Instance ids as the Durable extension accepts them.
import { HostError } from '../errors';

const MAX_INSTANCE_ID = 256;

/**
 * Throws HostError('InvalidInstanceId') unless `id` is a legal Durable instance id.
 * @example validateInstanceId('order-42'); // ok
 */
export function validateInstanceId(id: string): void {
  if (id.length === 0) throw new HostError('InvalidInstanceId', 'Instance id must not be empty.');
  if (id.length > MAX_INSTANCE_ID) throw new HostError('InvalidInstanceId', `Instance id is ${id.length} characters long; the limit is ${MAX_INSTANCE_ID}.`);
  if (id.startsWith('@')) throw new HostError('InvalidInstanceId', `Instance id '${id}' starts with '@', which is reserved for entities.`);
  const bad = /[/\\?#\u0000-\u001f\u007f-\u009f]/.exec(id);
  if (bad) {
    const shown = bad[0].charCodeAt(0) < 0x20 || bad[0].charCodeAt(0) >= 0x7f ? `control character U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}` : `'${bad[0]}'`;
    const escaped = id.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    throw new HostError('InvalidInstanceId', `Instance id '${escaped}' contains ${shown}; instance ids may not contain '/', '\\', '?', '#' or control characters.`);
  }
}

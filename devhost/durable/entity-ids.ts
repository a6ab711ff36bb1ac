// Entity instance ids as the Durable extension forms them: "@<name lower-case>@<key>" (EntityId.GetSchedulerIdFromEntityId;
// the name is lower-cased, the key keeps its case, and an '@' in the key is fine: the id splits at the second '@').

export interface EntityRef {
  name: string;
  key: string;
}

/** True for entity instance ids (orchestration ids may not start with '@'). */
export function isEntityId(instanceId: string): boolean {
  return instanceId.startsWith('@');
}

/**
 * The scheduler id of an entity.
 * @example entityInstanceId('Counter', 'k1') // "@counter@k1"
 */
export function entityInstanceId(name: string, key: string): string {
  return `@${name.toLowerCase()}@${key}`;
}

/**
 * Name and key of an entity instance id, or undefined when it is not one.
 * @example parseEntityId('@counter@a@b') // { name: 'counter', key: 'a@b' }
 */
export function parseEntityId(instanceId: string): EntityRef | undefined {
  if (!isEntityId(instanceId)) return undefined;
  const at = instanceId.indexOf('@', 1);
  if (at < 1) return undefined;
  return { name: instanceId.slice(1, at), key: instanceId.slice(at + 1) };
}

/** Why a key cannot be signalled by a client, or undefined (DurableClient.ValidateEntityKey: no / \ ? # or control characters). */
export function badEntityKey(key: string): string | undefined {
  const bad = /[/\\?#\u0000-\u001f\u007f-\u009f]/.exec(key);
  if (!bad) return undefined;
  const c = bad[0].charCodeAt(0);
  const shown = c < 0x20 || c >= 0x7f ? `control character U+${c.toString(16).padStart(4, '0').toUpperCase()}` : `'${bad[0]}'`;
  return `Entity key '${key.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}' contains ${shown}; entity keys may not contain '/', '\\', '?', '#' or control characters.`;
}

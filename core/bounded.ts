// Small in-process caches that must not grow without bound: the oldest entry goes when one more is added.

/**
 * Sets `key` to `value` in `map` as its newest entry, dropping the oldest entries beyond `max`.
 *
 * @example
 * remember(verified, token, { sub, exp }, 10_000);
 */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max: number): V {
  map.delete(key); // re-inserting makes it the newest
  map.set(key, value);
  while (map.size > max) map.delete(map.keys().next().value as K);
  return value;
}

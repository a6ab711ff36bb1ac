// Async work run one at a time per key within this process. A shortcut only: the rows it guards are still written
// with ETags (other instances race too); it spares a burst of requests for one key a storm of conflicting writes.

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `work` after every earlier `serially` call with the same key has settled; returns its result.
 *
 * @example
 * const row = await serially(`account:${player}`, () => countAttempt(player));
 */
export function serially<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tails.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(key, tail);
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

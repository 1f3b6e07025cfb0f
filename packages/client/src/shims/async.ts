/**
 * `async` for ShareDB's client, bundled in place of the whole library (22 KB minified; see
 * ../sharedb.ts): the two functions its presence code calls, with async's semantics for them. The
 * callback runs once: with the first error, or after every task finished.
 */
type Done<T> = (error?: unknown, result?: T) => void;

function once<T>(callback: Done<T>): Done<T> {
  let called = false;
  return (error, result) => {
    if (called) return;
    called = true;
    callback(error, result);
  };
}

/** Run `iteratee` on every item at once; `callback(error)` after all, or at the first error. */
export function each<T>(
  items: readonly T[],
  iteratee: (item: T, next: Done<void>) => void,
  callback: Done<void>,
): void {
  const done = once(callback);
  let left = items.length;
  if (left === 0) {
    done(null);
    return;
  }
  for (const item of items) {
    iteratee(item, (error) => {
      if (error) done(error);
      else if (--left === 0) done(null);
    });
  }
}

/** Run every task at once; `callback(error, results)` with the results in task order. */
export function parallel<T>(tasks: readonly ((next: Done<T>) => void)[], callback: Done<T[]>): void {
  const results: T[] = new Array(tasks.length);
  each(
    tasks.map((task, index) => ({ task, index })),
    ({ task, index }, next) =>
      task((error, result) => {
        results[index] = result as T;
        next(error);
      }),
    (error) => callback(error, error ? undefined : results),
  );
}

export default { each, parallel };

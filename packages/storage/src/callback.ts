import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * ShareDB's DB and MilestoneDB interfaces are callback-based; the adapters' internals are plain
 * synchronous or promise functions. These helpers are the one boundary between the two styles.
 */
// `error` is optional (not `Error | null`) to match @types/sharedb's callback types; ShareDB only tests it
// for truthiness.
export type NodeCallback<T> = (error?: Error, result?: T, extra?: unknown) => void;

/** Store failures become STORAGE_UNAVAILABLE; a TandemError raised on purpose passes through. */
export function toStorageError(error: unknown): TandemError {
  return TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE);
}

/**
 * Run a synchronous store call and answer on the next tick: ShareDB (like any callback API) must
 * never be called back synchronously, or its request state machines re-enter themselves.
 */
export function respond<T>(callback: NodeCallback<T> | undefined, work: () => T): void {
  let result: T;
  try {
    result = work();
  } catch (error) {
    if (callback) process.nextTick(callback, toStorageError(error));
    return;
  }
  if (callback) process.nextTick(callback, undefined, result);
}

/**
 * Like `respond`, for work with no result: the callback gets the error argument only, because
 * callers such as async.waterfall pass every extra argument on to the next step.
 */
export function respondDone(
  callback: ((error?: Error) => void) | undefined,
  work: () => void | Promise<void>,
): void {
  let pending: void | Promise<void>;
  try {
    pending = work();
  } catch (error) {
    if (callback) process.nextTick(callback, toStorageError(error));
    return;
  }
  if (!callback) return;
  if (pending)
    pending.then(
      () => callback(),
      (error: unknown) => callback(toStorageError(error)),
    );
  else process.nextTick(callback);
}

/**
 * Like `respond`, for asynchronous work: the callback runs on its own tick, outside the promise
 * chain, so a callback that throws is an uncaught exception as with any callback API (not a
 * rejection nobody handles).
 */
export function respondAsync<T>(callback: NodeCallback<T> | undefined, work: () => Promise<T>): void {
  Promise.resolve()
    .then(work)
    .then(
      (result) => callback && process.nextTick(callback, undefined, result),
      (error: unknown) => callback && process.nextTick(callback, toStorageError(error)),
    );
}

/** Like `respond`, for a call whose answer is a result plus ShareDB's query `extra`. */
export function respondWithExtra<T>(
  callback: NodeCallback<T> | undefined,
  work: () => { result: T; extra?: unknown },
): void {
  let answer: { result: T; extra?: unknown };
  try {
    answer = work();
  } catch (error) {
    if (callback) process.nextTick(callback, toStorageError(error));
    return;
  }
  if (callback) process.nextTick(callback, undefined, answer.result, answer.extra);
}

/** Call a callback-style close and resolve when it has finished. */
export function closeAsync(target: { close(callback?: (error?: Error) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => {
    target.close((error) => (error ? reject(toStorageError(error)) : resolve()));
  });
}

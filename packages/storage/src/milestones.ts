/** What the milestone adapters (SQLite, PostgreSQL) share: the default interval and argument checks. */
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import { type NodeCallback, respondDone, toStorageError } from './callback';

/**
 * Save a milestone every this many versions. The same default as sharedb-milestone-mongo, so all
 * stores behave alike; lower it when time travel must be fast on long histories.
 */
export const DEFAULT_MILESTONE_INTERVAL = 1000;

/** ShareDB's milestone suite expects these messages for missing arguments. */
export function invalidArgument(message: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, message);
}

/** ShareDB accepts `null` ("latest"/"earliest") or a non-negative integer. */
export function isVersionOrNull(value: unknown): value is number | null {
  return value === null || (Number.isInteger(value) && (value as number) >= 0);
}

/**
 * ShareDB's `saveMilestoneSnapshot`: with a callback, answer it; without one, ShareDB expects a
 * `save` (or `error`) event from the adapter instead. `save` writes the milestone.
 */
export function saveMilestone(
  db: ShareDB.MilestoneDB,
  collection: string,
  snapshot: ShareDB.Snapshot,
  callback: NodeCallback<void> | undefined,
  save: () => void | Promise<void>,
): void {
  if (callback) {
    respondDone(callback, save);
    return;
  }
  Promise.resolve()
    .then(save)
    .then(
      () => process.nextTick(() => db.emit('save', collection, snapshot)),
      // @types/sharedb types this event with ShareDB's own error class (numeric code); ours is TandemError.
      (error: unknown) => process.nextTick(() => db.emit('error', toStorageError(error) as never)),
    );
}

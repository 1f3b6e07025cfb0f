/**
 * What the milestone adapters (SQLite, PostgreSQL) share: the default interval, argument checks,
 * and `SqlMilestoneDB`, ShareDB's milestone interface answered from one row lookup and one save.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import ShareDB from 'sharedb';
import { type NodeCallback, respondAsync, respondDone, toStorageError } from './callback';
import type { StoredSnapshot } from './types';

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

/** The four row lookups a milestone table answers; each compares one column with a bound. */
export type MilestoneLookup =
  /** The latest at or before a version. */
  | 'atOrBeforeVersion'
  /** The earliest at or after a version (with 0: the first milestone). */
  | 'first'
  /** The latest saved at or before a time. */
  | 'atOrBeforeTime'
  /** The earliest saved at or after a time. */
  | 'atOrAfterTime';

/** A milestone as stored: collection, id, version, save time, type, data and metadata as JSON text. */
export type MilestoneValues = [
  string,
  string,
  number,
  number | null,
  string | null,
  string | null,
  string | null,
];

/**
 * ShareDB's milestone interface over a SQL table: the adapter supplies one row lookup and one
 * save (synchronous or not); the mapping of ShareDB's calls onto them lives here once.
 */
export abstract class SqlMilestoneDB extends ShareDB.MilestoneDB {
  interval: number;

  constructor(interval: number | undefined) {
    super();
    this.interval = interval ?? DEFAULT_MILESTONE_INTERVAL;
  }

  /** The row `lookup` finds for `bound`, or undefined. */
  protected abstract find(
    collection: string,
    id: string,
    lookup: MilestoneLookup,
    bound: number,
  ): StoredSnapshot | undefined | Promise<StoredSnapshot | undefined>;

  protected abstract save(values: MilestoneValues): void | Promise<void>;

  override saveMilestoneSnapshot(
    collection: string,
    snapshot: ShareDB.Snapshot,
    callback?: NodeCallback<void>,
  ): void {
    saveMilestone(this, collection, snapshot, callback, () => {
      if (!collection) throw invalidArgument('Missing collection');
      if (!snapshot) throw invalidArgument('Missing snapshot');
      const mtime = (snapshot.m as { mtime?: unknown } | null)?.mtime;
      return this.save([
        collection,
        snapshot.id,
        snapshot.v,
        typeof mtime === 'number' ? mtime : null,
        snapshot.type ?? null,
        snapshot.data === undefined ? null : JSON.stringify(snapshot.data),
        snapshot.m == null ? null : JSON.stringify(snapshot.m),
      ]);
    });
  }

  /** The latest milestone at or before `version` (null: the latest of all). */
  override getMilestoneSnapshot(
    collection: string,
    id: string,
    version: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    this.answer(callback, version, 'version', () =>
      this.find(collection, id, 'atOrBeforeVersion', version ?? Number.MAX_SAFE_INTEGER),
    );
  }

  /** The latest milestone saved at or before `timestamp` (null: the earliest milestone). */
  override getMilestoneSnapshotAtOrBeforeTime(
    collection: string,
    id: string,
    timestamp: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    this.answer(callback, timestamp, 'timestamp', () =>
      timestamp === null
        ? this.find(collection, id, 'first', 0)
        : this.find(collection, id, 'atOrBeforeTime', timestamp),
    );
  }

  /** The earliest milestone saved at or after `timestamp` (null: the latest milestone). */
  override getMilestoneSnapshotAtOrAfterTime(
    collection: string,
    id: string,
    timestamp: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    this.answer(callback, timestamp, 'timestamp', () =>
      timestamp === null
        ? this.find(collection, id, 'atOrBeforeVersion', Number.MAX_SAFE_INTEGER)
        : this.find(collection, id, 'atOrAfterTime', timestamp),
    );
  }

  /** ShareDB's argument check on the version or time asked for, then the lookup, to `callback`. */
  private answer(
    callback: NodeCallback<StoredSnapshot | undefined> | undefined,
    bound: unknown,
    what: 'version' | 'timestamp',
    lookup: () => StoredSnapshot | undefined | Promise<StoredSnapshot | undefined>,
  ): void {
    respondAsync(callback, async () => {
      if (!isVersionOrNull(bound)) throw invalidArgument(`Invalid ${what}`);
      return lookup();
    });
  }
}

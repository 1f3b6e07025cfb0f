import type BetterSqlite3 from 'better-sqlite3';
import ShareDB from 'sharedb';
import { type NodeCallback, respond, respondDone } from '../callback';
import { DEFAULT_MILESTONE_INTERVAL, invalidArgument, isVersionOrNull, saveMilestone } from '../milestones';
import type { StoredSnapshot } from '../types';
import { SqliteConnection, type SqliteOptions } from './connection';

export interface SqliteMilestoneDBOptions extends SqliteOptions {
  /** Share an open connection (e.g. with a SqliteDB) instead of opening `path`. */
  connection?: SqliteConnection;
  /** @default 1000 (DEFAULT_MILESTONE_INTERVAL) */
  interval?: number;
}

interface MilestoneRow {
  doc_id: string;
  v: number;
  type: string | null;
  data: string | null;
  m: string | null;
}

function toSnapshot(row: MilestoneRow | undefined): StoredSnapshot | undefined {
  if (!row) return undefined;
  return {
    id: row.doc_id,
    v: row.v,
    type: row.type,
    data: row.data === null ? undefined : JSON.parse(row.data),
    m: row.m === null ? null : JSON.parse(row.m),
  };
}

/** ShareDB milestone-snapshot adapter over SQLite: snapshots every `interval` versions, for time travel. */
export class SqliteMilestoneDB extends ShareDB.MilestoneDB {
  readonly connection: SqliteConnection;
  interval: number;
  private readonly sql: ReturnType<typeof prepare>;
  private closed = false;

  constructor(options: SqliteMilestoneDBOptions = {}) {
    super();
    this.interval = options.interval ?? DEFAULT_MILESTONE_INTERVAL;
    this.connection = options.connection ? options.connection.retain() : new SqliteConnection(options);
    this.sql = prepare(this.connection.db);
  }

  override close(callback?: (error?: Error) => void): void {
    respondDone(callback, () => {
      if (this.closed) return;
      this.closed = true;
      return this.connection.release();
    });
  }

  saveMilestoneSnapshotSync(collection: string, snapshot: ShareDB.Snapshot): void {
    if (!collection) throw invalidArgument('Missing collection');
    if (!snapshot) throw invalidArgument('Missing snapshot');
    const mtime = (snapshot.m as { mtime?: unknown } | null)?.mtime;
    this.sql.save.run(
      collection,
      snapshot.id,
      snapshot.v,
      typeof mtime === 'number' ? mtime : null,
      snapshot.type ?? null,
      snapshot.data === undefined ? null : JSON.stringify(snapshot.data),
      snapshot.m == null ? null : JSON.stringify(snapshot.m),
    );
  }

  override saveMilestoneSnapshot(
    collection: string,
    snapshot: ShareDB.Snapshot,
    callback?: NodeCallback<void>,
  ): void {
    saveMilestone(this, collection, snapshot, callback, () =>
      this.saveMilestoneSnapshotSync(collection, snapshot),
    );
  }

  private find(
    collection: string,
    id: string,
    statement: BetterSqlite3.Statement,
    bound: number,
  ): StoredSnapshot | undefined {
    if (!collection) throw invalidArgument('Missing collection');
    if (!id) throw invalidArgument('Missing ID');
    return toSnapshot(statement.get(collection, id, bound) as MilestoneRow | undefined);
  }

  /** The latest milestone at or before `version` (null: the latest of all). */
  getMilestoneSnapshotSync(
    collection: string,
    id: string,
    version: number | null,
  ): StoredSnapshot | undefined {
    if (!isVersionOrNull(version)) throw invalidArgument('Invalid version');
    return this.find(collection, id, this.sql.atOrBeforeVersion, version ?? Number.MAX_SAFE_INTEGER);
  }

  override getMilestoneSnapshot(
    collection: string,
    id: string,
    version: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    respond(callback, () => this.getMilestoneSnapshotSync(collection, id, version));
  }

  /** The latest milestone saved at or before `timestamp` (null: the earliest milestone). */
  getMilestoneSnapshotAtOrBeforeTimeSync(collection: string, id: string, timestamp: number | null) {
    if (!isVersionOrNull(timestamp)) throw invalidArgument('Invalid timestamp');
    if (timestamp === null) return this.find(collection, id, this.sql.first, 0);
    return this.find(collection, id, this.sql.atOrBeforeTime, timestamp);
  }

  override getMilestoneSnapshotAtOrBeforeTime(
    collection: string,
    id: string,
    timestamp: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    respond(callback, () => this.getMilestoneSnapshotAtOrBeforeTimeSync(collection, id, timestamp));
  }

  /** The earliest milestone saved at or after `timestamp` (null: the latest milestone). */
  getMilestoneSnapshotAtOrAfterTimeSync(collection: string, id: string, timestamp: number | null) {
    if (!isVersionOrNull(timestamp)) throw invalidArgument('Invalid timestamp');
    if (timestamp === null)
      return this.find(collection, id, this.sql.atOrBeforeVersion, Number.MAX_SAFE_INTEGER);
    return this.find(collection, id, this.sql.atOrAfterTime, timestamp);
  }

  override getMilestoneSnapshotAtOrAfterTime(
    collection: string,
    id: string,
    timestamp: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    respond(callback, () => this.getMilestoneSnapshotAtOrAfterTimeSync(collection, id, timestamp));
  }
}

function prepare(db: BetterSqlite3.Database) {
  const select = 'SELECT doc_id, v, type, data, m FROM milestones WHERE collection = ? AND doc_id = ?';
  return {
    save: db.prepare(
      'INSERT OR REPLACE INTO milestones (collection, doc_id, v, mtime, type, data, m) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    atOrBeforeVersion: db.prepare(`${select} AND v <= ? ORDER BY v DESC LIMIT 1`),
    first: db.prepare(`${select} AND v >= ? ORDER BY v ASC LIMIT 1`),
    atOrBeforeTime: db.prepare(`${select} AND mtime <= ? ORDER BY v DESC LIMIT 1`),
    atOrAfterTime: db.prepare(`${select} AND mtime >= ? ORDER BY v ASC LIMIT 1`),
  };
}

import ShareDB from 'sharedb';
import { type NodeCallback, respondAsync, respondDone } from '../callback';
import { DEFAULT_MILESTONE_INTERVAL, invalidArgument, isVersionOrNull, saveMilestone } from '../milestones';
import type { StoredSnapshot } from '../types';
import type { PostgresConnection } from './connection';
import { checkId } from './text';

export interface PostgresMilestoneDBOptions {
  /** An open connection (`PostgresConnection.open`), shared with a PostgresDB. */
  connection: PostgresConnection;
  /** @default 1000 (DEFAULT_MILESTONE_INTERVAL) */
  interval?: number;
}

interface MilestoneRow {
  doc_id: string;
  v: number;
  type: string | null;
  data: unknown;
  m: Record<string, unknown> | null;
}

function checkDoc(collection: string, id: string): void {
  if (!collection) throw invalidArgument('Missing collection');
  if (!id) throw invalidArgument('Missing ID');
  checkId(collection, 'collection');
  checkId(id, 'document id');
}

/** ShareDB milestone-snapshot adapter over PostgreSQL: snapshots every `interval` versions, for time travel. */
export class PostgresMilestoneDB extends ShareDB.MilestoneDB {
  readonly connection: PostgresConnection;
  interval: number;
  private readonly sql: ReturnType<typeof statements>;
  private closed = false;

  constructor(options: PostgresMilestoneDBOptions) {
    super();
    this.interval = options.interval ?? DEFAULT_MILESTONE_INTERVAL;
    this.connection = options.connection.retain();
    this.sql = statements(this.connection.schema);
  }

  override close(callback?: (error?: Error) => void): void {
    respondDone(callback, () => {
      if (this.closed) return;
      this.closed = true;
      return this.connection.release();
    });
  }

  async saveMilestoneSnapshotAsync(collection: string, snapshot: ShareDB.Snapshot): Promise<void> {
    if (!collection) throw invalidArgument('Missing collection');
    if (!snapshot) throw invalidArgument('Missing snapshot');
    checkDoc(collection, snapshot.id);
    const mtime = (snapshot.m as { mtime?: unknown } | null)?.mtime;
    await this.connection.query(this.sql.save, [
      collection,
      snapshot.id,
      snapshot.v,
      typeof mtime === 'number' ? mtime : null,
      snapshot.type ?? null,
      snapshot.data === undefined ? null : JSON.stringify(snapshot.data),
      snapshot.m == null ? null : JSON.stringify(snapshot.m),
    ]);
  }

  override saveMilestoneSnapshot(
    collection: string,
    snapshot: ShareDB.Snapshot,
    callback?: NodeCallback<void>,
  ): void {
    saveMilestone(this, collection, snapshot, callback, () =>
      this.saveMilestoneSnapshotAsync(collection, snapshot),
    );
  }

  private async find(
    collection: string,
    id: string,
    statement: string,
    bound: number,
  ): Promise<StoredSnapshot | undefined> {
    checkDoc(collection, id);
    const { rows } = await this.connection.query<MilestoneRow>(statement, [collection, id, bound]);
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.doc_id,
      v: row.v,
      type: row.type,
      data: row.type === null ? undefined : row.data,
      m: row.m,
    };
  }

  /** The latest milestone at or before `version` (null: the latest of all). */
  async getMilestoneSnapshotAsync(collection: string, id: string, version: number | null) {
    if (!isVersionOrNull(version)) throw invalidArgument('Invalid version');
    return this.find(collection, id, this.sql.atOrBeforeVersion, version ?? Number.MAX_SAFE_INTEGER);
  }

  override getMilestoneSnapshot(
    collection: string,
    id: string,
    version: number | null,
    callback?: NodeCallback<StoredSnapshot | undefined>,
  ): void {
    respondAsync(callback, () => this.getMilestoneSnapshotAsync(collection, id, version));
  }

  /** The latest milestone saved at or before `timestamp` (null: the earliest milestone). */
  async getMilestoneSnapshotAtOrBeforeTimeAsync(collection: string, id: string, timestamp: number | null) {
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
    respondAsync(callback, () => this.getMilestoneSnapshotAtOrBeforeTimeAsync(collection, id, timestamp));
  }

  /** The earliest milestone saved at or after `timestamp` (null: the latest milestone). */
  async getMilestoneSnapshotAtOrAfterTimeAsync(collection: string, id: string, timestamp: number | null) {
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
    respondAsync(callback, () => this.getMilestoneSnapshotAtOrAfterTimeAsync(collection, id, timestamp));
  }
}

function statements(schema: string) {
  const select = `SELECT doc_id, v, type, data, m FROM ${schema}.milestones WHERE collection = $1 AND doc_id = $2`;
  return {
    save: `INSERT INTO ${schema}.milestones (collection, doc_id, v, mtime, type, data, m)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (collection, doc_id, v) DO UPDATE
      SET mtime = excluded.mtime, type = excluded.type, data = excluded.data, m = excluded.m`,
    atOrBeforeVersion: `${select} AND v <= $3::bigint ORDER BY v DESC LIMIT 1`,
    first: `${select} AND v >= $3::bigint ORDER BY v ASC LIMIT 1`,
    atOrBeforeTime: `${select} AND mtime <= $3::float8 ORDER BY v DESC LIMIT 1`,
    atOrAfterTime: `${select} AND mtime >= $3::float8 ORDER BY v ASC LIMIT 1`,
  };
}

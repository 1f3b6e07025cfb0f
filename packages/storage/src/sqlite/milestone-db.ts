import type BetterSqlite3 from 'better-sqlite3';
import { respondDone } from '../callback';
import { invalidArgument, type MilestoneLookup, type MilestoneValues, SqlMilestoneDB } from '../milestones';
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

/** ShareDB milestone-snapshot adapter over SQLite: snapshots every `interval` versions, for time travel. */
export class SqliteMilestoneDB extends SqlMilestoneDB {
  readonly connection: SqliteConnection;
  private readonly sql: ReturnType<typeof prepare>;
  private closed = false;

  constructor(options: SqliteMilestoneDBOptions = {}) {
    super(options.interval);
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

  protected save(values: MilestoneValues): void {
    this.sql.save.run(...values);
  }

  protected find(collection: string, id: string, lookup: MilestoneLookup, bound: number) {
    if (!collection) throw invalidArgument('Missing collection');
    if (!id) throw invalidArgument('Missing ID');
    const row = this.sql[lookup].get(collection, id, bound) as MilestoneRow | undefined;
    if (!row) return undefined;
    const snapshot: StoredSnapshot = {
      id: row.doc_id,
      v: row.v,
      type: row.type,
      data: row.data === null ? undefined : JSON.parse(row.data),
      m: row.m === null ? null : JSON.parse(row.m),
    };
    return snapshot;
  }
}

function prepare(db: BetterSqlite3.Database): Record<MilestoneLookup | 'save', BetterSqlite3.Statement> {
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

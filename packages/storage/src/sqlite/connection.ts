import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCode, TandemError } from '@tandem/protocol';
import Database from 'better-sqlite3';
import { SharedConnection } from '../shared-connection';
import { BACKSTOP_CHECKPOINT_PAGES, type Checkpointer, startCheckpointer } from './checkpointer';

/**
 * How hard a commit is pushed to disk before ShareDB acknowledges the op. Both run in WAL mode:
 * - `normal`: the WAL is written (into the OS page cache) before commit returns and fsynced at
 *   checkpoints. An acknowledged op survives a crash or SIGKILL of the process; a power loss or
 *   kernel crash may lose the last few commits (never corrupts the file).
 * - `full`: the WAL is also fsynced on every commit: survives power loss, at one fsync per op.
 */
export type SqliteSynchronous = 'normal' | 'full';

export interface SqliteOptions {
  /**
   * Database file; its directory is created if missing. `:memory:` keeps everything in this
   * connection only (tests).
   * @default './data/tandem.db'
   */
  path?: string;
  /** @default 'normal' (survives a process crash; see `SqliteSynchronous`) */
  synchronous?: SqliteSynchronous;
  /**
   * How long a writer waits for another process holding the write lock before failing with
   * STORAGE_UNAVAILABLE. better-sqlite3 is synchronous, so this wait blocks the event loop: keep it
   * short enough to notice a stuck peer, long enough to ride out checkpoints.
   * @default 5000
   */
  busyTimeoutMs?: number;
}

export const DEFAULT_SQLITE_PATH = './data/tandem.db';
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ops (
  collection TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  v INTEGER NOT NULL,
  op TEXT NOT NULL,
  m TEXT,
  src TEXT,
  seq INTEGER,
  PRIMARY KEY (collection, doc_id, v)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
  collection TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  v INTEGER NOT NULL,
  type TEXT,
  data TEXT,
  m TEXT,
  PRIMARY KEY (collection, doc_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS milestones (
  collection TEXT NOT NULL,
  doc_id TEXT NOT NULL,
  v INTEGER NOT NULL,
  mtime INTEGER,
  type TEXT,
  data TEXT,
  m TEXT,
  PRIMARY KEY (collection, doc_id, v)
) WITHOUT ROWID;
`;

/**
 * One better-sqlite3 connection shared by a SqliteDB and a SqliteMilestoneDB (so `sqlite::memory:`
 * is one database, and one file has one connection per process). Reference-counted: the file is
 * closed when the last adapter using it closes.
 */
export class SqliteConnection extends SharedConnection {
  readonly db: Database.Database;
  readonly path: string;
  protected readonly store = 'SQLite';
  private readonly checkpointer: Checkpointer | undefined;

  constructor(options: SqliteOptions = {}) {
    super();
    this.path = options.path ?? DEFAULT_SQLITE_PATH;
    const synchronous = options.synchronous ?? 'normal';
    if (synchronous !== 'normal' && synchronous !== 'full') {
      throw new TandemError(
        ErrorCode.INVALID_CONFIG,
        `synchronous must be 'normal' or 'full', got ${String(synchronous)}`,
      );
    }
    try {
      if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
      this.db = new Database(this.path, { timeout: options.busyTimeoutMs ?? 5000 });
      // WAL: readers never block the writer, and several processes can share the file.
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
      this.db.exec(SCHEMA);
      if (this.path !== ':memory:') {
        this.checkpointer = startCheckpointer({
          path: this.path,
          synchronous: synchronous.toUpperCase(),
          busyTimeoutMs: options.busyTimeoutMs ?? 5000,
        });
        if (this.checkpointer) this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`);
        // After a checkpoint lets the WAL restart, truncate it to this size instead of keeping its peak.
        this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
      }
    } catch (error) {
      throw new TandemError(
        ErrorCode.STORAGE_UNAVAILABLE,
        `cannot open SQLite database ${this.path}`,
        undefined,
        {
          cause: error,
        },
      );
    }
  }

  /** Closes the database; resolves once the checkpointer has exited too. */
  protected end(): Promise<void> | undefined {
    this.db.close();
    return this.checkpointer?.stop();
  }
}

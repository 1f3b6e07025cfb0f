import type ShareDB from 'sharedb';

/** Snapshot as ShareDB's DB interface passes it around (`type: null` = never created or deleted). */
export interface StoredSnapshot {
  id: string;
  v: number;
  type: string | null;
  data: unknown;
  m: Record<string, unknown> | null;
}

/** A committed op as ShareDB hands it to `commit`: `{op}`, `{create}` or `{del}` plus bookkeeping. */
export interface StoredOp {
  v: number;
  src?: string;
  seq?: number;
  /** Metadata (author, session, ts, …): stored always, returned only when asked (`metadata: true`). */
  m?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Options ShareDB passes to reads: `metadata: true` asks for `m` on ops and snapshots. */
export interface ReadOptions {
  metadata?: boolean;
}

/** What `createStorage` returns: hand `db` and `milestoneDb` to `new ShareDB({ db, milestoneDb })`. */
export interface Storage {
  readonly kind: 'sqlite' | 'memory' | 'mongodb' | 'postgres';
  /** Where the data lives, credentials removed (for logs). */
  readonly location: string;
  readonly db: ShareDB.DB;
  readonly milestoneDb: ShareDB.MilestoneDB;
  /** Close both adapters. Safe to call more than once, and after `backend.close()`. */
  close(): Promise<void>;
}

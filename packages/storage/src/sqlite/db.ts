import type { TandemError } from '@tandem/protocol';
import type BetterSqlite3 from 'better-sqlite3';
import ShareDB from 'sharedb';
import { type NodeCallback, respond, respondDone, respondWithExtra, toStorageError } from '../callback';
import { OpCache } from '../op-cache';
import { isPerDocument } from '../query';
import { emptySnapshot, NO_END, wantsMetadata } from '../sql-common';
import type { ReadOptions, StoredOp, StoredSnapshot } from '../types';
import { SqliteConnection, type SqliteOptions } from './connection';
import { compileQuery } from './query';
import { noteLocalCommit, SnapshotCache, type SnapshotRow } from './snapshot-cache';

export interface SqliteDBOptions extends SqliteOptions {
  /** Share an open connection (e.g. with a SqliteMilestoneDB) instead of opening `path`. */
  connection?: SqliteConnection;
  /** ShareDB's minimum time between query re-polls, in ms. @default undefined (ShareDB's default) */
  pollDebounce?: number;
}

interface PendingCommit {
  collection: string;
  op: StoredOp;
  row: SnapshotRow;
  callback: NodeCallback<boolean>;
}

interface OpRow {
  doc_id: string;
  v: number;
  op: string;
  m: string | null;
}

/** Compiled query statements kept per connection; queries are few shapes with varying values. */
const QUERY_CACHE_LIMIT = 200;

function toSnapshot(row: SnapshotRow, withMetadata: boolean): StoredSnapshot {
  return {
    id: row.doc_id,
    v: row.v,
    type: row.type,
    data: row.type === null || row.data === null ? undefined : JSON.parse(row.data),
    m: withMetadata && row.m !== null ? JSON.parse(row.m) : null,
  };
}

/** The row a commit writes for `snapshot` (also what the snapshot cache keeps). */
function toRow(id: string, snapshot: StoredSnapshot): SnapshotRow {
  const live = snapshot.type != null;
  return {
    doc_id: id,
    v: snapshot.v,
    type: live ? snapshot.type : null,
    data: live ? JSON.stringify(snapshot.data ?? null) : null,
    m: snapshot.m == null ? null : JSON.stringify(snapshot.m),
  };
}

/** SQLITE_BUSY and its extended codes: another connection held the write lock past busyTimeoutMs. */
function isBusy(error: unknown): boolean {
  return String((error as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_BUSY');
}

/** Snapshot caches by connection: adapters sharing a connection must share its cache. */
const caches = new WeakMap<SqliteConnection, SnapshotCache>();

function cacheFor(connection: SqliteConnection): SnapshotCache {
  let cache = caches.get(connection);
  if (!cache) {
    const dataVersion = connection.db.prepare('PRAGMA data_version').pluck();
    cache = new SnapshotCache(() => dataVersion.get() as number);
    caches.set(connection, cache);
  }
  return cache;
}

function toOp(row: OpRow, withMetadata: boolean): StoredOp {
  const op = JSON.parse(row.op) as StoredOp;
  op.v = row.v;
  if (withMetadata && row.m !== null) op.m = JSON.parse(row.m);
  return op;
}

/**
 * ShareDB DB adapter over SQLite (better-sqlite3). One row per op (`ops`) and one current snapshot
 * per document (`snapshots`); a commit writes both in one IMMEDIATE transaction, so several
 * processes can commit to one file: the loser of a version race gets `false` and ShareDB
 * transforms and retries, exactly as with MongoDB.
 */
export class SqliteDB extends ShareDB.DB {
  readonly connection: SqliteConnection;
  pollDebounce: number | undefined;
  private readonly sql: ReturnType<typeof prepare>;
  private readonly cache: SnapshotCache;
  /** Recent ops of busy documents (committed ops never change). */
  private readonly ops = new OpCache();
  private readonly queries = new Map<string, BetterSqlite3.Statement>();
  private pending: PendingCommit[] = [];
  private closed = false;

  constructor(options: SqliteDBOptions = {}) {
    super();
    this.pollDebounce = options.pollDebounce;
    this.connection = options.connection ? options.connection.retain() : new SqliteConnection(options);
    this.sql = prepare(this.connection.db);
    this.cache = cacheFor(this.connection);
  }

  override close(callback?: (error?: Error) => void): void {
    respondDone(callback, () => {
      if (this.closed) return;
      // Commits already requested are written (and answered) before the connection goes away.
      this.flushCommits();
      this.closed = true;
      this.queries.clear();
      return this.connection.release();
    });
  }

  /** Write op + snapshot if `snapshot.v` is the next version; `false` if another writer got there first. */
  commitSync(collection: string, id: string, op: StoredOp, snapshot: StoredSnapshot): boolean {
    const row = toRow(id, snapshot);
    let committed: boolean;
    try {
      committed = this.sql.commit.immediate(collection, op, row);
    } catch (error) {
      this.cache.forget(collection, id);
      throw error;
    }
    noteLocalCommit();
    this.remember(collection, row, committed);
    return committed;
  }

  /** After a commit is durable (or lost its race): keep its snapshot, or forget the stale one. */
  private remember(collection: string, row: SnapshotRow, committed: boolean | TandemError): void {
    if (committed === true) this.cache.set(collection, row);
    else this.cache.forget(collection, row.doc_id);
  }

  /**
   * Commits are grouped: every commit requested before the next tick is written in one
   * IMMEDIATE transaction (each with its own optimistic version check and result; one that fails
   * is retried alone, so it fails alone), then all are acknowledged. One WAL append (and, with `synchronous: 'full'`, one fsync)
   * serves many documents; a lone commit waits only for `process.nextTick`.
   */
  override commit(
    collection: string,
    id: string,
    op: StoredOp,
    snapshot: StoredSnapshot,
    _options: unknown,
    callback: NodeCallback<boolean>,
  ): void {
    let row: SnapshotRow;
    try {
      row = toRow(id, snapshot);
    } catch (error) {
      process.nextTick(callback, toStorageError(error));
      return;
    }
    this.pending.push({ collection, op, row, callback });
    // nextTick, not setImmediate: ShareDB's own tests (and apps) fake timers, and a faked
    // setImmediate would never write the commit.
    if (this.pending.length === 1) process.nextTick(() => this.flushCommits());
  }

  private flushCommits(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: (boolean | TandemError)[];
    try {
      results =
        batch.length === 1
          ? [this.sql.commit.immediate(batch[0].collection, batch[0].op, batch[0].row)]
          : this.sql.commitBatch.immediate(batch);
    } catch (error) {
      // The whole group was rolled back. Rare: commit each alone, so only the failing ones fail —
      // unless the file's write lock could not be had (busy), which would only wait again for each.
      const failure = toStorageError(error);
      results =
        batch.length === 1 || isBusy(error)
          ? batch.map(() => failure)
          : batch.map(({ collection, op, row }) => {
              try {
                return this.sql.commit.immediate(collection, op, row);
              } catch (alone) {
                return toStorageError(alone);
              }
            });
    }
    noteLocalCommit();
    // Each answer on its own tick: a callback that throws cannot keep the others from being called.
    batch.forEach(({ collection, row, callback }, i) => {
      const result = results[i];
      this.remember(collection, row, result);
      if (typeof result === 'boolean') process.nextTick(callback, undefined, result);
      else process.nextTick(callback, result);
    });
  }
  getSnapshotSync(collection: string, id: string, withMetadata = false): StoredSnapshot {
    let row = this.cache.get(collection, id);
    if (!row) {
      row = this.sql.snapshot.get(collection, id) as SnapshotRow | undefined;
      if (row) this.cache.set(collection, row);
    }
    return row ? toSnapshot(row, withMetadata) : emptySnapshot(id);
  }

  override getSnapshot(
    collection: string,
    id: string,
    fields: unknown,
    options: ReadOptions | null,
    callback: NodeCallback<StoredSnapshot>,
  ): void {
    respond(callback, () => this.getSnapshotSync(collection, id, wantsMetadata(fields, options)));
  }

  getSnapshotBulkSync(
    collection: string,
    ids: string[],
    withMetadata = false,
  ): Record<string, StoredSnapshot> {
    const rows = this.sql.snapshotBulk.all(JSON.stringify(ids), collection) as SnapshotRow[];
    const result: Record<string, StoredSnapshot> = Object.create(null);
    for (const id of ids) result[id] = emptySnapshot(id);
    for (const row of rows) result[row.doc_id] = toSnapshot(row, withMetadata);
    return result;
  }

  override getSnapshotBulk(
    collection: string,
    ids: string[],
    fields: unknown,
    options: ReadOptions | null,
    callback: NodeCallback<Record<string, StoredSnapshot>>,
  ): void {
    respond(callback, () => this.getSnapshotBulkSync(collection, ids, wantsMetadata(fields, options)));
  }

  /** Ops with `from <= v < to` (`to` null: all after `from`), in version order. */
  getOpsSync(
    collection: string,
    id: string,
    from: number | null,
    to: number | null,
    withMetadata = false,
  ): StoredOp[] {
    const rows = this.sql.ops.all(collection, id, from ?? 0, to ?? NO_END) as OpRow[];
    return rows.map((row) => toOp(row, withMetadata));
  }

  /**
   * The ops a submit missed (`from <= v < to`), from the op cache when it holds them. Only this path
   * (ShareDB's `getOpsToSnapshot`, run by every submit that is behind) is cached: `getOps` — history,
   * `verify`, subscription catch-up — always reads the file.
   */
  private missedOpsSync(
    collection: string,
    id: string,
    from: number | null,
    to: number,
    withMetadata: boolean,
  ) {
    const key = OpCache.key(collection, id);
    const start = from ?? 0;
    // Read only what the cache lacks: the ops committed since this document's last read.
    const have = this.ops.cachedUntil(key, start);
    if (have < to) {
      const rows = this.sql.ops.all(collection, id, have, to) as OpRow[];
      this.ops.fill(key, have, rows, (row) => ({
        op: JSON.parse(row.op) as StoredOp,
        m: row.m === null ? null : JSON.parse(row.m),
      }));
    }
    return (
      this.ops.get(key, start, to, withMetadata) ?? this.getOpsSync(collection, id, start, to, withMetadata)
    );
  }

  /**
   * Compaction capability used by @tandem/history (`compact`): delete the ops of one document below
   * `before`, in one statement. ShareDB's DB interface has no such call, so it is an extra method.
   * Returns how many ops were deleted.
   */
  async deleteOpsBefore(collection: string, id: string, before: number): Promise<number> {
    this.ops.forget(OpCache.key(collection, id));
    return this.sql.deleteOpsBefore.run(collection, id, before).changes;
  }

  override getOps(
    collection: string,
    id: string,
    from: number | null,
    to: number | null,
    options: ReadOptions | null,
    callback: NodeCallback<StoredOp[]>,
  ): void {
    respond(callback, () => this.getOpsSync(collection, id, from, to, Boolean(options?.metadata)));
  }

  getOpsBulkSync(
    collection: string,
    fromMap: Record<string, number | null>,
    toMap: Record<string, number | null> | null,
    withMetadata = false,
  ): Record<string, StoredOp[]> {
    const ranges = Object.keys(fromMap).map((id) => ({
      id,
      from: fromMap[id] ?? 0,
      to: toMap?.[id] ?? NO_END,
    }));
    const result: Record<string, StoredOp[]> = Object.create(null);
    for (const { id } of ranges) result[id] = [];
    const rows = this.sql.opsBulk.all(JSON.stringify(ranges), collection) as OpRow[];
    for (const row of rows) result[row.doc_id].push(toOp(row, withMetadata));
    return result;
  }

  override getOpsBulk(
    collection: string,
    fromMap: Record<string, number | null>,
    toMap: Record<string, number | null> | null,
    options: ReadOptions | null,
    callback: NodeCallback<Record<string, StoredOp[]>>,
  ): void {
    respond(callback, () => this.getOpsBulkSync(collection, fromMap, toMap, Boolean(options?.metadata)));
  }

  override getOpsToSnapshot(
    collection: string,
    id: string,
    from: number | null,
    snapshot: StoredSnapshot | number,
    options: ReadOptions | null,
    callback: NodeCallback<StoredOp[]>,
  ): void {
    const to = typeof snapshot === 'number' ? snapshot : snapshot.v;
    respond(callback, () => this.missedOpsSync(collection, id, from, to, Boolean(options?.metadata)));
  }

  /**
   * The version at which an op (identified by `src` + `seq`) was committed, or undefined. ShareDB
   * asks when a client resubmits after a lost acknowledgement. Only ops at or after the op's
   * submitted version can be it, which bounds the scan.
   */
  override getCommittedOpVersion(
    collection: string,
    id: string,
    snapshot: StoredSnapshot,
    op: StoredOp,
    _options: unknown,
    callback: NodeCallback<number | undefined>,
  ): void {
    respond(callback, () => {
      if (op.src === undefined || op.seq === undefined) return undefined;
      const row = this.sql.committedVersion.get(collection, id, op.src, op.seq, op.v ?? 0, snapshot.v) as
        | { v: number }
        | undefined;
      return row?.v;
    });
  }

  private statementFor(sql: string): BetterSqlite3.Statement {
    let statement = this.queries.get(sql);
    if (!statement) {
      if (this.queries.size >= QUERY_CACHE_LIMIT) this.queries.clear();
      statement = this.connection.db.prepare(sql);
      this.queries.set(sql, statement);
    }
    return statement;
  }

  /** Run a Mongo-style query (see `SqlQuery`): matching snapshots, or `{ extra: count }` for `$count`. */
  querySync(
    collection: string,
    query: unknown,
    withMetadata = false,
  ): { result: StoredSnapshot[]; extra?: unknown } {
    const q = compileQuery(query);
    const from = `FROM snapshots WHERE collection = ? AND type IS NOT NULL AND ${q.where}`;
    if (q.count) {
      const row = this.statementFor(`SELECT count(*) AS n ${from}`).get(collection, ...q.params) as {
        n: number;
      };
      return { result: [], extra: row.n };
    }
    // The document id breaks ties: the same query paged by $skip/$limit sees each match once.
    const order = q.orderBy ? `ORDER BY ${q.orderBy}, doc_id` : 'ORDER BY doc_id';
    const rows = this.statementFor(`SELECT doc_id, v, type, data, m ${from} ${order} LIMIT ? OFFSET ?`).all(
      collection,
      ...q.params,
      q.limit,
      q.offset,
    ) as SnapshotRow[];
    return { result: rows.map((row) => toSnapshot(row, withMetadata)) };
  }

  // `query` is a property (not a method) in @types/sharedb, so it is defined as one here.
  override query = (
    collection: string,
    query: unknown,
    _fields: unknown,
    options: ReadOptions | null,
    callback: ShareDB.DBQueryCallback,
  ): void => {
    respondWithExtra(callback as unknown as NodeCallback<StoredSnapshot[]>, () =>
      this.querySync(collection, query, Boolean(options?.metadata)),
    );
  };

  /** Whether one document matches a per-document query (no sort/skip/limit/count). */
  queryPollDocSync(collection: string, id: string, query: unknown): boolean {
    const q = compileQuery(query);
    const sql = `SELECT 1 FROM snapshots WHERE collection = ? AND doc_id = ? AND type IS NOT NULL AND ${q.where}`;
    return this.statementFor(sql).get(collection, id, ...q.params) !== undefined;
  }

  override queryPollDoc(
    collection: string,
    id: string,
    query: unknown,
    _options: unknown,
    callback: NodeCallback<boolean>,
  ): void {
    respond(callback, () => this.queryPollDocSync(collection, id, query));
  }

  /** Lets ShareDB re-check only the changed document on each op instead of re-running the query. */
  override canPollDoc(_collection?: string, query?: unknown): boolean {
    return isPerDocument(query);
  }
}

function prepare(db: BetterSqlite3.Database) {
  const insertOp = db.prepare(
    'INSERT INTO ops (collection, doc_id, v, op, m, src, seq) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  // The optimistic version check is the write itself: the first version inserts a row only if
  // there is none, later ones update the row only if it is still at the previous version.
  const insertSnapshot = db.prepare(
    `INSERT INTO snapshots (collection, doc_id, v, type, data, m) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (collection, doc_id) DO NOTHING`,
  );
  const updateSnapshot = db.prepare(
    'UPDATE snapshots SET v = ?, type = ?, data = ?, m = ? WHERE collection = ? AND doc_id = ? AND v = ?',
  );
  const commitRows = (collection: string, op: StoredOp, row: SnapshotRow): boolean => {
    const base = row.v - 1;
    const written =
      base === 0
        ? insertSnapshot.run(collection, row.doc_id, row.v, row.type, row.data, row.m)
        : updateSnapshot.run(row.v, row.type, row.data, row.m, collection, row.doc_id, base);
    if (written.changes !== 1) return false;
    const { m, ...rest } = op;
    insertOp.run(
      collection,
      row.doc_id,
      base,
      JSON.stringify(rest),
      m === undefined ? null : JSON.stringify(m),
      typeof op.src === 'string' ? op.src : null,
      typeof op.seq === 'number' ? op.seq : null,
    );
    return true;
  };
  return {
    commit: db.transaction(commitRows),
    // No savepoint per commit (two statements fewer each): a commit that throws rolls the whole
    // group back, and `flushCommits` then commits each alone.
    commitBatch: db.transaction((batch: PendingCommit[]) =>
      batch.map(({ collection, op, row }) => commitRows(collection, op, row)),
    ),
    snapshot: db.prepare(
      'SELECT doc_id, v, type, data, m FROM snapshots WHERE collection = ? AND doc_id = ?',
    ),
    // json_each turns the id list into a table: one statement whatever the number of ids. CROSS JOIN
    // keeps it the outer loop (a primary-key lookup per id): left to itself the planner scanned the
    // whole collection and json_each once per row, 30× slower for 1,000 ids.
    snapshotBulk: db.prepare(
      `SELECT s.doc_id, s.v, s.type, s.data, s.m FROM json_each(?) AS r
       CROSS JOIN snapshots AS s ON s.collection = ? AND s.doc_id = r.value`,
    ),
    ops: db.prepare(
      'SELECT doc_id, v, op, m FROM ops WHERE collection = ? AND doc_id = ? AND v >= ? AND v < ? ORDER BY v',
    ),
    opsBulk: db.prepare(
      `SELECT o.doc_id, o.v, o.op, o.m FROM json_each(?) AS r
       CROSS JOIN ops AS o ON o.collection = ? AND o.doc_id = r.value ->> 'id'
         AND o.v >= r.value ->> 'from' AND o.v < r.value ->> 'to'
       ORDER BY o.doc_id, o.v`,
    ),
    deleteOpsBefore: db.prepare('DELETE FROM ops WHERE collection = ? AND doc_id = ? AND v < ?'),
    committedVersion: db.prepare(
      `SELECT v FROM ops WHERE collection = ? AND doc_id = ? AND src = ? AND seq = ? AND v >= ? AND v < ?
       ORDER BY v DESC LIMIT 1`,
    ),
  };
}

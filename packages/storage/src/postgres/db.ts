import ShareDB from 'sharedb';
import { type NodeCallback, respondAsync, respondDone, toStorageError } from '../callback';
import { OpCache } from '../op-cache';
import { isPerDocument } from '../query';
import { emptySnapshot, NO_END, wantsMetadata } from '../sql-common';
import type { ReadOptions, StoredOp, StoredSnapshot } from '../types';
import type { PostgresConnection } from './connection';
import { compileQuery } from './query';
import { checkId, queryCopy } from './text';

export interface PostgresDBOptions {
  /** An open connection (`PostgresConnection.open`), shared with a PostgresMilestoneDB. */
  connection: PostgresConnection;
  /** ShareDB's minimum time between query re-polls, in ms. @default undefined (ShareDB's default) */
  pollDebounce?: number;
}

/** node-postgres parses `json` columns: `data`, `op` and `m` arrive as values. */
interface SnapshotRow {
  doc_id: string;
  v: number;
  type: string | null;
  data: unknown;
  m: Record<string, unknown> | null;
}

interface OpRow {
  doc_id: string;
  v: number;
  op: StoredOp;
  m: Record<string, unknown> | null;
}

function toSnapshot(row: SnapshotRow, withMetadata: boolean): StoredSnapshot {
  return {
    id: row.doc_id,
    v: row.v,
    type: row.type,
    data: row.type === null ? undefined : row.data,
    m: withMetadata ? row.m : null,
  };
}

function toOp(row: OpRow, withMetadata: boolean): StoredOp {
  const op = row.op;
  op.v = row.v;
  if (withMetadata && row.m !== null) op.m = row.m;
  return op;
}

/**
 * ShareDB DB adapter over PostgreSQL (node-postgres). The same layout as the SQLite adapter: one row
 * per op (`ops`) and the current snapshot per document (`snapshots`). A commit is one statement —
 * the snapshot written only if it is still at the previous version (or, for a new document, absent),
 * and the op inserted only if that write happened — so it is atomic, and the loser of a version
 * race (another process, another server) gets `false` and ShareDB transforms and retries. Every
 * call is one round trip on a pooled connection; failures are STORAGE_UNAVAILABLE TandemErrors.
 */
export class PostgresDB extends ShareDB.DB {
  readonly connection: PostgresConnection;
  pollDebounce: number | undefined;
  private readonly sql: ReturnType<typeof statements>;
  /** Recent ops of busy documents (committed ops never change). */
  private readonly ops = new OpCache();
  private closed = false;

  constructor(options: PostgresDBOptions) {
    super();
    this.pollDebounce = options.pollDebounce;
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

  /** Write op + snapshot if `snapshot.v` is the next version; `false` if another writer got there first. */
  async commitAsync(
    collection: string,
    id: string,
    op: StoredOp,
    snapshot: StoredSnapshot,
  ): Promise<boolean> {
    checkId(collection, 'collection');
    checkId(id, 'document id');
    if (typeof op.src === 'string') checkId(op.src, 'op source');
    const live = snapshot.type != null;
    const data = live ? JSON.stringify(snapshot.data ?? null) : null;
    const { m, ...rest } = op;
    const values = [
      collection,
      id,
      snapshot.v,
      live ? snapshot.type : null,
      data,
      data === null ? null : queryCopy(data, snapshot.data),
      snapshot.m == null ? null : JSON.stringify(snapshot.m),
      JSON.stringify(rest),
      m === undefined ? null : JSON.stringify(m),
      typeof op.src === 'string' ? op.src : null,
      typeof op.seq === 'number' ? op.seq : null,
    ];
    const statement = snapshot.v === 1 ? this.sql.commitCreate : this.sql.commitUpdate;
    const { count } = await this.connection.query(statement.text, values, statement.name);
    return count === 1;
  }

  override commit(
    collection: string,
    id: string,
    op: StoredOp,
    snapshot: StoredSnapshot,
    _options: unknown,
    callback: NodeCallback<boolean>,
  ): void {
    respondAsync(callback, () => this.commitAsync(collection, id, op, snapshot));
  }

  async getSnapshotAsync(collection: string, id: string, withMetadata = false): Promise<StoredSnapshot> {
    checkId(collection, 'collection');
    checkId(id, 'document id');
    const { text, name } = this.sql.snapshot;
    const { rows } = await this.connection.query<SnapshotRow>(text, [collection, id], name);
    return rows.length === 0 ? emptySnapshot(id) : toSnapshot(rows[0], withMetadata);
  }

  override getSnapshot(
    collection: string,
    id: string,
    fields: unknown,
    options: ReadOptions | null,
    callback: NodeCallback<StoredSnapshot>,
  ): void {
    respondAsync(callback, () => this.getSnapshotAsync(collection, id, wantsMetadata(fields, options)));
  }

  /** Several documents in one query; missing ones come back as version-0 snapshots. */
  async getSnapshotBulkAsync(
    collection: string,
    ids: string[],
    withMetadata = false,
  ): Promise<Record<string, StoredSnapshot>> {
    checkId(collection, 'collection');
    for (const id of ids) checkId(id, 'document id');
    const { text, name } = this.sql.snapshotBulk;
    const { rows } = await this.connection.query<SnapshotRow>(text, [collection, ids], name);
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
    respondAsync(callback, () => this.getSnapshotBulkAsync(collection, ids, wantsMetadata(fields, options)));
  }

  /** Ops with `from <= v < to` (`to` null: all after `from`), in version order. */
  async getOpsAsync(
    collection: string,
    id: string,
    from: number | null,
    to: number | null,
    withMetadata = false,
  ): Promise<StoredOp[]> {
    const rows = await this.opRows(collection, id, from ?? 0, to ?? NO_END);
    return rows.map((row) => toOp(row, withMetadata));
  }

  private async opRows(collection: string, id: string, from: number, to: number): Promise<OpRow[]> {
    checkId(collection, 'collection');
    checkId(id, 'document id');
    const { text, name } = this.sql.ops;
    return (await this.connection.query<OpRow>(text, [collection, id, from, to], name)).rows;
  }

  override getOps(
    collection: string,
    id: string,
    from: number | null,
    to: number | null,
    options: ReadOptions | null,
    callback: NodeCallback<StoredOp[]>,
  ): void {
    respondAsync(callback, () => this.getOpsAsync(collection, id, from, to, Boolean(options?.metadata)));
  }

  /**
   * The ops a submit missed (`from <= v < to`), from the op cache when it holds them: only the ops
   * committed since the document's last read cross the network. `getOps` always reads the table.
   */
  private async missedOps(
    collection: string,
    id: string,
    from: number | null,
    to: number,
    withMetadata: boolean,
  ) {
    const key = OpCache.key(collection, id);
    const start = from ?? 0;
    const have = this.ops.cachedUntil(key, start);
    if (have < to)
      this.ops.fill(key, have, await this.opRows(collection, id, have, to), ({ op, m }) => ({ op, m }));
    return (
      this.ops.get(key, start, to, withMetadata) ?? this.getOpsAsync(collection, id, start, to, withMetadata)
    );
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
    respondAsync(callback, () => this.missedOps(collection, id, from, to, Boolean(options?.metadata)));
  }

  /** Ops of several documents, each its own range, in one query. */
  async getOpsBulkAsync(
    collection: string,
    fromMap: Record<string, number | null>,
    toMap: Record<string, number | null> | null,
    withMetadata = false,
  ): Promise<Record<string, StoredOp[]>> {
    checkId(collection, 'collection');
    const ids = Object.keys(fromMap);
    for (const id of ids) checkId(id, 'document id');
    const result: Record<string, StoredOp[]> = Object.create(null);
    for (const id of ids) result[id] = [];
    const { text, name } = this.sql.opsBulk;
    const { rows } = await this.connection.query<OpRow>(
      text,
      [collection, ids, ids.map((id) => fromMap[id] ?? 0), ids.map((id) => toMap?.[id] ?? NO_END)],
      name,
    );
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
    respondAsync(callback, () =>
      this.getOpsBulkAsync(collection, fromMap, toMap, Boolean(options?.metadata)),
    );
  }

  /**
   * The version at which an op (identified by `src` + `seq`) was committed, or undefined. ShareDB
   * asks when a client resubmits after a lost acknowledgement; only ops at or after the op's
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
    respondAsync(callback, async () => {
      if (typeof op.src !== 'string' || typeof op.seq !== 'number') return undefined;
      checkId(collection, 'collection');
      checkId(id, 'document id');
      checkId(op.src, 'op source');
      const { text, name } = this.sql.committedVersion;
      const { rows } = await this.connection.query<{ v: number }>(
        text,
        [collection, id, op.src, op.seq, op.v ?? 0, snapshot.v],
        name,
      );
      return rows[0]?.v;
    });
  }

  /**
   * Compaction capability used by @tandem/history (`compact`): delete the ops of one document below
   * `before`, in one statement. Returns how many ops were deleted.
   */
  async deleteOpsBefore(collection: string, id: string, before: number): Promise<number> {
    checkId(collection, 'collection');
    checkId(id, 'document id');
    this.ops.forget(OpCache.key(collection, id));
    const { count } = await this.connection.query(this.sql.deleteOpsBefore, [collection, id, before]);
    return count;
  }

  /** Run a Mongo-style query (see `SqlQuery`): matching snapshots, or `{ extra: count }` for `$count`. */
  async queryAsync(
    collection: string,
    query: unknown,
    withMetadata = false,
  ): Promise<{ result: StoredSnapshot[]; extra?: unknown }> {
    checkId(collection, 'collection');
    const params: unknown[] = [collection];
    const q = compileQuery(query, params);
    const from = `${this.sql.queryFrom} AND ${q.where}`;
    if (q.count) {
      const { rows } = await this.connection.query<{ n: string }>(`SELECT count(*) AS n ${from}`, params);
      return { result: [], extra: Number(rows[0].n) };
    }
    // The document id breaks ties: the same query paged by $skip/$limit sees each match once.
    const order = q.orderBy ? `ORDER BY ${q.orderBy}, s.doc_id COLLATE "C"` : 'ORDER BY s.doc_id COLLATE "C"';
    params.push(q.limit, q.offset);
    const { rows } = await this.connection.query<SnapshotRow>(
      `SELECT s.doc_id, s.v, s.type, s.data, s.m ${from} ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
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
    const answer = callback as unknown as (error?: Error, result?: StoredSnapshot[], extra?: unknown) => void;
    this.queryAsync(collection, query, Boolean(options?.metadata)).then(
      ({ result, extra }) => process.nextTick(answer, undefined, result, extra),
      (error: unknown) => process.nextTick(answer, toStorageError(error)),
    );
  };

  /** Whether one document matches a per-document query (no sort/skip/limit/count). */
  async queryPollDocAsync(collection: string, id: string, query: unknown): Promise<boolean> {
    checkId(collection, 'collection');
    checkId(id, 'document id');
    const params: unknown[] = [collection, id];
    const q = compileQuery(query, params);
    const { rows } = await this.connection.query(
      `SELECT 1 ${this.sql.queryFrom} AND s.doc_id = $2 AND ${q.where}`,
      params,
    );
    return rows.length > 0;
  }

  override queryPollDoc(
    collection: string,
    id: string,
    query: unknown,
    _options: unknown,
    callback: NodeCallback<boolean>,
  ): void {
    respondAsync(callback, () => this.queryPollDocAsync(collection, id, query));
  }

  /** Lets ShareDB re-check only the changed document on each op instead of re-running the query. */
  override canPollDoc(_collection?: string, query?: unknown): boolean {
    return isPerDocument(query);
  }
}

/** The statements run on every op are named: each connection prepares them once. */
function statements(schema: string) {
  const named = (name: string, text: string) => ({ name: `tandem_${name}`, text });
  // Parameters: $1 collection, $2 doc_id, $3 new version, $4 type, $5 data, $6 query_data, $7 m,
  // then the op: $8 op, $9 m, $10 src, $11 seq. The op is inserted only if the snapshot write (the
  // version check) returned a row; both happen in the one statement's transaction.
  const insertOp = `INSERT INTO ${schema}.ops (collection, doc_id, v, op, m, src, seq)
    SELECT $1::text, $2::text, $3::integer - 1, $8::json, $9::json, $10::text, $11::float8 FROM snapshot`;
  return {
    commitCreate: named(
      'commit_create',
      `WITH snapshot AS (
         INSERT INTO ${schema}.snapshots (collection, doc_id, v, type, data, query_data, m)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (collection, doc_id) DO NOTHING
         RETURNING 1
       ) ${insertOp}`,
    ),
    commitUpdate: named(
      'commit_update',
      `WITH snapshot AS (
         UPDATE ${schema}.snapshots SET v = $3, type = $4, data = $5, query_data = $6, m = $7
         WHERE collection = $1 AND doc_id = $2 AND v = $3::integer - 1
         RETURNING 1
       ) ${insertOp}`,
    ),
    snapshot: named(
      'snapshot',
      `SELECT doc_id, v, type, data, m FROM ${schema}.snapshots WHERE collection = $1 AND doc_id = $2`,
    ),
    snapshotBulk: named(
      'snapshot_bulk',
      `SELECT doc_id, v, type, data, m FROM ${schema}.snapshots WHERE collection = $1 AND doc_id = ANY($2::text[])`,
    ),
    ops: named(
      'ops',
      `SELECT doc_id, v, op, m FROM ${schema}.ops
       WHERE collection = $1 AND doc_id = $2 AND v >= $3::bigint AND v < $4::bigint ORDER BY v`,
    ),
    opsBulk: named(
      'ops_bulk',
      `SELECT o.doc_id, o.v, o.op, o.m
       FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS r(id, lo, hi)
       JOIN ${schema}.ops AS o ON o.collection = $1 AND o.doc_id = r.id AND o.v >= r.lo AND o.v < r.hi
       ORDER BY o.doc_id, o.v`,
    ),
    committedVersion: named(
      'committed_version',
      `SELECT v FROM ${schema}.ops
       WHERE collection = $1 AND doc_id = $2 AND src = $3 AND seq = $4 AND v >= $5::bigint AND v < $6::bigint
       ORDER BY v DESC LIMIT 1`,
    ),
    deleteOpsBefore: `DELETE FROM ${schema}.ops WHERE collection = $1 AND doc_id = $2 AND v < $3::bigint`,
    // The snapshot as jsonb, computed once per row (OFFSET 0 keeps the planner from inlining it into
    // every condition); `query_data` stands in where the text cannot be cast (see schema.ts).
    queryFrom: `FROM ${schema}.snapshots AS s
      CROSS JOIN LATERAL (SELECT coalesce(s.query_data, s.data::jsonb) AS doc OFFSET 0) AS d
      WHERE s.collection = $1 AND s.type IS NOT NULL`,
  };
}

import { ErrorCode, TandemError } from '@tandem/protocol';

/** The part of a node-postgres client that migrations use (kept local: no `pg` types in ours). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/**
 * Tandem's tables, one migration per schema version, applied in order and never edited once
 * released (a change is a new migration). `schema_migrations` records which have run. `$S` is the
 * quoted schema name.
 *
 * - `ops`: one row per op; `op` is the op without `v` and `m` (JSON text, as written), `m` its
 *   metadata, `src`/`seq` kept apart for `getCommittedOpVersion`.
 * - `snapshots`: the current snapshot per document; the optimistic version check is `v`. `data` is
 *   `json` (the exact text written: key order kept, as in the other stores); queries read it as
 *   `jsonb`, or `query_data` when that cast would fail (a string holding NUL or a lone surrogate,
 *   which `jsonb` cannot store: there `query_data` holds a copy with those replaced by U+FFFD).
 * - `milestones`: snapshots every N versions for time travel, with the `mtime` they were saved at.
 */
const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE $S.ops (
  collection text NOT NULL,
  doc_id text NOT NULL,
  v integer NOT NULL,
  op json NOT NULL,
  m json,
  src text,
  seq double precision,
  PRIMARY KEY (collection, doc_id, v)
);
CREATE TABLE $S.snapshots (
  collection text NOT NULL,
  doc_id text NOT NULL,
  v integer NOT NULL,
  type text,
  data json,
  query_data jsonb,
  m json,
  PRIMARY KEY (collection, doc_id)
);
CREATE TABLE $S.milestones (
  collection text NOT NULL,
  doc_id text NOT NULL,
  v integer NOT NULL,
  mtime double precision,
  type text,
  data json,
  m json,
  PRIMARY KEY (collection, doc_id, v)
);`,
  },
];

/** The schema version this code writes; a database at a later one was migrated by a newer Tandem. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Create the schema or bring it to SCHEMA_VERSION, inside the caller's transaction. An advisory lock
 * serialises servers starting together against one database; schema and table are created only when
 * missing, so a role without CREATE on the database can run on a schema made for it.
 */
export async function migrate(client: SqlClient, quoted: string, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tandem schema ${name}`]);
  const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [name]);
  if (exists.rows.length === 0) await client.query(`CREATE SCHEMA ${quoted}`);
  const table = await client.query('SELECT to_regclass($1) AS found', [`${quoted}.schema_migrations`]);
  if (table.rows[0].found === null)
    await client.query(
      `CREATE TABLE ${quoted}.schema_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  const { rows } = await client.query(
    `SELECT coalesce(max(version), 0) AS version FROM ${quoted}.schema_migrations`,
  );
  const current = rows[0].version as number;
  if (current > SCHEMA_VERSION)
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `PostgreSQL schema ${name} is at version ${current}, newer than this Tandem knows (${SCHEMA_VERSION}): upgrade @tandem/storage`,
      { schema: name, version: current, supported: SCHEMA_VERSION },
    );
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    await client.query(migration.sql.replaceAll('$S', quoted));
    await client.query(`INSERT INTO ${quoted}.schema_migrations (version) VALUES ($1)`, [migration.version]);
  }
}

import { ErrorCode, optionalImport, TandemError } from '@tandem/protocol';
import type { Pool, QueryConfig } from 'pg';
import { toStorageError } from '../callback';
import { redactUrl } from '../mongo';
import { SharedConnection } from '../shared-connection';
import { migrate, type SqlClient } from './schema';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`); `?schema=name` sets `schema`. */
  url: string;
  /**
   * The schema that holds Tandem's tables (`ops`, `snapshots`, `milestones`, `schema_migrations`),
   * created if missing; a letter or `_` then letters, digits, `_`. Its own schema keeps them clear of
   * the application's tables.
   * @default 'tandem'
   */
  schema?: string;
  /**
   * Connections in the pool. Each in-flight commit or read holds one for one round trip.
   * @default 10
   */
  poolSize?: number;
  /**
   * How long to wait for a connection (new, or free in the pool) before a call fails with
   * STORAGE_UNAVAILABLE: short, so a wrong URL fails at start-up and an outage fails submits fast.
   * 0 waits without limit.
   * @default 5000
   */
  connectTimeoutMs?: number;
  /**
   * How long one query may wait for its answer before it fails with STORAGE_UNAVAILABLE and its
   * connection is dropped: a network that silently loses packets would otherwise hold a commit for
   * as long as TCP retries (minutes). A commit whose answer is lost this way may still have been
   * written; ShareDB finds it by `src`/`seq` when the client resends. 0 waits without limit.
   * @default 30000
   */
  queryTimeoutMs?: number;
  /**
   * Passed to node-postgres' `Pool` as is, after the options above (its `PoolConfig`: `ssl`, …;
   * typed loosely so that these types need no `pg` installed where the store is not used).
   */
  poolOptions?: Readonly<Record<string, unknown>>;
  /**
   * Called with errors of idle pooled connections (the server restarted, the network dropped). The
   * pool replaces such a connection by itself; without this hook they are ignored.
   */
  onError?: (error: TandemError) => void;
}

export const DEFAULT_POSTGRES_SCHEMA = 'tandem';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

type PgModule = typeof import('pg');

/** node-postgres: an optional peer dependency, loaded only when a PostgreSQL store is opened. */
export async function loadPg(): Promise<PgModule> {
  const pg = await optionalImport('pg', () => import('pg'), 'the PostgreSQL store');
  // node-postgres is CommonJS: its exports arrive as the namespace's default under ESM.
  return ((pg as unknown as { default?: PgModule }).default ?? pg) as PgModule;
}

function invalidConfig(message: string, details?: Record<string, unknown>): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, message, details);
}

/** The URL's `schema` parameter (removed: node-postgres does not know it) and the URL without it. */
function splitSchema(url: string): { url: string; schema: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      `invalid PostgreSQL URL ${redactUrl(url)}`,
      { url: redactUrl(url) },
      { cause: error },
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw invalidConfig(`not a PostgreSQL URL: ${redactUrl(url)}`, { url: redactUrl(url) });
  const schema = parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

/**
 * One node-postgres pool shared by a PostgresDB and a PostgresMilestoneDB, with the schema created or
 * migrated before it is handed out (`PostgresConnection.open`). Reference-counted like
 * SqliteConnection: the pool ends when the last adapter using it closes.
 *
 * A connection that breaks (server restart, `pg_terminate_backend`, network loss) fails the calls
 * using it with STORAGE_UNAVAILABLE and is dropped; the next call opens a new one, so service
 * resumes by itself once the server is back.
 */
export class PostgresConnection extends SharedConnection {
  /** Where the data lives, credentials removed. */
  readonly location: string;
  /** The schema's name, already quoted for SQL. */
  readonly schema: string;
  protected readonly store = 'PostgreSQL';

  private constructor(
    private readonly pool: Pool,
    location: string,
    schema: string,
  ) {
    super();
    this.location = location;
    this.schema = `"${schema}"`;
  }

  /**
   * Connect, create or migrate the schema, and resolve to a connection ready for the adapters. Fails
   * with INVALID_CONFIG for a bad URL or option, or when `pg` is not installed, and with
   * STORAGE_UNAVAILABLE when the server cannot be reached within `connectTimeoutMs`.
   */
  static async open(options: PostgresOptions): Promise<PostgresConnection> {
    const { url, schema: fromUrl } = splitSchema(options.url);
    const schema = options.schema ?? fromUrl ?? DEFAULT_POSTGRES_SCHEMA;
    if (!IDENTIFIER.test(schema))
      throw invalidConfig(
        `PostgreSQL schema name ${JSON.stringify(schema)} is not a plain identifier (a letter or _, then letters, digits, _)`,
        { schema },
      );
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1)
      throw invalidConfig(`poolSize must be a positive integer, got ${String(poolSize)}`);
    const location = `${redactUrl(url)} (schema ${schema})`;
    const pg = await loadPg();
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      keepAlive: true,
      application_name: 'tandem',
      ...options.poolOptions,
    });
    // An idle connection that breaks is reported here; without a listener it would crash the process.
    pool.on('error', (error) => options.onError?.(toStorageError(error)));
    const connection = new PostgresConnection(pool, location, schema);
    try {
      await connection.transaction((client) => migrate(client, connection.schema, schema));
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (error instanceof TandemError && error.code !== ErrorCode.STORAGE_UNAVAILABLE) throw error;
      throw new TandemError(
        ErrorCode.STORAGE_UNAVAILABLE,
        `cannot open PostgreSQL at ${location}: ${(error as Error).message}`,
        { url: redactUrl(url) },
        { cause: error },
      );
    }
    return connection;
  }

  /** Ends the pool, after the queries in flight have finished. */
  protected end(): Promise<void> {
    return this.pool.end().catch((error: unknown) => {
      throw toStorageError(error);
    });
  }

  /**
   * Run one statement on a pooled connection; its failures are STORAGE_UNAVAILABLE TandemErrors.
   * `name` prepares it once per connection (for statements run on every op).
   */
  async query<Row>(
    text: string,
    values: unknown[] = [],
    name?: string,
  ): Promise<{ rows: Row[]; count: number }> {
    this.assertOpen();
    const config: QueryConfig = name === undefined ? { text, values } : { name, text, values };
    try {
      const result = await this.pool.query(config);
      return { rows: result.rows as Row[], count: result.rowCount ?? 0 };
    } catch (error) {
      throw toStorageError(error);
    }
  }

  /** Run `work` inside one transaction on one connection (committed if it resolves, else rolled back). */
  private async transaction<T>(work: (client: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection that breaks while checked out reports here; the failing query reports it too.
    const ignore = () => undefined;
    client.on('error', ignore);
    let failure: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failure = error;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.removeListener('error', ignore);
      // A connection that failed is not reused: its state is unknown.
      client.release(failure instanceof Error ? failure : undefined);
    }
  }
}

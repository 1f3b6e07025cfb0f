/**
 * The PostgreSQL that tests run against, and fresh schemas on it. Suites that run against
 * PostgreSQL (conformance, history, conflicts) use this, so every run and every store gets tables
 * of its own: parallel runs never collide, and no second server is ever started.
 */
import { randomBytes } from 'node:crypto';
import { storageOf } from '../presets';
import type { Storage } from '../types';
import { loadPg, PostgresConnection } from './connection';
import { PostgresDB } from './db';
import { PostgresMilestoneDB } from './milestone-db';

/** `PG_URL`, else `DATABASE_URL`, else the machine's test database (trust auth). */
export const TEST_POSTGRES_URL =
  process.env.PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether a missing PostgreSQL fails the run instead of skipping: in CI (`CI` set), where it must run. */
const postgresRequired = (): boolean => {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
};

/**
 * Why the test PostgreSQL cannot be used (unreachable, `pg` not installed), or undefined when it can.
 * In CI it throws instead: PostgreSQL runs there, and its suites must not quietly skip.
 */
export async function testPostgresUnavailable(url = TEST_POSTGRES_URL): Promise<string | undefined> {
  let client: { connect(): Promise<unknown>; end(): Promise<void> } | undefined;
  try {
    const pg = await loadPg();
    client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    await client.connect();
    return undefined;
  } catch (error) {
    const where = `${url.replace(/\/\/[^@/]*@/, '//***@')} (${(error as Error).message})`;
    if (postgresRequired())
      throw new Error(`PostgreSQL is required when CI is set, and ${where} cannot be reached`);
    return `PostgreSQL tests skipped: cannot reach ${where}; set PG_URL to a reachable server`;
  } finally {
    await client?.end().catch(() => undefined);
  }
}

export interface TestSchemas {
  /** The URL of a new schema (`tandem_test_<pid>_<random>_<n>`), created by the store that opens it. */
  next(): string;
  /**
   * This run's shared schema, emptied, and an open connection to it (kept open until `dropAll`):
   * for suites that want an empty store per test without creating a schema and a pool each time
   * (about 0.1 s). Only while no store on it is in use.
   */
  emptied(): Promise<PostgresConnection>;
  /** A Storage (both adapters) on the shared schema, emptied: `emptied()` for suites that open stores. */
  emptiedStorage(options?: { milestoneInterval?: number }): Promise<Storage>;
  /** Drop every schema this made. */
  dropAll(): Promise<void>;
}

/** Fresh schemas on the test PostgreSQL, each named for this process and run. */
export function testSchemas(url = TEST_POSTGRES_URL): TestSchemas {
  const prefix = `tandem_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const made: string[] = [];
  let shared: Promise<PostgresConnection> | undefined;
  const next = () => {
    const name = `${prefix}_${made.length}`;
    made.push(name);
    const withSchema = new URL(url);
    withSchema.searchParams.set('schema', name);
    // Tests check behaviour, not survival of a power loss: commits skip the WAL flush (1–7 ms each
    // on a shared disk), as they would with a battery-backed cache.
    withSchema.searchParams.set('options', '-c synchronous_commit=off');
    return withSchema.toString();
  };
  const emptied = async () => {
    // One connection: statements run in the order they were issued, as on SQLite (ShareDB's suites
    // assume a query subscribed before a create runs before it). No client-side timeouts: those
    // suites fake timers, and a statement waiting for the connection would time out in fake time.
    // A test that never closes its adapter keeps a reference, so idle connections must not hold
    // the process open either.
    shared ??= PostgresConnection.open({
      url: next(),
      poolSize: 1,
      connectTimeoutMs: 0,
      queryTimeoutMs: 0,
      poolOptions: { allowExitOnIdle: true },
    });
    const connection = await shared;
    const s = connection.schema;
    await connection.query(`DELETE FROM ${s}.ops; DELETE FROM ${s}.snapshots; DELETE FROM ${s}.milestones`);
    return connection;
  };
  return {
    next,
    emptied,
    async emptiedStorage(options = {}) {
      const connection = await emptied();
      const db = new PostgresDB({ connection });
      const milestoneDb = new PostgresMilestoneDB({ connection, interval: options.milestoneInterval });
      return storageOf('postgres', connection.location, db, milestoneDb);
    },
    async dropAll() {
      if (shared) await (await shared).release();
      shared = undefined;
      if (made.length === 0) return;
      const pg = await loadPg();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(
          made
            .splice(0)
            .map((name) => `DROP SCHEMA IF EXISTS "${name}" CASCADE;`)
            .join('\n'),
        );
      } finally {
        await client.end();
      }
    },
  };
}

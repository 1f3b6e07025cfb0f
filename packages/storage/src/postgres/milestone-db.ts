import { respondDone } from '../callback';
import { invalidArgument, type MilestoneLookup, type MilestoneValues, SqlMilestoneDB } from '../milestones';
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
export class PostgresMilestoneDB extends SqlMilestoneDB {
  readonly connection: PostgresConnection;
  private readonly sql: ReturnType<typeof statements>;
  private closed = false;

  constructor(options: PostgresMilestoneDBOptions) {
    super(options.interval);
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

  protected async save(values: MilestoneValues): Promise<void> {
    checkDoc(values[0], values[1]);
    await this.connection.query(this.sql.save, values);
  }

  protected async find(
    collection: string,
    id: string,
    lookup: MilestoneLookup,
    bound: number,
  ): Promise<StoredSnapshot | undefined> {
    checkDoc(collection, id);
    const { rows } = await this.connection.query<MilestoneRow>(this.sql[lookup], [collection, id, bound]);
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
}

function statements(schema: string): Record<MilestoneLookup | 'save', string> {
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

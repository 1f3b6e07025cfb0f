import { storageOf } from '../presets';
import type { Storage } from '../types';
import { PostgresConnection, type PostgresOptions } from './connection';
import { PostgresDB } from './db';
import { PostgresMilestoneDB } from './milestone-db';

export interface PostgresStorageOptions extends PostgresOptions {
  /** @default 1000 */
  milestoneInterval?: number;
}

/**
 * The PostgreSQL store: PostgresDB + PostgresMilestoneDB over one pool, its schema created or
 * migrated before this resolves. Needs the optional peer dependency `pg` (INVALID_CONFIG naming it
 * otherwise); STORAGE_UNAVAILABLE when the server cannot be reached.
 */
export async function postgresStorage(options: PostgresStorageOptions): Promise<Storage> {
  const connection = await PostgresConnection.open(options);
  const db = new PostgresDB({ connection });
  const milestoneDb = new PostgresMilestoneDB({ connection, interval: options.milestoneInterval });
  // The adapters hold their own references now.
  await connection.release();
  return storageOf('postgres', connection.location, db, milestoneDb);
}

import ShareDB from 'sharedb';
import { closeAsync } from './callback';
import { FastMemoryDB } from './memory-db';
import { DEFAULT_MILESTONE_INTERVAL } from './milestones';
import { SqliteConnection, type SqliteOptions } from './sqlite/connection';
import { SqliteDB } from './sqlite/db';
import { SqliteMilestoneDB } from './sqlite/milestone-db';
import type { Storage } from './types';

export interface SqliteStorageOptions extends SqliteOptions {
  /** @default 1000 */
  milestoneInterval?: number;
}

/** SQLite DB + milestone DB sharing one connection to one file. */
export function sqliteStorage(options: SqliteStorageOptions = {}): Storage {
  const connection = new SqliteConnection(options);
  const db = new SqliteDB({ connection });
  const milestoneDb = new SqliteMilestoneDB({ connection, interval: options.milestoneInterval });
  // The adapters hold their own references now.
  connection.release();
  return storageOf('sqlite', connection.path, db, milestoneDb);
}

type MilestoneDBConstructor = new (options?: { interval?: number }) => ShareDB.MilestoneDB;

/** ShareDB's MemoryDB + in-memory milestones: nothing survives the process (tests, demos). */
export function memoryStorage(options: { milestoneInterval?: number } = {}): Storage {
  // @types/sharedb does not declare MemoryMilestoneDB, which sharedb exports.
  const MemoryMilestoneDB = (ShareDB as unknown as { MemoryMilestoneDB: MilestoneDBConstructor })
    .MemoryMilestoneDB;
  const db = new FastMemoryDB();
  const milestoneDb = new MemoryMilestoneDB({
    interval: options.milestoneInterval ?? DEFAULT_MILESTONE_INTERVAL,
  });
  return storageOf('memory', 'memory', db, milestoneDb);
}

/** A Storage over two adapters: closing it closes both. */
export function storageOf(
  kind: Storage['kind'],
  location: string,
  db: ShareDB.DB,
  milestoneDb: ShareDB.MilestoneDB,
): Storage {
  return {
    kind,
    location,
    db,
    milestoneDb,
    async close() {
      await Promise.all([closeAsync(db), closeAsync(milestoneDb)]);
    },
  };
}

export { type CreateStorageOptions, createStorage, DEFAULT_STORAGE_URL } from './create-storage';
export { type MongoStorageOptions, mongoStorage } from './mongo';
export { memoryStorage, type SqliteStorageOptions, sqliteStorage } from './presets';
export {
  DEFAULT_SQLITE_PATH,
  SqliteConnection,
  type SqliteOptions,
  type SqliteSynchronous,
} from './sqlite/connection';
export { SqliteDB, type SqliteDBOptions } from './sqlite/db';
export {
  DEFAULT_MILESTONE_INTERVAL,
  SqliteMilestoneDB,
  type SqliteMilestoneDBOptions,
} from './sqlite/milestone-db';
export type { SqliteQuery } from './sqlite/query';
export type { ReadOptions, Storage, StoredOp, StoredSnapshot } from './types';

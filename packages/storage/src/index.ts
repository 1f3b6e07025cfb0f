export { type CreateStorageOptions, createStorage, DEFAULT_STORAGE_URL } from './create-storage';
export { DEFAULT_MILESTONE_INTERVAL } from './milestones';
export { type MongoStorageOptions, mongoStorage } from './mongo';
export {
  DEFAULT_POSTGRES_SCHEMA,
  PostgresConnection,
  type PostgresOptions,
} from './postgres/connection';
export { PostgresDB, type PostgresDBOptions } from './postgres/db';
export { PostgresMilestoneDB, type PostgresMilestoneDBOptions } from './postgres/milestone-db';
export { type PostgresStorageOptions, postgresStorage } from './postgres/storage';
export { memoryStorage, type SqliteStorageOptions, sqliteStorage } from './presets';
export type { SqlQuery } from './query';
export {
  DEFAULT_SQLITE_PATH,
  SqliteConnection,
  type SqliteOptions,
  type SqliteSynchronous,
} from './sqlite/connection';
export { SqliteDB, type SqliteDBOptions } from './sqlite/db';
export { SqliteMilestoneDB, type SqliteMilestoneDBOptions } from './sqlite/milestone-db';
export type { ReadOptions, Storage, StoredOp, StoredSnapshot } from './types';

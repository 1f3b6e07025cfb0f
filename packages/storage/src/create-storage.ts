import { ErrorCode, TandemError } from '@tandem/protocol';
import { type MongoStorageOptions, mongoStorage, redactUrl } from './mongo';
import { type PostgresStorageOptions, postgresStorage } from './postgres/storage';
import { memoryStorage, type SqliteStorageOptions, sqliteStorage } from './presets';
import { DEFAULT_SQLITE_PATH } from './sqlite/connection';
import type { Storage } from './types';

export const DEFAULT_STORAGE_URL = `sqlite:${DEFAULT_SQLITE_PATH}`;

export interface CreateStorageOptions extends Omit<SqliteStorageOptions, 'path'> {
  /** Extra options for `mongodb://` URLs. */
  mongo?: Omit<MongoStorageOptions, 'url' | 'milestoneInterval'>;
  /** Extra options for `postgres://` URLs (schema, pool size, timeouts). */
  postgres?: Omit<PostgresStorageOptions, 'url' | 'milestoneInterval'>;
}

/**
 * Open the store a URL names:
 * - `sqlite:./data/tandem.db` (the default; relative to the working directory), `sqlite:/abs/path.db`
 * - `sqlite::memory:`: SQLite in memory (same queries as a file, nothing persisted)
 * - `memory:`: ShareDB's MemoryDB + in-memory milestones (queries match every document)
 * - `mongodb://…`, `mongodb+srv://…`: sharedb-mongo + sharedb-milestone-mongo
 * - `postgres://…`, `postgresql://…`: PostgresDB + PostgresMilestoneDB (`?schema=` names the schema)
 * Fails with INVALID_CONFIG for an unknown scheme and STORAGE_UNAVAILABLE for an unreachable store.
 */
export async function createStorage(
  url: string = DEFAULT_STORAGE_URL,
  options: CreateStorageOptions = {},
): Promise<Storage> {
  const { mongo, postgres, ...sqlite } = options;
  if (url === 'memory:') return memoryStorage(sqlite);
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length);
    // `sqlite:///abs/path` and `sqlite://./rel` are accepted as well as `sqlite:path`.
    const path = rest.startsWith('//') ? rest.slice(2) : rest;
    if (path === '') throw new TandemError(ErrorCode.INVALID_CONFIG, `no SQLite path in storage URL ${url}`);
    return sqliteStorage({ ...sqlite, path });
  }
  if (url.startsWith('mongodb://') || url.startsWith('mongodb+srv://')) {
    return mongoStorage({ ...mongo, url, milestoneInterval: sqlite.milestoneInterval });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    return postgresStorage({ ...postgres, url, milestoneInterval: sqlite.milestoneInterval });
  }
  const shown = redactUrl(url);
  throw new TandemError(
    ErrorCode.INVALID_CONFIG,
    `unknown storage URL ${shown}: expected sqlite:<path>, sqlite::memory:, memory:, mongodb://… or postgres://…`,
    { url: shown },
  );
}

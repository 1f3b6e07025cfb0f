/**
 * The one place that turns `options.storage` into ShareDB databases. Uses @tandem/storage's
 * `createStorage` (SQLite by default) when that package provides it; until then only in-memory
 * storage is available (ShareDB's MemoryDB).
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import * as tandemStorage from '@tandem/storage';
import ShareDB from 'sharedb';

/** What @tandem/storage's `createStorage` returns. */
export interface Storage {
  db: unknown;
  milestoneDb?: unknown;
  close(): Promise<void>;
}

type CreateStorage = (url?: string) => Promise<Storage>;

// Looked up by name so this compiles before @tandem/storage exports it.
const createStorage = (tandemStorage as Record<string, unknown>).createStorage as CreateStorage | undefined;

export async function resolveStorage(option: Storage | string | undefined): Promise<Storage> {
  if (typeof option === 'object' && option !== null) return option;
  if (createStorage !== undefined) return createStorage(option);
  if (option === undefined || option === 'memory:') {
    const db = new ShareDB.MemoryDB();
    return { db, close: () => new Promise<void>((resolve) => db.close(() => resolve())) };
  }
  throw new TandemError(ErrorCode.INVALID_CONFIG, `storage URL ${option} needs @tandem/storage`, {
    option: 'storage',
  });
}

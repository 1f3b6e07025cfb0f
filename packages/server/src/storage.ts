/**
 * `options.storage` to ShareDB databases: an object is used as given, a URL (or nothing: SQLite)
 * goes to @tandem/storage's `createStorage`.
 */
import { createStorage, type Storage as StorageHandle } from '@tandem/storage';

/** @tandem/storage's `Storage`, or any ShareDB DB (and milestone DB) the host wires itself, with a close. */
export type Storage = Pick<StorageHandle, 'db' | 'close'> & { milestoneDb?: StorageHandle['milestoneDb'] };

export function resolveStorage(option: Storage | string | undefined): Promise<Storage> {
  if (typeof option === 'object' && option !== null) return Promise.resolve(option);
  return createStorage(option);
}

/** What the SQL adapters (SQLite, PostgreSQL) share beyond the query subset and the op cache. */
import type { ReadOptions, StoredSnapshot } from './types';

/** Versions are below 2^53; an open-ended op range ends here. */
export const NO_END = Number.MAX_SAFE_INTEGER;

/** A document that was never created: ShareDB expects version 0 and no type. */
export function emptySnapshot(id: string): StoredSnapshot {
  return { id, v: 0, type: null, data: undefined, m: null };
}

/** Whether a read returns `m`: asked for, or ShareDB's `$submit` projection (it stamps `mtime`). */
export function wantsMetadata(fields: unknown, options: ReadOptions | null | undefined): boolean {
  return Boolean((fields as { $submit?: boolean } | null)?.$submit || options?.metadata);
}

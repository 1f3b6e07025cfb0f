/**
 * Tandem's own records (named versions, fork lineage) are ShareDB documents in reserved
 * collections, so whichever backend is configured stores (and replicates) them. Written by the
 * trusted server connection; the acting user is recorded in the data.
 */
import type { JSONOp } from '@tandem/ot';
import { ErrorCode, isTandemError } from '@tandem/protocol';
import type { HistoryContext } from './context';
import type { DocRef, NamedVersion } from './types';

/** Record id for a document: collection and id joined by a separator no collection name holds. */
export function recordKey(ref: DocRef): string {
  return `${ref.collection}/${ref.id}`;
}

export async function readRecord<T>(
  ctx: HistoryContext,
  collection: string,
  key: string,
): Promise<T | undefined> {
  const snapshot = await ctx.io.getSnapshot(collection, key);
  return snapshot.type === null ? undefined : (snapshot.data as T);
}

/**
 * Change a record: create it with `initial` when missing, then submit `build(current)`. ShareDB
 * transforms concurrent record edits like any other document's.
 */
export async function updateRecord<T>(
  ctx: HistoryContext,
  collection: string,
  key: string,
  initial: T,
  build: (current: T) => JSONOp | null,
): Promise<void> {
  const existing = await readRecord<T>(ctx, collection, key);
  if (existing === undefined) {
    try {
      await ctx.io.create(undefined, collection, key, initial);
    } catch (error) {
      // Another process created it first: fine, edit theirs.
      if (!(isTandemError(error) && error.code === ErrorCode.ALREADY_EXISTS)) throw error;
    }
  }
  await ctx.io.submit(undefined, collection, key, (snapshot) => build(snapshot.data as T));
}

/**
 * The per-document record in the versions collection (id `<collection>/<id>`). Each label also has
 * its own document (`<collection>/<id>#<label>`), which makes label creation atomic.
 */
export interface HistoryRecord {
  versions: Record<string, NamedVersion>;
  /** Ops below this version were deleted by compaction (a milestone exists at it). */
  compactedBefore?: number;
}

export function readHistoryRecord(ctx: HistoryContext, ref: DocRef): Promise<HistoryRecord | undefined> {
  return readRecord<HistoryRecord>(ctx, ctx.options.versionsCollection, recordKey(ref));
}

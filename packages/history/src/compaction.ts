/**
 * Compaction: delete a document's ops below a cut-off while keeping every history query at or
 * after it correct. Before anything is deleted, a milestone is saved at the cut-off and at every
 * named version below it, and the cut-off is recorded (so replays start from that milestone).
 *
 * ShareDB's DB interface cannot delete ops, so this needs an optional adapter capability,
 * `deleteOpsBefore` (see `CompactableDB`). `memoryCompaction` adds it to ShareDB's MemoryDB; a
 * SQLite or Mongo adapter implements it with one DELETE.
 */
import { insert, replace } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type { HistoryContext } from './context';
import { type HistoryRecord, readHistoryRecord, recordKey, updateRecord } from './records';
import { currentSnapshot, snapshotAt, timeOfVersion } from './time-travel';
import type { DocRef } from './types';

/** The optional DB capability compaction uses. */
export interface CompactableDB {
  /** Delete the ops of one document with version below `before`; resolve to how many were deleted. */
  deleteOpsBefore(collection: string, id: string, before: number): Promise<number>;
}

export interface CompactResult {
  /** Ops below this version are gone (a milestone holds the document at it). */
  before: number;
  deleted: number;
}

export async function compact(ctx: HistoryContext, ref: DocRef, before: number): Promise<CompactResult> {
  const deleteOps = ctx.io.deleteOpsBefore();
  if (deleteOps === undefined) {
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      'the configured database cannot delete ops (no deleteOpsBefore)',
      {
        option: 'db',
        reason: 'compaction unsupported',
      },
    );
  }
  const current = await currentSnapshot(ctx, ref);
  const record = await readHistoryRecord(ctx, ref);
  const cut = Math.min(Math.max(0, Math.floor(before)), current.v);
  const already = record?.compactedBefore ?? 0;
  if (cut <= already) return { before: already, deleted: 0 };
  // Everything a later query needs must exist before the first op is deleted.
  const keep = new Set([
    cut,
    ...Object.values(record?.versions ?? {})
      .map((n) => n.version)
      .filter((v) => v < cut && v >= already),
  ]);
  for (const version of keep) {
    const snapshot = await snapshotAt(ctx, ref, version);
    await ctx.io.saveMilestone(ref.collection, ref.id, snapshot, await timeOfVersion(ctx, ref, version));
  }
  await updateRecord<HistoryRecord>(
    ctx,
    ctx.options.versionsCollection,
    recordKey(ref),
    { versions: {} },
    (r) =>
      r.compactedBefore === undefined ? insert(['compactedBefore'], cut) : replace(['compactedBefore'], cut),
  );
  const deleted = await deleteOps(ref.collection, ref.id, cut);
  return { before: cut, deleted };
}

interface MemoryDBLike {
  ops: Record<string, Record<string, unknown[]>>;
}

/**
 * Give ShareDB's MemoryDB the `deleteOpsBefore` capability (tests, demos). MemoryDB's `getOps`
 * skips empty slots, so deleted ops simply stop being returned.
 */
export function memoryCompaction<T extends object>(db: T): T & CompactableDB {
  const memory = db as unknown as MemoryDBLike;
  return Object.assign(db, {
    deleteOpsBefore: async (collection: string, id: string, before: number) => {
      const log = memory.ops[collection]?.[id];
      if (log === undefined) return 0;
      let deleted = 0;
      for (let v = 0; v < Math.min(before, log.length); v++) {
        if (log[v] !== undefined) {
          log[v] = undefined;
          deleted++;
        }
      }
      return deleted;
    },
  });
}

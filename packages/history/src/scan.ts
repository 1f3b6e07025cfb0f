/**
 * Read a document's op log in batches, checking it has no holes. Batches start small (most reads
 * stop early: a page of 50, the ops up to a time) and double up to `maxBatch`, which bounds memory on
 * long histories.
 */
import type { HistoryIO } from './io';
import { missingOps } from './replay';
import type { StoredOp } from './types';

/** First batch size when the caller gives no better guess. */
const FIRST_BATCH = 64;

export interface ScanLimits {
  /** Largest batch read at once. */
  maxBatch: number;
  /** First batch size (e.g. a page size). @default 64 */
  firstBatch?: number;
}

/** Call `visit` for each op in `[from, to)` in order; stop early when it returns false. */
export async function scanOps(
  io: HistoryIO,
  collection: string,
  id: string,
  from: number,
  to: number,
  limits: ScanLimits,
  visit: (op: StoredOp) => boolean | undefined,
): Promise<void> {
  let next = from;
  let batch = Math.min(limits.maxBatch, limits.firstBatch ?? FIRST_BATCH);
  while (next < to) {
    const end = Math.min(to, next + batch);
    const ops = await io.getOps(collection, id, next, end);
    for (const op of ops) {
      if (op.v !== next) throw missingOps(collection, id, next, op.v);
      next++;
      if (visit(op) === false) return;
    }
    if (next < end) throw missingOps(collection, id, next, undefined);
    batch = Math.min(limits.maxBatch, batch * 2);
  }
}

/**
 * Ops `[from, to)` scanned backwards (newest first); stop early when `visit` returns false.
 * Resolves to the oldest version visited or reachable: when older ops were compacted away the scan
 * ends at the oldest stored op instead of failing (history simply starts there).
 */
export async function scanOpsBackwards(
  io: HistoryIO,
  collection: string,
  id: string,
  from: number,
  to: number,
  limits: ScanLimits,
  visit: (op: StoredOp) => boolean | undefined,
): Promise<number> {
  let end = to;
  let batch = Math.min(limits.maxBatch, limits.firstBatch ?? FIRST_BATCH);
  while (end > from) {
    const start = Math.max(from, end - batch);
    const ops = await io.getOps(collection, id, start, end);
    const first = end - ops.length;
    if (ops.some((op, i) => op.v !== first + i)) throw missingOps(collection, id, first, ops[0]?.v);
    for (let i = ops.length - 1; i >= 0; i--) if (visit(ops[i]) === false) return ops[i].v;
    if (first > start) return first;
    end = start;
    batch = Math.min(limits.maxBatch, batch * 2);
  }
  return from;
}

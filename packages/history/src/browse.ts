/** Browse: a paged, filterable list of a document's history, newest first. */
import type { HistoryPage, PageQuery } from '@tandem/protocol';
import type { HistoryContext } from './context';
import { readHistoryRecord } from './records';
import { scanOpsBackwards } from './scan';
import { summarizeOp } from './summary';
import type { DocRef, HistoryEntry, StoredOp } from './types';

export function toEntry(op: StoredOp): HistoryEntry {
  const m = op.m ?? {};
  return {
    version: op.v + 1,
    author: m.author ?? null,
    session: typeof m.session === 'string' ? m.session : null,
    ts: typeof m.ts === 'number' ? m.ts : 0,
    message: typeof m.message === 'string' ? m.message : null,
    intent: typeof m.intent === 'string' ? m.intent : null,
    summary: summarizeOp(op),
  };
}

export async function page(ctx: HistoryContext, ref: DocRef, query: PageQuery = {}): Promise<HistoryPage> {
  const limit = Math.max(1, Math.min(query.limit ?? 50, ctx.options.maxPageSize));
  const current = await ctx.io.getSnapshot(ref.collection, ref.id);
  // Entry versions run 1..current.v; op v = entry version - 1.
  const to = Math.min(current.v, (query.before ?? current.v + 1) - 1);
  const entries: HistoryEntry[] = [];
  let next: number | null = null;
  // History starts at the compaction cut-off, if any.
  const floor = (await readHistoryRecord(ctx, ref))?.compactedBefore ?? 0;
  await scanOpsBackwards(
    ctx.io,
    ref.collection,
    ref.id,
    floor,
    Math.max(floor, to),
    { maxBatch: ctx.options.readBatch, firstBatch: limit + 1 },
    (op) => {
      const ts = op.m?.ts ?? 0;
      // Ops are stored in commit order and `ts` is the commit's start time, so going back times only
      // decrease (up to clock skew between server processes): past `since`, nothing older matches.
      if (query.since !== undefined && ts < query.since) return false;
      if (query.until !== undefined && ts > query.until) return true;
      if (query.author !== undefined && op.m?.author?.id !== query.author) return true;
      if (entries.length === limit) {
        next = op.v + 2;
        return false;
      }
      entries.push(toEntry(op));
      return true;
    },
  );
  return { entries, next };
}

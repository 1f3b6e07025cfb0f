/** Diff between two versions: the op turning one into the other (@tandem/ot `diff`) and a summary. */
import { type Doc, diff } from '@tandem/ot';
import { type HistoryContext, readAll } from './context';
import { scanOps } from './scan';
import { summarizeOp } from './summary';
import { snapshotAt } from './time-travel';
import type { DocRef, OpAuthor, VersionDiff } from './types';

export async function diffVersions(
  ctx: HistoryContext,
  ref: DocRef,
  from: number,
  to: number,
): Promise<VersionDiff> {
  const [a, b] = await Promise.all([snapshotAt(ctx, ref, from), snapshotAt(ctx, ref, to)]);
  const op = diff(a.data as Doc | undefined, b.data as Doc | undefined);
  const authors: OpAuthor[] = [];
  const seen = new Set<string>();
  const [lo, hi] = from <= to ? [from, to] : [to, from];
  await scanOps(ctx.io, ref.collection, ref.id, lo, hi, readAll(ctx), (stored) => {
    const author = stored.m?.author;
    if (author !== undefined && !seen.has(author.id)) {
      seen.add(author.id);
      authors.push(author);
    }
    return true;
  });
  return { from, to, op, summary: summarizeOp({ op }), authors };
}

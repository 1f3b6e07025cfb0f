/**
 * Verify: recompute every named version's checksum, and the current snapshot, by replaying the
 * stored op log from the start (or from the compaction milestone). An op altered in the database
 * changes the replayed snapshots, so checksums stop matching; an op that no longer applies is
 * reported at its version. Failure is the answer here, not an exception.
 */
import { canonicalJson, checksum } from './canonical';
import { type HistoryContext, readAll } from './context';
import { readHistoryRecord } from './records';
import { finish, startReplay, step } from './replay';
import { scanOps } from './scan';
import type { DocRef, VerifyReport, VersionCheck } from './types';

export async function verify(ctx: HistoryContext, ref: DocRef, label?: string): Promise<VerifyReport> {
  const record = await readHistoryRecord(ctx, ref);
  const named = Object.values(record?.versions ?? {}).filter((n) => label === undefined || n.label === label);
  const current = await ctx.io.getSnapshot(ref.collection, ref.id);
  const from = record?.compactedBefore ?? 0;
  const base = from === 0 ? undefined : await ctx.io.milestoneAt(ref.collection, ref.id, from);
  const state = startReplay(base);
  const actual = new Map<number, string>();
  const wanted = new Set(named.map((n) => n.version));
  const capture = () => {
    if (wanted.has(state.v)) actual.set(state.v, checksum(finish(state)));
  };
  let error: VerifyReport['error'] = null;
  capture();
  try {
    await scanOps(ctx.io, ref.collection, ref.id, state.v, current.v, readAll(ctx), (op) => {
      step(state, op);
      capture();
      return true;
    });
  } catch (e) {
    error = { version: state.v, message: e instanceof Error ? e.message : String(e) };
  }
  const versions: VersionCheck[] = [];
  for (const n of named) {
    // Below a compaction cut-off the ops are gone; the milestone saved with the label is the record.
    const source = n.version < (base?.v ?? 0) ? 'milestone' : 'ops';
    const got =
      source === 'ops' ? (actual.get(n.version) ?? null) : await milestoneChecksum(ctx, ref, n.version);
    versions.push({
      label: n.label,
      version: n.version,
      expected: n.checksum,
      actual: got,
      ok: got === n.checksum,
      source,
    });
  }
  const replayed = finish(state);
  const currentOk =
    error === null &&
    replayed.v === current.v &&
    replayed.type === current.type &&
    canonicalJson(replayed.data) === canonicalJson(current.data);
  return {
    ok: error === null && currentOk && versions.every((v) => v.ok),
    from: base?.v ?? 0,
    versions,
    current: { version: current.v, ok: currentOk },
    error,
  };
}

async function milestoneChecksum(ctx: HistoryContext, ref: DocRef, version: number): Promise<string | null> {
  const milestone = await ctx.io.milestoneAt(ref.collection, ref.id, version);
  return milestone?.v === version ? checksum(milestone) : null;
}

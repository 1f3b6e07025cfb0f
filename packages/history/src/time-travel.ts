/**
 * Time travel: the document at a version or at a time. Starts from the nearest milestone snapshot
 * at or before the target and replays at most `milestoneInterval` ops with ropes (measured faster
 * than ShareDB's `fetchSnapshot`, which copies the whole string on every text op: see
 * docs/benchmarks.md).
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type HistoryContext, readAll } from './context';
import { readHistoryRecord } from './records';
import { finish, startReplay, step } from './replay';
import { scanOps } from './scan';
import type { DocRef, VersionedSnapshot } from './types';

function beyond(ref: DocRef, version: number, current: number): TandemError {
  return new TandemError(
    ErrorCode.NOT_FOUND,
    `${ref.collection}/${ref.id} has no version ${version} (current is ${current})`,
    { collection: ref.collection, id: ref.id, version },
  );
}

/** The latest stored snapshot (its version is the document's current version). */
export function currentSnapshot(ctx: HistoryContext, ref: DocRef): Promise<VersionedSnapshot> {
  return ctx.io.getSnapshot(ref.collection, ref.id);
}

/** The document as it was at `version` (after ops `0 … version-1`). */
export async function snapshotAt(
  ctx: HistoryContext,
  ref: DocRef,
  version: number,
): Promise<VersionedSnapshot> {
  if (!Number.isInteger(version) || version < 0) {
    throw new TandemError(ErrorCode.INVALID_MESSAGE, 'version must be a non-negative integer', {
      reason: 'version',
    });
  }
  const current = await currentSnapshot(ctx, ref);
  if (version > current.v) throw beyond(ref, version, current.v);
  if (version === current.v) return current;
  const milestone = await ctx.io.milestoneAt(ref.collection, ref.id, version);
  return replayRange(ctx, ref, milestone, version);
}

/** Replay from `base` (or from nothing) up to `version`. */
export async function replayRange(
  ctx: HistoryContext,
  ref: DocRef,
  base: VersionedSnapshot | undefined,
  version: number,
): Promise<VersionedSnapshot> {
  const state = startReplay(base);
  await scanOps(ctx.io, ref.collection, ref.id, state.v, version, readAll(ctx), (op) => {
    step(state, op);
    return true;
  });
  return finish(state);
}

/**
 * The version the document had at time `ts` (ms since the epoch): the number of ops committed at
 * or before it. A binary search over the op log's commit times (one single-op read per probe), so it
 * needs no time index in the milestone DB. Ops are stored in commit order and stamped with their
 * submit time, so times are monotonic up to clock skew between server processes.
 */
export async function versionAtTime(ctx: HistoryContext, ref: DocRef, ts: number): Promise<number> {
  const current = await currentSnapshot(ctx, ref);
  const floor = (await readHistoryRecord(ctx, ref))?.compactedBefore ?? 0;
  // Invariant: version lo is at or before ts (or is the floor); version hi + 1 is after it.
  let lo = floor;
  let hi = current.v;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if ((await timeOfVersion(ctx, ref, mid)) <= ts) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The document as it was at time `ts`: after every op committed at or before it. */
export async function snapshotAtTime(
  ctx: HistoryContext,
  ref: DocRef,
  ts: number,
): Promise<VersionedSnapshot> {
  return snapshotAt(ctx, ref, await versionAtTime(ctx, ref, ts));
}

/** Commit time of the op that produced `version` (0 for version 0 or when unknown). */
export async function timeOfVersion(ctx: HistoryContext, ref: DocRef, version: number): Promise<number> {
  if (version === 0) return 0;
  const [op] = await ctx.io.getOps(ref.collection, ref.id, version - 1, version);
  return op?.m?.ts ?? 0;
}

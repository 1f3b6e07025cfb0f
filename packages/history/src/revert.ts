/**
 * Revert and selective undo: each is one new op submitted by the acting user, never a rewrite of
 * history. The op is computed against the latest snapshot and submitted at its version; ShareDB
 * transforms it over anything committed meanwhile, so concurrent edits stay.
 */
import { type Doc, diff, invertWithDoc, isNoop, type JSONOp, transform } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type HistoryContext, readAll } from './context';
import { scanOps, scanOpsBackwards } from './scan';
import { snapshotAt } from './time-travel';
import type { Actor, DocRef, StoredOp, Submitted } from './types';

export interface RevertOptions {
  message?: string;
}

/** Make the document equal to what it was at `version`, as one op by `actor`. Null when already equal. */
export async function revert(
  ctx: HistoryContext,
  ref: DocRef,
  actor: Actor,
  version: number,
  options: RevertOptions = {},
): Promise<Submitted | null> {
  const target = await snapshotAt(ctx, ref, version);
  if (target.type === null) {
    throw new TandemError(
      ErrorCode.NOT_FOUND,
      `${ref.collection}/${ref.id} did not exist at version ${version}`,
      {
        collection: ref.collection,
        id: ref.id,
        version,
      },
    );
  }
  return ctx.io.submit(
    actor,
    ref.collection,
    ref.id,
    (latest) => {
      const op = diff(latest.data as Doc | undefined, target.data as Doc | undefined);
      return isNoop(op) ? null : op;
    },
    { intent: 'revert', revertTo: version, message: options.message ?? `revert to version ${version}` },
  );
}

/**
 * The op that undoes the op producing `version`, rebased onto the document at `upTo`: its inverse,
 * transformed over every op committed after it. Pure apart from reading ops.
 */
export async function undoOpFor(
  ctx: HistoryContext,
  ref: DocRef,
  version: number,
  upTo: number,
): Promise<JSONOp> {
  if (!Number.isInteger(version) || version < 1 || version > upTo) {
    throw new TandemError(
      ErrorCode.NOT_FOUND,
      `${ref.collection}/${ref.id} has no op producing version ${version}`,
      {
        collection: ref.collection,
        id: ref.id,
        version,
      },
    );
  }
  const before = await snapshotAt(ctx, ref, version - 1);
  const [target] = await ctx.io.getOps(ref.collection, ref.id, version - 1, version);
  if (target?.op === undefined) {
    throw new TandemError(
      ErrorCode.INVALID_OP,
      `version ${version} was made by a create or delete, which undo cannot invert`,
      {
        version,
        reason: 'not an edit',
      },
    );
  }
  let undo = invertWithDoc(target.op as JSONOp, before.data as Doc);
  await scanOps(ctx.io, ref.collection, ref.id, version, upTo, readAll(ctx), (later) => {
    if (later.op !== undefined) undo = transform(undo, later.op as JSONOp, 'left');
    return true;
  });
  return undo;
}

/** Undo the single op that produced `version`, as a new op by `actor`. Null when nothing is left to undo. */
export async function undoOp(
  ctx: HistoryContext,
  ref: DocRef,
  actor: Actor,
  version: number,
): Promise<Submitted | null> {
  const latest = await ctx.io.getSnapshot(ref.collection, ref.id);
  const undo = await undoOpFor(ctx, ref, version, latest.v);
  if (isNoop(undo)) return null;
  // Built for `latest.v`; submitting at that version lets ShareDB transform it over newer ops.
  return ctx.io.submitAt(actor, ref.collection, ref.id, latest.v, undo, {
    intent: 'undo',
    undoes: version,
    message: `undo version ${version}`,
  });
}

/**
 * Undo the latest op by `authorId` that is not itself an undo and was not undone already. Null when
 * there is none.
 */
export async function undoLastBy(
  ctx: HistoryContext,
  ref: DocRef,
  actor: Actor,
  authorId: string,
): Promise<Submitted | null> {
  const latest = await ctx.io.getSnapshot(ref.collection, ref.id);
  const undone = new Set<number>();
  let found: StoredOp | undefined;
  await scanOpsBackwards(
    ctx.io,
    ref.collection,
    ref.id,
    0,
    latest.v,
    { maxBatch: ctx.options.readBatch },
    (op) => {
      if (op.m?.author?.id !== authorId || op.op === undefined) return true;
      if (typeof op.m.undoes === 'number') {
        undone.add(op.m.undoes);
        return true;
      }
      if (undone.has(op.v + 1)) return true;
      found = op;
      return false;
    },
  );
  return found === undefined ? null : undoOp(ctx, ref, actor, found.v + 1);
}

/**
 * Blame for a string at any version: replay the history, moving attribution runs through each op.
 * Text edits at the path move the runs exactly; anything structural that changes the string (a
 * replace, a move into the path) is attributed by diffing the string before and after that op.
 * Blame is positional: it follows the path, not a string moved elsewhere.
 */
import { diffText, type Path, Rope, type TextOp } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { applyEdit, type Run, toRanges, wholeString } from './blame-core';
import { type HistoryContext, readAll } from './context';
import { readHistoryRecord } from './records';
import { type ReplayState, startReplay, step } from './replay';
import { scanOps } from './scan';
import { currentSnapshot } from './time-travel';
import type { BlameResult, DocRef, Owner, StoredOp } from './types';
import { eachComponent, isStructural, samePath, valueAt } from './walk';

function stringAt(state: ReplayState, path: Path): string | undefined {
  const value = valueAt(state.data, path);
  if (value instanceof Rope) return value.toString();
  return typeof value === 'string' ? value : undefined;
}

function ownerOf(op: StoredOp): Owner {
  return { author: op.m?.author ?? null, version: op.v + 1, ts: op.m?.ts ?? 0 };
}

/** The text edit `op` makes at exactly `path`, or 'structural' when it moves or replaces anything. */
function editAt(op: StoredOp, path: Path): TextOp | null | 'structural' {
  let found: TextOp | null = null;
  let structural = false;
  eachComponent(op.op ?? null, (c, at) => {
    if (isStructural(c)) structural = true;
    else if (c.es !== undefined && samePath(at, path)) found = c.es as TextOp;
  });
  return structural ? 'structural' : found;
}

/** Runs after `op`; `state` is the document before it and is advanced by it. */
function advance(state: ReplayState, runs: Run[], op: StoredOp, path: Path): Run[] {
  const owner = ownerOf(op);
  const edit = op.op !== undefined ? editAt(op, path) : 'structural';
  if (edit !== 'structural') {
    step(state, op);
    return edit === null ? runs : applyEdit(runs, edit, owner);
  }
  const before = stringAt(state, path);
  step(state, op);
  const after = stringAt(state, path);
  if (after === undefined) return [];
  if (before === undefined || op.create) return wholeString(after, owner);
  const change = diffText(before, after);
  return change === null ? runs : applyEdit(runs, change, owner);
}

export async function blame(
  ctx: HistoryContext,
  ref: DocRef,
  path: Path,
  version?: number,
): Promise<BlameResult> {
  const current = await currentSnapshot(ctx, ref);
  const target = version ?? current.v;
  if (target > current.v || target < 0) {
    throw new TandemError(ErrorCode.NOT_FOUND, `${ref.collection}/${ref.id} has no version ${target}`, {
      collection: ref.collection,
      id: ref.id,
      version: target,
    });
  }
  // After compaction, replay starts at the cut-off milestone; its text is owned by "unknown".
  const from = (await readHistoryRecord(ctx, ref))?.compactedBefore ?? 0;
  const base =
    from === 0 ? undefined : await ctx.io.milestoneAt(ref.collection, ref.id, Math.min(from, target));
  const state = startReplay(base);
  const initial = stringAt(state, path);
  let runs: Run[] =
    initial === undefined ? [] : wholeString(initial, { author: null, version: state.v, ts: 0 });
  await scanOps(ctx.io, ref.collection, ref.id, state.v, target, readAll(ctx), (op) => {
    runs = advance(state, runs, op, path);
    return true;
  });
  const text = stringAt(state, path);
  if (text === undefined) {
    throw new TandemError(ErrorCode.NOT_FOUND, `no string at /${path.join('/')} at version ${target}`, {
      collection: ref.collection,
      id: ref.id,
      version: target,
      path,
    });
  }
  return { version: target, path, text, ranges: toRanges(runs) };
}

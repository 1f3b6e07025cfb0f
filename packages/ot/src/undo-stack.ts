/**
 * A per-user undo/redo stack: pure functions over an immutable value. Entries are
 * inverse ops that apply to the current document; remote ops rebase the whole stack so undo only
 * ever takes back the user's own edits.
 */
import type { Doc, JSONOp } from './json1';
import { invertWithDoc, isNoop } from './ops';
import { transform } from './transform';

export interface UndoStack {
  /** Top last: each entry applies to the document after the entries above it were applied. */
  readonly undo: readonly JSONOp[];
  readonly redo: readonly JSONOp[];
  /** Deepest undo kept; older entries fall off. */
  readonly limit: number;
}

/** @param limit deepest undo kept. @default 100 */
export function createUndoStack(limit = 100): UndoStack {
  return { undo: [], redo: [], limit };
}

function pushBounded(entries: readonly JSONOp[], op: JSONOp, limit: number): JSONOp[] {
  const next = [...entries, op];
  return next.length > limit ? next.slice(next.length - limit) : next;
}

/** Record a local edit `op` made on `before`; clears redo (a new edit forks the timeline). */
export function recordEdit(stack: UndoStack, op: JSONOp, before: Doc | undefined): UndoStack {
  if (isNoop(op)) return stack;
  return { ...stack, undo: pushBounded(stack.undo, invertWithDoc(op, before), stack.limit), redo: [] };
}

/**
 * Rebase entries over `remote` (an op applied to the current document). Top down: each entry is
 * transformed over the remote op, and the remote op over the entry, so deeper entries see the remote
 * op as it would look after the entries above them.
 */
function rebase(entries: readonly JSONOp[], remote: JSONOp): JSONOp[] {
  const out = new Array<JSONOp>(entries.length);
  let other = remote;
  for (let i = entries.length - 1; i >= 0; i--) {
    out[i] = transform(entries[i], other, 'left');
    other = transform(other, entries[i], 'right');
  }
  return out.filter((op) => !isNoop(op));
}

/** Another user's op was applied to the document: keep the stacks applicable. */
export function applyRemote(stack: UndoStack, remote: JSONOp): UndoStack {
  if (isNoop(remote)) return stack;
  return { ...stack, undo: rebase(stack.undo, remote), redo: rebase(stack.redo, remote) };
}

export interface StackStep {
  stack: UndoStack;
  /** Apply to the current document and submit. */
  op: JSONOp;
}

/** Take back the last local edit on `doc` (the current document); null when there is nothing to undo. */
export function undo(stack: UndoStack, doc: Doc | undefined): StackStep | null {
  const op = stack.undo[stack.undo.length - 1];
  if (op === undefined) return null;
  return {
    op,
    stack: {
      ...stack,
      undo: stack.undo.slice(0, -1),
      redo: pushBounded(stack.redo, invertWithDoc(op, doc), stack.limit),
    },
  };
}

/** Re-apply the last undone edit; null when there is nothing to redo. */
export function redo(stack: UndoStack, doc: Doc | undefined): StackStep | null {
  const op = stack.redo[stack.redo.length - 1];
  if (op === undefined) return null;
  return {
    op,
    stack: {
      ...stack,
      redo: stack.redo.slice(0, -1),
      undo: pushBounded(stack.undo, invertWithDoc(op, doc), stack.limit),
    },
  };
}

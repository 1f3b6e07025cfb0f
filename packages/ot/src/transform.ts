/**
 * Transform that never throws on conflicts, and reports what collided.
 *
 * json1's `tryTransform` returns the first conflict as a value. We resolve it exactly as json1's own
 * `typeAllowingConflictsPred(() => true)` does (so the result is the transform json1's fuzzer checks
 * for convergence), retry, and keep every conflict we met. On top of that we compute what json1 does
 * not report at all: concurrent text edits that overlap inside the same string.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import {
  editOp,
  type JSONOp,
  type JSONOpComponent,
  Json1ConflictType,
  json1,
  type Path,
  type TextOp,
  text,
} from './json1';
import { transformKeystrokes } from './keystroke';
import { eachComponent, hasDropOrEdit, hasPick } from './walk';

export type Side = 'left' | 'right';

/**
 * What kind of collision happened:
 * - `same-field-write`: both ops inserted / set a value at the same place (json1 DROP_COLLISION of two inserts)
 * - `move-collision`: a move landed where the other op also dropped something (DROP_COLLISION with a move)
 * - `delete-vs-edit`: one op removed a subtree the other edited or inserted into (RM_UNEXPECTED_CONTENT)
 * - `blackhole`: each op moved an item into the other's moved item (BLACKHOLE); both are removed
 * - `overlapping-text`: both ops edited overlapping ranges of the same string (merged, reported only)
 */
export type ConflictKind =
  | 'same-field-write'
  | 'move-collision'
  | 'delete-vs-edit'
  | 'blackhole'
  | 'overlapping-text';

/** How the conflict was resolved, from the point of view of the op being transformed. */
export type ConflictResolution = 'op-wins' | 'other-wins' | 'both-removed' | 'merged';

/** A text range in code points, `[start, end)`; an insert is the empty range at its position. */
export interface TextRange {
  start: number;
  end: number;
}

export interface TransformConflict {
  kind: ConflictKind;
  /** json1's conflict type (1 RM_UNEXPECTED_CONTENT, 2 DROP_COLLISION, 3 BLACKHOLE); null for overlapping text. */
  json1Type: Json1ConflictType | null;
  /**
   * Where the conflicting part of `op` acts: its drop/edit location if it has one (a path in the
   * document after `op`), else its pick/remove location (a path in the document before `op`) —
   * json1's own coordinates for each half of an op. Text overlaps use the string's path before both.
   */
  opPath: Path;
  /** Where the conflicting part of `other` acts. */
  otherPath: Path;
  /** The conflicting part of `op` (json1's `conflict.op1`, or the text edit for overlapping text). */
  op: JSONOp;
  /** The conflicting part of `other`. */
  other: JSONOp;
  resolution: ConflictResolution;
  /** For `overlapping-text`: the ranges (code points, in the string before either edit) that overlap. */
  opRanges?: TextRange[];
  otherRanges?: TextRange[];
}

export interface TransformResult {
  /** `op` transformed so it applies after `other`. */
  op: JSONOp;
  conflicts: TransformConflict[];
}

interface Json1Conflict {
  type: Json1ConflictType;
  op1: JSONOp;
  op2: JSONOp;
}

/**
 * Each resolution removes at least one conflicting component, so the loop ends quickly; the bound
 * only guards against a json1 bug turning into an endless loop.
 */
const MAX_CONFLICT_ROUNDS = 1000;

/** Transform `op` so it applies after `other`, resolving every conflict deterministically. */
export function transformWithConflicts(op: JSONOp, other: JSONOp, side: Side): TransformResult {
  const conflicts: TransformConflict[] = [];
  const result = run(op, other, side, conflicts);
  if (op !== null && other !== null) for (const c of textOverlaps(op, other)) conflicts.push(c);
  return { op: result, conflicts };
}

/**
 * The plain transform: the op only (the same op `transformWithConflicts` returns, without the cost
 * of describing conflicts). Throws only for malformed ops (INVALID_OP), never on conflicts.
 */
export function transform(op: JSONOp, other: JSONOp, side: Side): JSONOp {
  return run(op, other, side, null);
}

/** json1's resolve-and-retry loop; pushes a description of each conflict when `conflicts` is given. */
function run(op: JSONOp, other: JSONOp, side: Side, conflicts: TransformConflict[] | null): JSONOp {
  if (op === null || other === null) return op;
  let keystroke: JSONOp | undefined;
  try {
    keystroke = transformKeystrokes(op, other, side);
  } catch (e) {
    throw cannotTransform(e);
  }
  if (keystroke !== undefined) return keystroke;
  let op1: JSONOp = op;
  let op2: JSONOp = other;
  let r2Aggregate: JSONOp = null;
  for (let round = 0; round < MAX_CONFLICT_ROUNDS; round++) {
    const res = tryTransform(op1, op2, side);
    if (res.ok) return r2Aggregate === null ? res.result : json1.compose(r2Aggregate, res.result);
    const conflict = res.conflict as Json1Conflict;
    if (conflicts !== null) conflicts.push(describe(conflict, side));
    const [r1, r2] = resolve(conflict, side);
    op1 = json1.compose(json1.normalize(op1), r1);
    op2 = json1.compose(json1.normalize(op2), r2);
    r2Aggregate = json1.compose(r2Aggregate, r2);
  }
  throw new TandemError(ErrorCode.INTERNAL, 'transform did not settle its conflicts', {
    op: op as unknown,
    other: other as unknown,
    side,
  });
}

function tryTransform(op1: JSONOp, op2: JSONOp, side: Side): ReturnType<typeof json1.tryTransform> {
  try {
    return json1.tryTransform(op1, op2, side);
  } catch (e) {
    // json1 only throws here for ops that fail its shape checks.
    throw cannotTransform(e);
  }
}

function cannotTransform(e: unknown): TandemError {
  const reason = (e as Error).message;
  return new TandemError(ErrorCode.INVALID_OP, `cannot transform: ${reason}`, { path: [], reason });
}

/** An op that removes whatever `op` dropped, inserted or edited (json1's `opThatRemovesDE`). */
function removeDropsAndEdits(op: JSONOp): JSONOp {
  const w = json1.writeCursor();
  json1.readCursor(op).traverse(w, (c, wc) => {
    if (hasDropOrEdit(c)) wc.write('r', true);
  });
  return w.get();
}

/** json1's own resolution policy, so results match the transform its fuzzer verifies. */
function resolve(conflict: Json1Conflict, side: Side): [JSONOp, JSONOp] {
  switch (conflict.type) {
    case Json1ConflictType.DROP_COLLISION:
      // The left op wins the slot; the right op's drop is removed.
      return side === 'left'
        ? [null, removeDropsAndEdits(conflict.op2)]
        : [removeDropsAndEdits(conflict.op1), null];
    case Json1ConflictType.RM_UNEXPECTED_CONTENT:
      // The remove wins: content the other op put inside the removed subtree goes with it.
      return hasRemove(conflict.op1)
        ? [null, removeDropsAndEdits(conflict.op2)]
        : [removeDropsAndEdits(conflict.op1), null];
    default:
      // BLACKHOLE: there is nowhere sensible to put the moved items, so both are removed.
      return [removeDropsAndEdits(conflict.op1), removeDropsAndEdits(conflict.op2)];
  }
}

function hasRemove(op: JSONOp): boolean {
  let found = false;
  eachComponent(op, (c) => {
    if (c.r !== undefined) found = true;
  });
  return found;
}

/** The path where a conflict op acts: its first drop/edit, else its first pick/remove. */
function actingPath(op: JSONOp): Path {
  let drop: Path | null = null;
  let pick: Path | null = null;
  eachComponent(op, (c, path) => {
    if (drop === null && hasDropOrEdit(c)) drop = path;
    if (pick === null && hasPick(c)) pick = path;
  });
  return drop ?? pick ?? [];
}

function isMove(op: JSONOp): boolean {
  let found = false;
  eachComponent(op, (c) => {
    if (c.d !== undefined || c.p !== undefined) found = true;
  });
  return found;
}

function describe(conflict: Json1Conflict, side: Side): TransformConflict {
  const base = {
    json1Type: conflict.type,
    opPath: actingPath(conflict.op1),
    otherPath: actingPath(conflict.op2),
    op: conflict.op1,
    other: conflict.op2,
  };
  switch (conflict.type) {
    case Json1ConflictType.DROP_COLLISION:
      return {
        ...base,
        kind: isMove(conflict.op1) || isMove(conflict.op2) ? 'move-collision' : 'same-field-write',
        resolution: side === 'left' ? 'op-wins' : 'other-wins',
      };
    case Json1ConflictType.RM_UNEXPECTED_CONTENT:
      return {
        ...base,
        kind: 'delete-vs-edit',
        resolution: hasRemove(conflict.op1) ? 'op-wins' : 'other-wins',
      };
    default:
      return { ...base, kind: 'blackhole', resolution: 'both-removed' };
  }
}

// ---- overlapping text ------------------------------------------------------------------------

interface TextEdit {
  /** Path of the edited string in the document before the op. */
  path: Path;
  edit: TextOp;
}

/** Text edits of `op`, keyed by the path of their string in the document *before* `op`. */
function textEdits(op: JSONOp): TextEdit[] {
  const edits: { path: Path; edit: TextOp }[] = [];
  let structural = false;
  eachComponent(op, (c: JSONOpComponent, path) => {
    if (c.es !== undefined && c.i === undefined) edits.push({ path, edit: c.es as TextOp });
    if (hasPick(c) || c.d !== undefined || c.i !== undefined) structural = true;
  });
  if (!structural || edits.length === 0) return edits;
  // Edits sit at drop-side paths; map them back through the inverse of the op's structure.
  const inverse = structureInverse(op);
  const mapped: TextEdit[] = [];
  for (const e of edits) {
    const path = json1.transformPosition(e.path, inverse);
    if (path !== null) mapped.push({ path, edit: e.edit });
  }
  return mapped;
}

/** The inverse of `op`'s picks and drops only (content placeholders are fine for path mapping). */
function structureInverse(op: JSONOp): JSONOp {
  const w = json1.writeCursor();
  json1.readCursor(op).traverse(w, (c, wc) => {
    if (c.p !== undefined) wc.write('p', c.p);
    if (c.d !== undefined) wc.write('d', c.d);
    if (c.r !== undefined) wc.write('r', true);
    if (c.i !== undefined) wc.write('i', true);
  });
  return json1.invert(w.get());
}

/** Deleted ranges and insert points of a text op, in code points of the string before it. */
function rangesOf(edit: TextOp): TextRange[] {
  const ranges: TextRange[] = [];
  let pos = 0;
  for (const c of edit) {
    if (typeof c === 'number') pos += c;
    else if (typeof c === 'string') ranges.push({ start: pos, end: pos });
    else {
      const len = typeof c.d === 'number' ? c.d : [...c.d].length;
      ranges.push({ start: pos, end: pos + len });
      pos += len;
    }
  }
  return ranges;
}

/** Two edits overlap when deletes intersect, an insert lands inside a delete, or both insert at one point. */
function overlaps(a: TextRange, b: TextRange): boolean {
  const aPoint = a.start === a.end;
  const bPoint = b.start === b.end;
  if (aPoint && bPoint) return a.start === b.start;
  if (aPoint) return b.start < a.start && a.start < b.end;
  if (bPoint) return a.start < b.start && b.start < a.end;
  return a.start < b.end && b.start < a.end;
}

const samePath = (a: Path, b: Path): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

function textOverlaps(op: JSONOp, other: JSONOp): TransformConflict[] {
  const mine = textEdits(op);
  if (mine.length === 0) return [];
  const theirs = textEdits(other);
  const found: TransformConflict[] = [];
  for (const a of mine) {
    for (const b of theirs) {
      if (!samePath(a.path, b.path)) continue;
      const ra = rangesOf(a.edit);
      const rb = rangesOf(b.edit);
      const opRanges = ra.filter((x) => rb.some((y) => overlaps(x, y)));
      if (opRanges.length === 0) continue;
      found.push({
        kind: 'overlapping-text',
        json1Type: null,
        opPath: a.path,
        otherPath: b.path,
        op: editOp(a.path, text, a.edit),
        other: editOp(b.path, text, b.edit),
        resolution: 'merged',
        opRanges,
        otherRanges: rb.filter((y) => ra.some((x) => overlaps(x, y))),
      });
    }
  }
  return found;
}

/**
 * Classification, pure: transform an incoming op over the concurrent ops it had not seen (exactly as
 * the ShareDB server does: incoming op on the left) and keep every real collision, with its kind and
 * severity. Detection itself is @tandem/ot's `transformWithConflicts`; this module only names it.
 */
import {
  type JSONOp,
  type Path,
  type TextRange,
  type TransformConflict,
  transformWithConflicts,
} from '@tandem/ot';
import type { ConflictKind, Resolution, Severity } from './types';

/** A committed op the incoming op is transformed over. */
export interface ConcurrentOp {
  op: JSONOp;
  /** The version the op was committed at (it applied to version `version`). */
  version: number;
  author: string;
}

/** One collision between the incoming op and one concurrent op. */
export interface Collision {
  kind: ConflictKind;
  severity: Severity;
  path: Path;
  otherPath: Path;
  /** The conflicting parts of each op. */
  op: JSONOp;
  other: JSONOp;
  otherVersion: number;
  otherAuthor: string;
  /** OT's outcome, for the incoming op. */
  resolution: Resolution;
  opRanges?: TextRange[];
  otherRanges?: TextRange[];
}

export interface Classification {
  /** The incoming op transformed over every concurrent op (what ShareDB commits). */
  op: JSONOp;
  collisions: Collision[];
}

const KIND: Record<TransformConflict['kind'], ConflictKind> = {
  'same-field-write': 'same-field-write',
  'delete-vs-edit': 'delete-vs-edit',
  'move-collision': 'move-collision',
  blackhole: 'move-cycle',
  'overlapping-text': 'overlapping-text',
};

const isPoint = (r: TextRange): boolean => r.start === r.end;

/** high: content removed or overwritten; medium: moved or overlapping; low: concurrent, both kept. */
export function severityOf(conflict: TransformConflict): Severity {
  switch (conflict.kind) {
    case 'same-field-write':
    case 'delete-vs-edit':
    case 'blackhole':
      return 'high';
    case 'move-collision':
      return 'medium';
    case 'overlapping-text': {
      // Two inserts at one point keep both texts; any delete in the overlap removes someone's text.
      const bothKept =
        (conflict.opRanges ?? []).every(isPoint) && (conflict.otherRanges ?? []).every(isPoint);
      return bothKept ? 'low' : 'medium';
    }
  }
}

function toCollision(c: TransformConflict, other: ConcurrentOp): Collision {
  const collision: Collision = {
    kind: KIND[c.kind],
    severity: severityOf(c),
    path: c.opPath,
    otherPath: c.otherPath,
    op: c.op,
    other: c.other,
    otherVersion: other.version,
    otherAuthor: other.author,
    resolution: c.resolution,
  };
  if (c.opRanges !== undefined) collision.opRanges = c.opRanges;
  if (c.otherRanges !== undefined) collision.otherRanges = c.otherRanges;
  return collision;
}

/** Transform `op` over `concurrent` (in commit order) and collect the collisions. */
export function classify(op: JSONOp, concurrent: readonly ConcurrentOp[]): Classification {
  let current = op;
  const collisions: Collision[] = [];
  for (const other of concurrent) {
    const result = transformWithConflicts(current, other.op, 'left');
    for (const c of result.conflicts) collisions.push(toCollision(c, other));
    current = result.op;
  }
  return { op: current, collisions };
}

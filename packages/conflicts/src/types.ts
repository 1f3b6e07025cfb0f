/** The plain data of @tandem/conflicts: records, kinds, severities, policies. JSON-safe throughout. */
import type { Doc, JSONOp, Path, TextRange } from '@tandem/ot';

/** What a path rule does when a conflict lands on it. */
export type PolicyName = 'merge' | 'last-writer-wins' | 'reject' | 'manual';

/**
 * - `same-field-write`: two writes/replaces of one key
 * - `delete-vs-edit`: an edit inside content the other op removed
 * - `move-collision`: two inserts/moves into one slot, at least one a move
 * - `move-cycle`: each op moved an item into the other's (json1 blackhole); both are removed
 * - `overlapping-text`: concurrent text edits whose ranges overlap in one string
 * - `locked-path`: the op touched a subtree locked by someone else and was refused
 */
export type ConflictKind =
  | 'same-field-write'
  | 'delete-vs-edit'
  | 'move-collision'
  | 'move-cycle'
  | 'overlapping-text'
  | 'locked-path';

/** high: content removed or overwritten; medium: moved or overlapping; low: concurrent but both kept. */
export type Severity = 'high' | 'medium' | 'low';

/**
 * How a conflict ended, from the incoming (later) op's point of view:
 * `op-wins` / `other-wins` / `both-removed` / `merged` are OT's own outcome (policy `merge`);
 * `last-writer-wins` the later op took the whole field; `kept-committed` the committed value stayed
 * (policy `manual`, open until resolved); `rejected` the op was refused (policy `reject`, or a lock);
 * `chosen` a user resolved a manual conflict.
 */
export type Resolution =
  | 'op-wins'
  | 'other-wins'
  | 'both-removed'
  | 'merged'
  | 'last-writer-wins'
  | 'kept-committed'
  | 'rejected'
  | 'chosen';

/** One side of a conflict. */
export interface ConflictSide {
  /** Principal id (`agent.custom.principal.id`), else the ShareDB client id. */
  author: string;
  /** For the incoming op: the version it was committed (or refused) at; for the other: its version. */
  version: number;
  /** The conflicting part of the op (the whole op for `locked-path`). */
  op: JSONOp;
  /** Text ranges involved, for `overlapping-text` (code points, in the string before either edit). */
  ranges?: TextRange[];
}

export interface ConflictRecord {
  id: string;
  collection: string;
  docId: string;
  kind: ConflictKind;
  /** Where the incoming op acted. */
  path: Path;
  /** Where the other op acted (the locked path for `locked-path`). */
  otherPath: Path;
  severity: Severity;
  /** The incoming op: its author, the version it was committed at, its conflicting part. */
  op: ConflictSide & { baseVersion: number };
  /** The concurrent op it was transformed over (for `locked-path`: the lock owner, version = op's). */
  other: ConflictSide;
  /** Every author involved, deduplicated. */
  authors: string[];
  /** The policy that handled it and the rule pattern that selected it (null: the default). */
  policy: PolicyName;
  rule: string | null;
  /** The field the policy acted on (for last-writer-wins and manual). */
  field?: Path;
  /** Values of `field` for last-writer-wins and manual; absent when the field did not exist. */
  committedValue?: Doc;
  incomingValue?: Doc;
  /** True unless a manual conflict is waiting for a user. */
  resolved: boolean;
  resolution: Resolution;
  status: 'open' | 'resolved';
  createdAt: number;
  resolvedAt?: number;
  resolvedBy?: string;
  /** For a resolved manual conflict: which value was kept. */
  choice?: 'committed' | 'incoming' | 'value';
}

/** The plain data of @tandem/conflicts: records, kinds, severities, policies. JSON-safe throughout. */
import type { Doc, JSONOp, Path, TextRange } from '@tandem/ot';
import type { ConflictKind, ConflictSeverity } from '@tandem/protocol';

/** What a path rule does when a conflict lands on it. */
export type PolicyName = 'merge' | 'last-writer-wins' | 'reject' | 'manual';

export type { ConflictKind } from '@tandem/protocol';

/** high: content removed or overwritten; medium: moved or overlapping; low: concurrent but both kept. */
export type Severity = ConflictSeverity;

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

/** Building conflict records from collisions and policy outcomes (pure). */
import type { JSONOp, Path } from '@tandem/ot';
import type { Lock } from './locks';
import { formatPath } from './paths';
import type { Decision, FieldOutcome } from './settle';
import type { ConflictRecord } from './types';

/** Where and by whom: the same for every record of one incoming op. */
export interface RecordContext {
  collection: string;
  docId: string;
  author: string;
  /** The version the incoming op was committed (or refused) at. */
  version: number;
  baseVersion: number;
  now: number;
  newId: () => string;
}

const unique = (xs: readonly string[]): string[] => [...new Set(xs)];

/** One record per decided collision; `rejected` marks every record of a refused op. */
export function collisionRecord(
  ctx: RecordContext,
  { collision: c, match }: Decision,
  field: FieldOutcome | undefined,
  rejected: boolean,
): ConflictRecord {
  const record: ConflictRecord = {
    id: ctx.newId(),
    collection: ctx.collection,
    docId: ctx.docId,
    kind: c.kind,
    path: c.path,
    otherPath: c.otherPath,
    severity: c.severity,
    op: { author: ctx.author, version: ctx.version, baseVersion: ctx.baseVersion, op: c.op },
    other: { author: c.otherAuthor, version: c.otherVersion, op: c.other },
    authors: unique([ctx.author, c.otherAuthor]),
    policy: match.policy,
    rule: match.rule,
    resolved: true,
    resolution: c.resolution,
    status: 'resolved',
    createdAt: ctx.now,
  };
  if (c.opRanges !== undefined) record.op.ranges = c.opRanges;
  if (c.otherRanges !== undefined) record.other.ranges = c.otherRanges;
  if (rejected) {
    record.resolution = 'rejected';
    return record;
  }
  if (field?.applied) {
    record.field = field.field;
    if (field.committed !== undefined) record.committedValue = field.committed;
    if (field.incoming !== undefined) record.incomingValue = field.incoming;
    if (match.policy === 'last-writer-wins') record.resolution = 'last-writer-wins';
    else {
      record.resolution = 'kept-committed';
      record.resolved = false;
      record.status = 'open';
    }
  }
  return record;
}

export function lockRecord(ctx: RecordContext, lock: Lock, op: JSONOp, path: Path): ConflictRecord {
  return {
    id: ctx.newId(),
    collection: ctx.collection,
    docId: ctx.docId,
    kind: 'locked-path',
    path,
    otherPath: lock.path,
    severity: 'high',
    op: { author: ctx.author, version: ctx.version, baseVersion: ctx.baseVersion, op },
    other: { author: lock.owner, version: ctx.version, op: null },
    authors: unique([ctx.author, lock.owner]),
    policy: 'reject',
    rule: formatPath(lock.path),
    resolved: true,
    resolution: 'rejected',
    status: 'resolved',
    createdAt: ctx.now,
  };
}

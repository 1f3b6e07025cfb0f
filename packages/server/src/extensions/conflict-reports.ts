/**
 * Conflict reports to the users concerned, on every server process. @tandem/conflicts produces a
 * record on the process that committed (or refused) the op, but the other author may be connected
 * to another process; so the report is published on Tandem's events channel (events.ts) and every
 * process hands it to its own connections of the authors.
 */
import type { ConflictRecord } from '@tandem/conflicts';
import type { ConflictReport } from '@tandem/protocol';

/**
 * The record as clients see it: no ops (clients read history for those). Typed field by field, so a
 * kind, policy or severity @tandem/conflicts adds fails to compile here until the wire names it.
 */
export function toReport(record: ConflictRecord): ConflictReport {
  const report: ConflictReport = {
    id: record.id,
    collection: record.collection,
    docId: record.docId,
    kind: record.kind,
    path: record.path,
    otherPath: record.otherPath,
    severity: record.severity,
    authors: record.authors,
    policy: record.policy,
    rule: record.rule,
    resolved: record.resolved,
    resolution: record.resolution,
    status: record.status,
    versions: { op: record.op.version, base: record.op.baseVersion, other: record.other.version },
    createdAt: record.createdAt,
  };
  if (record.field !== undefined) report.field = record.field;
  if ('committedValue' in record) report.committedValue = record.committedValue;
  if ('incomingValue' in record) report.incomingValue = record.incomingValue;
  return report;
}

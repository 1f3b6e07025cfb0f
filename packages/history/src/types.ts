/** Plain data shared by the history modules: what an op's metadata holds and what queries return. */
import type { JSONOp } from '@tandem/ot';
import type { OpAuthor } from '@tandem/protocol';

export type { OpAuthor };

/** Who is acting: the authenticated principal the server puts on `agent.custom.principal`. */
export interface Actor {
  id: string;
  name?: string;
  /** The session the action comes from (`agent.custom.sessionId`). */
  sessionId?: string;
}

/**
 * What Tandem stamps into every committed op's `m` (ShareDB stores `m` with the op and returns it
 * to `getOps(..., { metadata: true })`). `ts` is ShareDB's own commit timestamp.
 */
export interface OpMeta {
  ts: number;
  /** Absent on ops committed before history was installed. */
  author?: OpAuthor;
  session?: string;
  message?: string;
  intent?: string;
  /** For undo ops: the version of the op they undo. */
  undoes?: number;
  /** For reverts: the version the document was reverted to. */
  revertTo?: number;
}

/** One committed op as read back from the database. */
export interface StoredOp {
  /** The version the op applies to (it produces version `v + 1`). */
  v: number;
  op?: JSONOp;
  create?: { type: string; data?: unknown };
  del?: boolean;
  m?: Partial<OpMeta> & Record<string, unknown>;
  src?: string;
  seq?: number;
}

/** A document at a version. `type === null` means not created yet (or deleted). */
export interface VersionedSnapshot {
  v: number;
  type: string | null;
  data: unknown;
}

/** Text and structure an op changed, for history lists. */
export interface OpSummary {
  kind: 'create' | 'edit' | 'delete';
  /** Paths of every component, deduplicated, in op order. */
  paths: (string | number)[][];
  /** Code points inserted / removed in strings. */
  textInserted: number;
  textRemoved: number;
  /** Short samples of inserted / removed text (first characters), for display. */
  insertedSample: string;
  removedSample: string;
}

export interface HistoryEntry {
  /** Version the op produced (the document's version right after it). */
  version: number;
  author: OpAuthor | null;
  session: string | null;
  ts: number;
  message: string | null;
  intent: string | null;
  summary: OpSummary;
}

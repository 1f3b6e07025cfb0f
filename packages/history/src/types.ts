/** Plain data shared by the history modules: what an op's metadata holds and what queries return. */
import type { JSONOp } from '@tandem/ot';
import type * as Wire from '@tandem/protocol';
import type { OpAuthor } from '@tandem/protocol';

// What history's calls return is defined once, in @tandem/protocol, for the server and the client.
export type {
  BlameRange,
  BlameResult,
  DocRef,
  ForkRecord,
  HistoryEntry,
  HistoryPage,
  MergeRecord,
  NamedVersion,
  OpAuthor,
  OpSummary,
  PageQuery,
  Submitted,
  VerifyReport,
  VersionCheck,
  VersionedSnapshot,
} from '@tandem/protocol';
export type Owner = Wire.BlameOwner;
export type VersionDiff = Wire.VersionDiff<JSONOp>;

/** Who is acting: the authenticated principal the server puts on `agent.custom.principal`. */
export interface Actor {
  id: string;
  name?: string;
  /** The session the action comes from (`agent.custom.sessionId`). */
  sessionId?: string;
  /**
   * The whole principal the host authenticated (roles, grants, tenant, …), carried as is onto the
   * agent that submits for this actor, so the host's `authorize` hook (and every other middleware)
   * sees this user exactly as on their own socket. Its `id` is the actor's `id`.
   * @default `{ id, name }`
   */
  principal?: { readonly id: string };
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
  /** Plain text: the author's own (a client's `x.source`), or history's for its own ops. */
  message?: string;
  /** The client's (plain text), or one of history's own (`revert`, `undo`, `fork`, `merge`) on its ops only. */
  intent?: string;
  /** For undo ops: the version of the op they undo (history's own ops only). */
  undoes?: number;
  /** For reverts: the version the document was reverted to (history's own ops only). */
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

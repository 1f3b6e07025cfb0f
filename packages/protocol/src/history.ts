/**
 * What @tandem/history's calls return, as they travel on the wire. The server's history package and
 * the client both use these, so the two cannot drift. Types that carry an op or a collision are
 * generic because this package knows neither the document type nor conflict classification.
 */
import type { OpAuthor } from './messages';

/** A path into a JSON document. */
export type DocPath = (string | number)[];

/** A document address. */
export interface DocRef {
  collection: string;
  id: string;
}

/** A document at a version. `type === null` means not created yet (or deleted). */
export interface VersionedSnapshot<T = unknown> {
  v: number;
  type: string | null;
  data: T;
}

/** Text and structure an op changed, for history lists. */
export interface OpSummary {
  kind: 'create' | 'edit' | 'delete';
  /** Paths of every component, deduplicated, in op order. */
  paths: DocPath[];
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

export interface PageQuery {
  /** Only ops that produced a version below this one (a cursor: pass the previous page's `next`). @default the current version + 1 */
  before?: number;
  /** Entries per page, capped by the server's `maxPageSize`. @default 50 */
  limit?: number;
  /** Only ops by this author id. */
  author?: string;
  /** Only ops committed at or after this time (ms since the epoch). */
  since?: number;
  /** Only ops committed at or before this time. */
  until?: number;
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryEntry[];
  /** Cursor for the next (older) page, or null when there is none. */
  next: number | null;
}

export interface NamedVersion {
  label: string;
  description: string;
  author: OpAuthor | null;
  /** When the label was created (ms since the epoch). */
  createdAt: number;
  version: number;
  /** Hex SHA-256 of the canonical JSON of `{ type, data }` at `version`. */
  checksum: string;
}

export interface VersionCheck {
  label: string;
  version: number;
  expected: string;
  actual: string | null;
  ok: boolean;
  /** What was checked: a replay of the op log, or (below a compaction cut-off) the saved milestone. */
  source: 'ops' | 'milestone';
}

export interface VerifyReport {
  ok: boolean;
  /** Replay started here (0, or the compaction cut-off). */
  from: number;
  versions: VersionCheck[];
  /** Does replaying every op give the stored current snapshot? */
  current: { version: number; ok: boolean };
  /** The first op that failed to apply, if any. */
  error: { version: number; message: string } | null;
}

export interface VersionDiff<Op = unknown> {
  from: number;
  to: number;
  /** Applies to the document at `from` and gives the document at `to` (null: no change). */
  op: Op;
  summary: OpSummary;
  /** Everyone who committed an op between the two versions, in order of first op. */
  authors: OpAuthor[];
}

/** Who wrote a stretch of characters. */
export interface BlameOwner {
  author: OpAuthor | null;
  /** The version the writing op produced. */
  version: number;
  ts: number;
}

/** A blamed range of the string, in code points, `[start, end)`. Ranges cover the string exactly once. */
export interface BlameRange extends BlameOwner {
  start: number;
  end: number;
}

export interface BlameResult {
  version: number;
  path: DocPath;
  /** The string blamed (at `version`). */
  text: string;
  ranges: BlameRange[];
}

export interface MergeRecord {
  /** Source version right after the merge (its op included, when there was one). */
  sourceVersion: number;
  /** Fork version merged (everything below it). */
  forkVersion: number;
  author: OpAuthor;
  mergedAt: number;
}

export interface ForkRecord {
  fork: DocRef;
  source: DocRef;
  /** Source version the fork was taken at. */
  version: number;
  author: OpAuthor;
  createdAt: number;
  /** Every merge back into the source, oldest first. */
  merges: MergeRecord[];
}

export interface MergeResult<Collision = unknown> {
  /** Source version the merge op was committed at; null when the fork changed nothing. */
  version: number | null;
  /** Collisions the merge resolved (classified like conflict reports). */
  collisions: Collision[];
}

/** An op history committed for the caller (revert, undo). */
export interface Submitted {
  /** The version the op was committed at (the document is at `version + 1` right after it). */
  version: number;
}

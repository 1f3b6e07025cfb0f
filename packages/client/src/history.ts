/**
 * `client.history(collection, id)`: @tandem/history's calls over the socket, one promise each. The
 * result types are the wire forms of @tandem/history's (the client never imports server code).
 */
import type { JSONOp } from '@tandem/ot';
import type { OpAuthor } from '@tandem/protocol';

type Path = (string | number)[];

/** What one op changed, for history lists. */
export interface OpSummary {
  kind: 'create' | 'edit' | 'delete';
  paths: Path[];
  textInserted: number;
  textRemoved: number;
  insertedSample: string;
  removedSample: string;
}

export interface HistoryEntry {
  /** The version the op produced. */
  version: number;
  author: OpAuthor | null;
  session: string | null;
  ts: number;
  message: string | null;
  intent: string | null;
  summary: OpSummary;
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryEntry[];
  /** Pass as `before` for the next (older) page; null when there is none. */
  next: number | null;
}

export interface PageQuery {
  before?: number;
  limit?: number;
  author?: string;
  since?: number;
  until?: number;
}

export interface VersionedSnapshot<T = unknown> {
  v: number;
  /** null: the document did not exist at that version. */
  type: string | null;
  data: T;
}

export interface NamedVersion {
  label: string;
  description: string;
  author: OpAuthor | null;
  createdAt: number;
  version: number;
  /** Hex SHA-256 of the canonical JSON of `{ type, data }` at `version`. */
  checksum: string;
}

export interface VerifyReport {
  ok: boolean;
  from: number;
  versions: {
    label: string;
    version: number;
    expected: string;
    actual: string | null;
    ok: boolean;
    source: 'ops' | 'milestone';
  }[];
  current: { version: number; ok: boolean };
  error: { version: number; message: string } | null;
}

export interface VersionDiff {
  from: number;
  to: number;
  op: JSONOp;
  summary: OpSummary;
  authors: OpAuthor[];
}

export interface BlameResult {
  version: number;
  path: Path;
  text: string;
  /** `[start, end)` in code points, covering `text` exactly once. */
  ranges: { start: number; end: number; author: OpAuthor | null; version: number; ts: number }[];
}

export interface DocRef {
  collection: string;
  id: string;
}

export interface ForkRecord {
  fork: DocRef;
  source: DocRef;
  version: number;
  author: OpAuthor;
  createdAt: number;
  merges: { sourceVersion: number; forkVersion: number; author: OpAuthor; mergedAt: number }[];
}

export interface MergeResult {
  /** The source version the merge op was committed at; null when the fork changed nothing. */
  version: number | null;
  /** Collisions the merge resolved (classified like conflict reports). */
  collisions: unknown[];
}

/** An op history committed for the caller (revert, undo); null when there was nothing to do. */
export type Submitted = { version: number } | null;

/** Sends one history call: `method` with `args: [{ collection, id, ...params }]`. */
export type HistoryCaller = (
  method: string,
  params: Record<string, unknown>,
  signal?: AbortSignal,
) => Promise<unknown>;

export class DocHistory {
  constructor(
    readonly collection: string,
    readonly id: string,
    private readonly send: HistoryCaller,
  ) {}

  private call<R>(method: string, params: Record<string, unknown> = {}, signal?: AbortSignal): Promise<R> {
    return this.send(method, { ...params, collection: this.collection, id: this.id }, signal) as Promise<R>;
  }

  /** Who changed what, newest first. */
  page(query: PageQuery = {}, signal?: AbortSignal): Promise<HistoryPage> {
    return this.call('page', { ...query }, signal);
  }

  snapshotAt<T = unknown>(version: number, signal?: AbortSignal): Promise<VersionedSnapshot<T>> {
    return this.call('snapshotAt', { version }, signal);
  }

  snapshotAtTime<T = unknown>(ts: number, signal?: AbortSignal): Promise<VersionedSnapshot<T>> {
    return this.call('snapshotAtTime', { ts }, signal);
  }

  /** Name the current (or a given) version; the server records a checksum of its snapshot. */
  createVersion(
    input: { label: string; description?: string; version?: number },
    signal?: AbortSignal,
  ): Promise<NamedVersion> {
    return this.call('createVersion', { ...input }, signal);
  }

  listVersions(signal?: AbortSignal): Promise<NamedVersion[]> {
    return this.call('listVersions', {}, signal);
  }

  getVersion(label: string, signal?: AbortSignal): Promise<NamedVersion> {
    return this.call('getVersion', { label }, signal);
  }

  versionSnapshot<T = unknown>(label: string, signal?: AbortSignal): Promise<VersionedSnapshot<T>> {
    return this.call('versionSnapshot', { label }, signal);
  }

  /** Replay the stored ops and check every named version's checksum (or only `label`'s). */
  verify(label?: string, signal?: AbortSignal): Promise<VerifyReport> {
    return this.call('verify', label === undefined ? {} : { label }, signal);
  }

  diff(from: number, to: number, signal?: AbortSignal): Promise<VersionDiff> {
    return this.call('diff', { from, to }, signal);
  }

  blame(path: Path, version?: number, signal?: AbortSignal): Promise<BlameResult> {
    return this.call('blame', version === undefined ? { path } : { path, version }, signal);
  }

  /** Make the document what it was at `version`, as a new op by the caller. */
  revert(version: number, message?: string, signal?: AbortSignal): Promise<Submitted> {
    return this.call('revert', message === undefined ? { version } : { version, message }, signal);
  }

  /** Undo the op that produced `version` (as numbered in `page`), transformed over everything after it. */
  undoOp(version: number, signal?: AbortSignal): Promise<Submitted> {
    return this.call('undoOp', { version }, signal);
  }

  /** Undo the last op of `author` (default: the caller's own), transformed over everything after it. */
  undoLast(author?: string, signal?: AbortSignal): Promise<Submitted> {
    return this.call('undoLast', author === undefined ? {} : { author }, signal);
  }

  /** Copy the document (at `version`, default the current one) into a new document with lineage. */
  fork(input: { version?: number; target?: DocRef } = {}, signal?: AbortSignal): Promise<ForkRecord> {
    const params: Record<string, unknown> = {};
    if (input.version !== undefined) params.version = input.version;
    if (input.target !== undefined) {
      params.targetCollection = input.target.collection;
      params.targetId = input.target.id;
    }
    return this.call('fork', params, signal);
  }

  /** This document is a fork: merge its edits back into its source (three-way, by OT). */
  merge(signal?: AbortSignal): Promise<MergeResult> {
    return this.call('merge', {}, signal);
  }
}

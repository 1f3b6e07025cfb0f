/**
 * `client.history(collection, id)`: @tandem/history's calls over the socket, one promise each. The
 * result types come from @tandem/protocol, where the server's history package gets them too.
 */
import type { JSONOp } from '@tandem/ot';
import type {
  BlameResult,
  DocPath,
  DocRef,
  ForkRecord,
  HistoryPage,
  MergeResult,
  NamedVersion,
  PageQuery,
  Submitted,
  VerifyReport,
  VersionDiff,
  VersionedSnapshot,
} from '@tandem/protocol';

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

  diff(from: number, to: number, signal?: AbortSignal): Promise<VersionDiff<JSONOp>> {
    return this.call('diff', { from, to }, signal);
  }

  blame(path: DocPath, version?: number, signal?: AbortSignal): Promise<BlameResult> {
    return this.call('blame', version === undefined ? { path } : { path, version }, signal);
  }

  /** Make the document what it was at `version`, as a new op by the caller. */
  revert(version: number, message?: string, signal?: AbortSignal): Promise<Submitted | null> {
    return this.call('revert', message === undefined ? { version } : { version, message }, signal);
  }

  /** Undo the op that produced `version` (as numbered in `page`), transformed over everything after it. */
  undoOp(version: number, signal?: AbortSignal): Promise<Submitted | null> {
    return this.call('undoOp', { version }, signal);
  }

  /** Undo the last op of `author` (default: the caller's own), transformed over everything after it. */
  undoLast(author?: string, signal?: AbortSignal): Promise<Submitted | null> {
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

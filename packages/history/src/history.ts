/**
 * installHistory: plug history into a ShareDB backend. Adds the authorship middleware and returns
 * the History API, a thin facade binding each module's functions to this backend and options.
 */
import type { Path } from '@tandem/ot';
import type ShareDB from 'sharedb';
import { installAuthorship } from './authorship';
import { blame } from './blame';
import { page } from './browse';
import { type CompactResult, compact } from './compaction';
import type { HistoryContext } from './context';
import { diffVersions } from './diff';
import { type ForkInput, fork, getLineage, type MergeResult, merge } from './fork';
import { HistoryIO } from './io';
import { type HistoryOptions, resolveOptions } from './options';
import { type RevertOptions, revert, undoLastBy, undoOp } from './revert';
import { currentSnapshot, snapshotAt, snapshotAtTime } from './time-travel';
import type {
  Actor,
  BlameResult,
  DocRef,
  ForkRecord,
  HistoryPage,
  NamedVersion,
  PageQuery,
  Submitted,
  VerifyReport,
  VersionDiff,
  VersionedSnapshot,
} from './types';
import { verify } from './verify';
import {
  type CreateVersionInput,
  createVersion,
  getVersion,
  listVersions,
  versionSnapshot,
} from './versions';

export interface History {
  /** Paged history, newest first. */
  page(ref: DocRef, query?: PageQuery): Promise<HistoryPage>;
  current(ref: DocRef): Promise<VersionedSnapshot>;
  snapshotAt(ref: DocRef, version: number): Promise<VersionedSnapshot>;
  snapshotAtTime(ref: DocRef, ts: number): Promise<VersionedSnapshot>;
  createVersion(ref: DocRef, actor: Actor, input: CreateVersionInput): Promise<NamedVersion>;
  listVersions(ref: DocRef): Promise<NamedVersion[]>;
  getVersion(ref: DocRef, label: string): Promise<NamedVersion>;
  versionSnapshot(ref: DocRef, label: string): Promise<VersionedSnapshot>;
  /** Replay the stored ops and check every named version's checksum and the current snapshot. */
  verify(ref: DocRef, label?: string): Promise<VerifyReport>;
  diff(ref: DocRef, from: number, to: number): Promise<VersionDiff>;
  blame(ref: DocRef, path: Path, version?: number): Promise<BlameResult>;
  revert(ref: DocRef, actor: Actor, version: number, options?: RevertOptions): Promise<Submitted | null>;
  undoOp(ref: DocRef, actor: Actor, version: number): Promise<Submitted | null>;
  /** Undo the last op of `authorId` (default: the actor's own). */
  undoLast(ref: DocRef, actor: Actor, authorId?: string): Promise<Submitted | null>;
  fork(ref: DocRef, actor: Actor, input?: ForkInput): Promise<ForkRecord>;
  lineage(fork: DocRef): Promise<ForkRecord | undefined>;
  merge(fork: DocRef, actor: Actor): Promise<MergeResult>;
  /** Delete ops below `before` (needs the DB's `deleteOpsBefore` capability). */
  compact(ref: DocRef, before: number): Promise<CompactResult>;
}

export function installHistory(backend: ShareDB, options: HistoryOptions = {}): History {
  const resolved = resolveOptions(options);
  const ctx: HistoryContext = { io: new HistoryIO(backend, resolved.trustAgent), options: resolved };
  installAuthorship(backend, ctx.options);
  return {
    page: (ref, query) => page(ctx, ref, query),
    current: (ref) => currentSnapshot(ctx, ref),
    snapshotAt: (ref, version) => snapshotAt(ctx, ref, version),
    snapshotAtTime: (ref, ts) => snapshotAtTime(ctx, ref, ts),
    createVersion: (ref, actor, input) => createVersion(ctx, ref, actor, input),
    listVersions: (ref) => listVersions(ctx, ref),
    getVersion: (ref, label) => getVersion(ctx, ref, label),
    versionSnapshot: (ref, label) => versionSnapshot(ctx, ref, label),
    verify: (ref, label) => verify(ctx, ref, label),
    diff: (ref, from, to) => diffVersions(ctx, ref, from, to),
    blame: (ref, path, version) => blame(ctx, ref, path, version),
    revert: (ref, actor, version, opts) => revert(ctx, ref, actor, version, opts),
    undoOp: (ref, actor, version) => undoOp(ctx, ref, actor, version),
    undoLast: (ref, actor, authorId) => undoLastBy(ctx, ref, actor, authorId ?? actor.id),
    fork: (ref, actor, input) => fork(ctx, ref, actor, input),
    lineage: (ref) => getLineage(ctx, ref),
    merge: (ref, actor) => merge(ctx, ref, actor),
    compact: (ref, before) => compact(ctx, ref, before),
  };
}

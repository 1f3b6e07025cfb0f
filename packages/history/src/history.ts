/**
 * installHistory: plug history into a ShareDB backend. Adds the authorship middleware and returns
 * the History API, a thin facade binding each module's functions to this backend and options.
 */
import type { Path } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
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

/** An actor whose principal is someone else would write as one user and be authorized as another. */
function checked(actor: Actor): Actor {
  if (actor.principal !== undefined && actor.principal.id !== actor.id)
    throw new TandemError(ErrorCode.INTERNAL, "an actor's principal must have the actor's id");
  return actor;
}

export function installHistory(backend: ShareDB, options: HistoryOptions = {}): History {
  const resolved = resolveOptions(options);
  const ctx: HistoryContext = { io: new HistoryIO(backend, resolved.trustAgent), options: resolved };
  installAuthorship(backend, ctx.options, ctx.io.stamps);
  return {
    page: (ref, query) => page(ctx, ref, query),
    current: (ref) => currentSnapshot(ctx, ref),
    snapshotAt: (ref, version) => snapshotAt(ctx, ref, version),
    snapshotAtTime: (ref, ts) => snapshotAtTime(ctx, ref, ts),
    createVersion: async (ref, actor, input) => createVersion(ctx, ref, checked(actor), input),
    listVersions: (ref) => listVersions(ctx, ref),
    getVersion: (ref, label) => getVersion(ctx, ref, label),
    versionSnapshot: (ref, label) => versionSnapshot(ctx, ref, label),
    verify: (ref, label) => verify(ctx, ref, label),
    diff: (ref, from, to) => diffVersions(ctx, ref, from, to),
    blame: (ref, path, version) => blame(ctx, ref, path, version),
    revert: async (ref, actor, version, opts) => revert(ctx, ref, checked(actor), version, opts),
    undoOp: async (ref, actor, version) => undoOp(ctx, ref, checked(actor), version),
    undoLast: async (ref, actor, authorId) => undoLastBy(ctx, ref, checked(actor), authorId ?? actor.id),
    fork: async (ref, actor, input) => fork(ctx, ref, checked(actor), input),
    lineage: (ref) => getLineage(ctx, ref),
    merge: async (ref, actor) => merge(ctx, ref, checked(actor)),
    compact: (ref, before) => compact(ctx, ref, before),
  };
}

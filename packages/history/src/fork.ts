/**
 * Fork and merge. A fork is a new document created from a version of another, with its lineage
 * recorded in the forks collection. Merging transforms the fork's ops since the fork over the
 * source's ops since the fork point (a three-way merge by OT) and commits the result to the source
 * as one op by the merger, reporting every collision the transform resolved.
 */
import { randomUUID } from 'node:crypto';
import { type Collision, type ConcurrentOp, classify } from '@tandem/conflicts';
import { compose, type Doc, diff, insert, type JSONOp, transform } from '@tandem/ot';
import type * as Wire from '@tandem/protocol';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { authorOfActor } from './actor';
import { type HistoryContext, readAll } from './context';
import { readRecord, recordKey, updateRecord } from './records';
import { scanOps } from './scan';
import { currentSnapshot, snapshotAt } from './time-travel';
import type { Actor, DocRef, ForkRecord, MergeRecord, OpAuthor } from './types';

export interface ForkInput {
  /** @default the current version */
  version?: number;
  /** Where to create the fork. @default same collection, id `<id>~fork-<random>` */
  target?: DocRef;
}

/**
 * A collision the merge resolved, classified by @tandem/conflicts: the fork's edit (`path`, `op`)
 * against one source op (`otherPath`, `other`, `otherVersion`, `otherAuthor`); `resolution` is
 * from the fork's point of view ('op-wins': the fork's edit was kept).
 */
export type MergeResult = Wire.MergeResult<MergeCollision>;

export interface MergeCollision extends Collision {
  /** Everyone whose fork ops were merged (the fork side is merged as one composed op). */
  forkAuthors: OpAuthor[];
}

/** Where a fork goes when no target is given: same collection, id `<id>~fork-<random>`. */
export function defaultForkRef(source: DocRef): DocRef {
  return { collection: source.collection, id: `${source.id}~fork-${randomUUID().slice(0, 8)}` };
}

export function getLineage(ctx: HistoryContext, fork: DocRef): Promise<ForkRecord | undefined> {
  return readRecord<ForkRecord>(ctx, ctx.options.forksCollection, recordKey(fork));
}

export async function fork(
  ctx: HistoryContext,
  source: DocRef,
  actor: Actor,
  input: ForkInput = {},
): Promise<ForkRecord> {
  const version = input.version ?? (await currentSnapshot(ctx, source)).v;
  const snapshot = await snapshotAt(ctx, source, version);
  if (snapshot.type === null) {
    throw new TandemError(
      ErrorCode.NOT_FOUND,
      `${source.collection}/${source.id} did not exist at version ${version}`,
      {
        collection: source.collection,
        id: source.id,
        version,
      },
    );
  }
  const target = input.target ?? defaultForkRef(source);
  // Lineage first: a fork document never exists without its record.
  const record: ForkRecord = {
    fork: target,
    source,
    version,
    author: authorOfActor(actor),
    createdAt: ctx.options.now(),
    merges: [],
  };
  await ctx.io.create(undefined, ctx.options.forksCollection, recordKey(target), record);
  await ctx.io.create(actor, target.collection, target.id, snapshot.data, {
    intent: 'fork',
    message: `fork of ${source.collection}/${source.id} at version ${version}`,
  });
  return record;
}

interface Edits {
  /** Every op in commit order, with the version it applied to and its author's id. */
  ops: ConcurrentOp[];
  authors: OpAuthor[];
}

/** The edits `[from, to)` of a document, refusing creates and deletes (nothing to merge through). */
async function readEdits(ctx: HistoryContext, ref: DocRef, from: number, to: number): Promise<Edits> {
  const ops: ConcurrentOp[] = [];
  const authors = new Map<string, OpAuthor>();
  await scanOps(ctx.io, ref.collection, ref.id, from, to, readAll(ctx), (stored) => {
    if (stored.op === undefined) {
      throw new TandemError(
        ErrorCode.INVALID_OP,
        `${ref.collection}/${ref.id} was deleted or re-created at version ${stored.v}; cannot merge`,
        { version: stored.v, reason: 'not an edit' },
      );
    }
    const author = stored.m?.author;
    if (author !== undefined) authors.set(author.id, author);
    ops.push({ op: stored.op as JSONOp, version: stored.v, author: author?.id ?? 'unknown' });
    return true;
  });
  return { ops, authors: [...authors.values()] };
}

/**
 * Merge a fork back into its source, as one op by `actor`. A fork can merge again later: its new
 * edits are first carried onto the source as it was right after the previous merge (through the
 * diff from the fork at that merge to the source at that merge), then over the source's newer ops.
 */
export async function merge(ctx: HistoryContext, forkRef: DocRef, actor: Actor): Promise<MergeResult> {
  const record = await getLineage(ctx, forkRef);
  if (record === undefined) {
    throw new TandemError(ErrorCode.NOT_FOUND, `${forkRef.collection}/${forkRef.id} is not a fork`, {
      collection: forkRef.collection,
      id: forkRef.id,
    });
  }
  const last = record.merges[record.merges.length - 1];
  // Fork version 0 -> 1 is its create; its own edits start at 1.
  const forkFrom = last?.forkVersion ?? 1;
  const sourceFrom = last?.sourceVersion ?? record.version;
  const [forkNow, sourceNow] = await Promise.all([
    currentSnapshot(ctx, forkRef),
    currentSnapshot(ctx, record.source),
  ]);
  const [mine, theirs] = await Promise.all([
    readEdits(ctx, forkRef, forkFrom, forkNow.v),
    readEdits(ctx, record.source, sourceFrom, sourceNow.v),
  ]);
  let composed: JSONOp = null;
  for (const edit of mine.ops) composed = compose(composed, edit.op);
  if (last !== undefined && composed !== null) {
    const [forkThen, sourceThen] = await Promise.all([
      snapshotAt(ctx, forkRef, last.forkVersion),
      snapshotAt(ctx, record.source, last.sourceVersion),
    ]);
    composed = transform(composed, diff(forkThen.data as Doc, sourceThen.data as Doc), 'left');
  }
  // Then over the source's ops one by one in commit order, as the server would have done had the
  // fork's edits been submitted to the source at the fork (or last merge) point.
  const { op, collisions: found } = classify(composed, theirs.ops);
  const collisions = found.map((c): MergeCollision => ({ ...c, forkAuthors: mine.authors }));
  const submitted =
    op === null
      ? null
      : await ctx.io.submitAt(actor, record.source.collection, record.source.id, sourceNow.v, op, {
          intent: 'merge',
          message: `merge ${forkRef.collection}/${forkRef.id}`,
        });
  const mergeRecord: MergeRecord = {
    sourceVersion: submitted === null ? sourceNow.v : submitted.version + 1,
    forkVersion: forkNow.v,
    author: authorOfActor(actor),
    mergedAt: ctx.options.now(),
  };
  await updateRecord<ForkRecord>(ctx, ctx.options.forksCollection, recordKey(forkRef), record, (current) =>
    insert(['merges', current.merges.length], mergeRecord as never),
  );
  return { version: submitted?.version ?? null, collisions };
}

/**
 * Named versions: a label on a version, with the SHA-256 of the canonical snapshot, kept in the
 * reserved versions collection (one record per document). Creating one also saves a milestone at
 * that version, so it stays fast to open and survives compaction.
 */
import { insert } from '@tandem/ot';
import { ErrorCode, isTandemError, TandemError } from '@tandem/protocol';
import { authorOfActor } from './actor';
import { checksum } from './canonical';
import type { HistoryContext } from './context';
import { type HistoryRecord, readHistoryRecord, recordKey, updateRecord } from './records';
import { currentSnapshot, snapshotAt, timeOfVersion } from './time-travel';
import type { Actor, DocRef, NamedVersion, VersionedSnapshot } from './types';

export interface CreateVersionInput {
  label: string;
  description?: string;
  /** @default the current version */
  version?: number;
}

/** Longest label, in characters: labels are record keys and show in lists. */
const MAX_LABEL_LENGTH = 200;

export async function listVersions(ctx: HistoryContext, ref: DocRef): Promise<NamedVersion[]> {
  const record = await readHistoryRecord(ctx, ref);
  return Object.values(record?.versions ?? {}).sort(
    (a, b) => a.version - b.version || a.createdAt - b.createdAt,
  );
}

export async function getVersion(ctx: HistoryContext, ref: DocRef, label: string): Promise<NamedVersion> {
  const record = await readHistoryRecord(ctx, ref);
  const found = record?.versions[label];
  if (found === undefined) {
    throw new TandemError(ErrorCode.NOT_FOUND, `no version named '${label}' on ${ref.collection}/${ref.id}`, {
      collection: ref.collection,
      id: ref.id,
      label,
    });
  }
  return found;
}

export async function versionSnapshot(
  ctx: HistoryContext,
  ref: DocRef,
  label: string,
): Promise<VersionedSnapshot> {
  return snapshotAt(ctx, ref, (await getVersion(ctx, ref, label)).version);
}

export async function createVersion(
  ctx: HistoryContext,
  ref: DocRef,
  actor: Actor,
  input: CreateVersionInput,
): Promise<NamedVersion> {
  if (typeof input.label !== 'string' || input.label.length === 0 || input.label.length > MAX_LABEL_LENGTH) {
    throw new TandemError(ErrorCode.INVALID_MESSAGE, `a label is 1 to ${MAX_LABEL_LENGTH} characters`, {
      reason: 'label',
    });
  }
  const version = input.version ?? (await currentSnapshot(ctx, ref)).v;
  const snapshot = await snapshotAt(ctx, ref, version);
  const named: NamedVersion = {
    label: input.label,
    description: input.description ?? '',
    author: authorOfActor(actor),
    createdAt: ctx.options.now(),
    version,
    checksum: checksum(snapshot),
  };
  try {
    // The label's own document is the lock: ShareDB creates a document exactly once, atomically on
    // every backend, so of two racing creators one gets ALREADY_EXISTS.
    await ctx.io.create(undefined, ctx.options.versionsCollection, `${recordKey(ref)}#${input.label}`, named);
  } catch (error) {
    if (isTandemError(error) && error.code === ErrorCode.ALREADY_EXISTS) {
      throw new TandemError(ErrorCode.ALREADY_EXISTS, `version '${input.label}' already exists`, {
        collection: ref.collection,
        id: ref.id,
        label: input.label,
      });
    }
    throw error;
  }
  // Only the lock's winner gets here, so the index entry cannot collide.
  await updateRecord<HistoryRecord>(
    ctx,
    ctx.options.versionsCollection,
    recordKey(ref),
    { versions: {} },
    () => insert(['versions', input.label], named as never),
  );
  await ctx.io.saveMilestone(ref.collection, ref.id, snapshot, await timeOfVersion(ctx, ref, version));
  return named;
}

/**
 * Anchors move lazily. Each stored anchor carries the document version it was last moved to; when
 * threads are listed (or every `rebaseEvery` versions, in the background) the ops since the oldest
 * of those versions are read once and every anchor is moved through them together (@tandem/ot's
 * AnchorSet), and the moved anchors are written back. Typing never waits on any of this.
 */
import type { DocIO, StoredOp } from '@tandem/conflicts';
import { AnchorSet, type Doc, type JSONOp } from '@tandem/ot';
import { ErrorCode, isTandemError } from '@tandem/protocol';
import type { DocRef } from './input';
import { INDEX_COLLECTION, indexKey, type StoredAnchor, type ThreadIndex } from './records';

export interface Positioned {
  /** The document version every anchor is now at. */
  v: number;
  /** The document at `v` (undefined when it does not exist). */
  data: Doc | undefined;
  anchors: Map<string, StoredAnchor>;
  /** The anchors this call moved (to write back). */
  moved: Map<string, StoredAnchor>;
}

/**
 * Move `anchors` (keyed by thread id, each at its own version) to the document's current version.
 * When the store no longer has the ops (compacted), anchors that needed them are detached.
 */
export async function moveAnchors(
  io: DocIO,
  ref: DocRef,
  stored: Iterable<[string, StoredAnchor]>,
): Promise<Positioned> {
  const doc = await io.read(ref.collection, ref.id);
  const anchors = new Map(stored);
  const moved = new Map<string, StoredAnchor>();
  const stale = [...anchors].filter(([, a]) => a.detached !== true && a.v < doc.v);
  if (stale.length === 0) return { v: doc.v, data: doc.data, anchors, moved };
  stale.sort((a, b) => a[1].v - b[1].v);
  let ops: StoredOp[] | undefined;
  try {
    ops = await io.ops(ref.collection, ref.id, stale[0][1].v, doc.v);
  } catch (error) {
    if (!isTandemError(error) || error.code !== ErrorCode.NOT_FOUND) throw error;
  }
  const set = new AnchorSet<string>();
  if (ops !== undefined) {
    let next = 0;
    for (const op of ops) {
      // An anchor at version u is a place in the document at u: op u is the first to move it.
      for (; next < stale.length && stale[next][1].v <= op.v; next++) set.set(stale[next][0], stale[next][1]);
      if (op.del === true) set.detachAll();
      else if (op.op !== undefined) set.apply(op.op);
    }
  }
  for (const [id, old] of stale) {
    const now = set.get(id);
    const next: StoredAnchor =
      now === null || now === undefined
        ? { path: set.lastPath(id) ?? old.path, v: doc.v, detached: true }
        : { ...now, v: doc.v };
    anchors.set(id, next);
    moved.set(id, next);
  }
  return { v: doc.v, data: doc.data, anchors, moved };
}

/** The op replacing the anchors of `parts` in the index (json1: one branch per thread, sorted). */
function anchorsOp(parts: [string, StoredAnchor][]): JSONOp {
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const branches = parts.map(([id, a]) => [id, 'a', { r: true, i: a }]);
  return (branches.length === 1 ? ['threads', ...branches[0]] : ['threads', ...branches]) as JSONOp;
}

/** Write moved anchors back, each only if the stored one is older (another process may have won). */
export async function saveAnchors(io: DocIO, ref: DocRef, moved: Map<string, StoredAnchor>): Promise<void> {
  if (moved.size === 0) return;
  await io.update(INDEX_COLLECTION, indexKey(ref), (current) => {
    const threads = (current.data as ThreadIndex | undefined)?.threads;
    const parts: [string, StoredAnchor][] = [];
    if (threads !== undefined)
      for (const [id, a] of moved) {
        const have = threads[id]?.a;
        if (have !== undefined && have.detached !== true && have.v < a.v) parts.push([id, a]);
      }
    return { op: parts.length === 0 ? undefined : anchorsOp(parts), result: undefined };
  });
}

/** The stored index of a document's threads (empty when it has none). */
export async function readIndex(io: DocIO, ref: DocRef): Promise<ThreadIndex> {
  const index = await io.read(INDEX_COLLECTION, indexKey(ref));
  return (index.data as ThreadIndex | undefined) ?? { threads: {} };
}

/** Move every anchor of the document to its current version and write them back. */
export async function rebaseDocument(io: DocIO, ref: DocRef): Promise<number> {
  const index = await readIndex(io, ref);
  const entries = Object.entries(index.threads).map(([id, e]) => [id, e.a] as [string, StoredAnchor]);
  if (entries.length === 0) return 0;
  const { moved } = await moveAnchors(io, ref, entries);
  await saveAnchors(io, ref, moved);
  return moved.size;
}

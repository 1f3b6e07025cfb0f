/**
 * Anchors move lazily. Each stored anchor carries the document version it was last moved to; when
 * threads are listed (or every `rebaseEvery` versions, in the background) the ops since the oldest
 * of those versions are read once and every anchor is moved through them together (@tandem/ot's
 * AnchorSet). The process keeps what it moved and writes it back now and then (DocumentAnchors).
 * Typing never waits on any of this.
 */
import type { DocIO, StoredOp } from '@tandem/conflicts';
import { AnchorSet, type Doc, replace } from '@tandem/ot';
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
 * `tooOld(behind)` is asked before any op is read, with how many versions the oldest is behind.
 */
export async function moveAnchors(
  io: DocIO,
  ref: DocRef,
  stored: Iterable<[string, StoredAnchor]>,
  tooOld: (behind: number) => void = () => {},
): Promise<Positioned> {
  const doc = await io.read(ref.collection, ref.id);
  const anchors = new Map(stored);
  const moved = new Map<string, StoredAnchor>();
  const stale = [...anchors].filter(([, a]) => a.detached !== true && a.v < doc.v);
  if (stale.length === 0) return { v: doc.v, data: doc.data, anchors, moved };
  stale.sort((a, b) => a[1].v - b[1].v);
  tooOld(doc.v - stale[0][1].v);
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

/** Write moved anchors back, each only if the stored one is older (another process may have won). */
export async function saveAnchors(io: DocIO, ref: DocRef, moved: Map<string, StoredAnchor>): Promise<void> {
  if (moved.size === 0) return;
  await io.update(INDEX_COLLECTION, indexKey(ref), (current) => {
    const threads = (current.data as ThreadIndex | undefined)?.threads;
    if (threads === undefined) return { result: undefined };
    let next: ThreadIndex['threads'] | undefined;
    for (const [id, a] of moved) {
      const have = threads[id]?.a;
      if (have === undefined || have.detached === true || have.v >= a.v) continue;
      next ??= { ...threads };
      next[id] = { ...threads[id], a };
    }
    // One replace of the whole map: json1 applies an op of a thousand sibling edits in quadratic
    // time (a second for 1,000 anchors), a replace in linear time; the compare-and-set makes it safe.
    return { op: next === undefined ? undefined : replace(['threads'], next as never), result: undefined };
  });
}

/** The stored index of a document's threads (empty when it has none). */
export async function readIndex(io: DocIO, ref: DocRef): Promise<ThreadIndex> {
  const index = await io.read(INDEX_COLLECTION, indexKey(ref));
  return (index.data as ThreadIndex | undefined) ?? { threads: {} };
}

/** Documents whose moved anchors a process keeps (least recently used dropped first). */
const CACHED_DOCUMENTS = 64;

/**
 * Every anchor of a document at its current version, as cheaply as can be. Each process keeps the
 * anchors it last moved (per document, at their version) and starts from them rather than from the
 * stored ones when they are newer; it writes them back to the store only once the stored ones are
 * `writeBehind` versions old, so that another process (or a restart) never has more than that to
 * catch up on. The store stays the truth for which threads exist; moved anchors are not a decision,
 * so writing them late loses nothing.
 */
export class DocumentAnchors {
  private readonly cache = new Map<string, Map<string, StoredAnchor>>();
  /** Write-backs in flight. */
  private readonly writing = new Set<Promise<void>>();

  /** @param onError a failed write-back (logged: the next one writes those anchors) */
  constructor(
    private readonly io: DocIO,
    private readonly writeBehind: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Move the anchors of `index` (the document's stored index) to the current version. */
  async current(ref: DocRef, index: ThreadIndex): Promise<Positioned> {
    const key = indexKey(ref);
    const cached = this.cache.get(key);
    let oldestStored = Number.POSITIVE_INFINITY;
    const entries: [string, StoredAnchor][] = [];
    for (const [id, entry] of Object.entries(index.threads)) {
      const mine = cached?.get(id);
      if (entry.a.detached !== true) oldestStored = Math.min(oldestStored, entry.a.v);
      entries.push([
        id,
        mine !== undefined && mine.v > entry.a.v && entry.a.detached !== true ? mine : entry.a,
      ]);
    }
    const positioned = await moveAnchors(this.io, ref, entries);
    this.cache.delete(key);
    this.cache.set(key, positioned.anchors);
    if (this.cache.size > CACHED_DOCUMENTS) this.cache.delete(this.cache.keys().next().value as string);
    if (positioned.v - oldestStored >= this.writeBehind) {
      // Everything moved since the stored version goes back, not only what this call moved; after
      // the caller's answer (a listing) is on its way.
      const behind = new Map([...positioned.anchors].filter(([id]) => index.threads[id]?.a.v < positioned.v));
      const write: Promise<void> = new Promise((resolve) => setImmediate(resolve))
        .then(() => saveAnchors(this.io, ref, behind))
        .catch(this.onError)
        .finally(() => this.writing.delete(write));
      this.writing.add(write);
    }
    return positioned;
  }

  /** The background move: every anchor of the document to now (nothing to do without threads). */
  async rebase(ref: DocRef): Promise<number> {
    const index = await readIndex(this.io, ref);
    if (Object.keys(index.threads).length === 0) return 0;
    const { moved } = await this.current(ref, index);
    await this.flush();
    return moved.size;
  }

  /** Wait for the write-backs in flight. */
  async flush(): Promise<void> {
    await Promise.all(this.writing);
  }
}

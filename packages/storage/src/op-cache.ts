/**
 * Recent ops of busy documents, parsed. A committed op never changes, so a copy of a cached one is as
 * good as a read: in a busy room every submit reads the ~N ops it missed, and reading and parsing
 * them again from SQLite was a third of a server's busy time (100 clients typing at full speed).
 * Filled by reads, bounded in documents and in ops per document, one per SQL adapter (SQLite,
 * PostgreSQL). Several processes may share the store: another process's commits are simply not
 * cached until read.
 */
import { cloneJson } from '@tandem/protocol';
import type { StoredOp } from './types';

/** An op as stored: without `v` and `m`, which are columns of their own. */
export interface CachedOp {
  op: StoredOp;
  m: Record<string, unknown> | null;
}

interface Entry {
  /** Version of `ops[0]`; the entry holds `[base, base + ops.length)`. */
  base: number;
  ops: CachedOp[];
}

export class OpCache {
  /** A document's key (unambiguous for any pair of strings: the collection's length delimits it). */
  static key(collection: string, id: string): string {
    return `${collection.length}:${collection}${id}`;
  }

  /** Insertion order is recency: the first key is the least recently used document. */
  private readonly docs = new Map<string, Entry>();

  constructor(
    private readonly maxDocs = 256,
    readonly maxOps = 1024,
  ) {}

  /** Copies of the ops `from <= v < to`, or undefined when any of them is not cached. */
  get(key: string, from: number, to: number, withMetadata: boolean): StoredOp[] | undefined {
    const entry = this.docs.get(key);
    if (entry === undefined || from < entry.base || to > entry.base + entry.ops.length) return undefined;
    this.touch(key, entry);
    const out: StoredOp[] = [];
    for (let v = from; v < to; v++) {
      const cached = entry.ops[v - entry.base];
      const op = cloneJson(cached.op);
      op.v = v;
      if (withMetadata && cached.m !== null) op.m = cloneJson(cached.m);
      out.push(op);
    }
    return out;
  }

  /** Where the cached run of ops starting at or before `from` ends (`from` itself when none does). */
  cachedUntil(key: string, from: number): number {
    const entry = this.docs.get(key);
    if (entry === undefined || from < entry.base) return from;
    return Math.max(from, entry.base + entry.ops.length);
  }

  /**
   * Remember ops just read from `from` on (`rows` in version order). A run with a gap (compacted
   * ops) or longer than the cache holds is not kept.
   */
  fill<Row extends { v: number }>(
    key: string,
    from: number,
    rows: Row[],
    parse: (row: Row) => CachedOp,
  ): void {
    const contiguous =
      rows.length > 0 && rows[0].v === from && rows[rows.length - 1].v === from + rows.length - 1;
    if (contiguous && rows.length <= this.maxOps) this.put(key, from, rows.map(parse));
  }

  /** Remember ops just read: `ops[i]` is version `from + i`. */
  put(key: string, from: number, ops: CachedOp[]): void {
    if (ops.length === 0) return;
    const entry = this.docs.get(key);
    const end = entry === undefined ? -1 : entry.base + entry.ops.length;
    let next: Entry;
    if (entry !== undefined && from >= entry.base && from <= end) {
      // Overlaps or extends the cached range at its end.
      entry.ops.length = from - entry.base;
      for (const op of ops) entry.ops.push(op);
      next = entry;
    } else {
      next = { base: from, ops: ops.slice() };
    }
    const excess = next.ops.length - this.maxOps;
    if (excess > 0) {
      next.ops.splice(0, excess);
      next.base += excess;
    }
    this.touch(key, next);
    if (this.docs.size > this.maxDocs) this.docs.delete(this.docs.keys().next().value as string);
  }

  forget(key: string): void {
    this.docs.delete(key);
  }

  private touch(key: string, entry: Entry): void {
    this.docs.delete(key);
    this.docs.set(key, entry);
  }
}

/** A snapshot as stored: `data` and `m` still JSON text, so every read hands out fresh objects. */
export interface SnapshotRow {
  doc_id: string;
  v: number;
  type: string | null;
  data: string | null;
  m: string | null;
}

/** Total JSON text kept, in characters; one document may use at most an eighth of it. */
export const SNAPSHOT_CACHE_CHARS = 8 * 1024 * 1024;

function sizeOf(row: SnapshotRow): number {
  return (row.data?.length ?? 0) + (row.m?.length ?? 0) + 64;
}

/** Commits through any connection of this process; every cache re-checks after one (see `get`). */
let localCommits = 0;

/** A connection of this process committed: other connections' caches must look at the file again. */
export function noteLocalCommit(): void {
  localCommits++;
}

/**
 * The latest snapshot rows this connection read or committed, so ShareDB's read-before-every-submit
 * skips the row lookup. Several processes may share the file, so the cache is only trusted while
 * SQLite's `data_version` for this connection is unchanged — it changes exactly when another
 * connection commits — and is dropped whole otherwise. One cache per connection: commits through
 * the same connection never change its `data_version`, so every writer on it must update the cache.
 *
 * `data_version` is read at most once per tick, not on every read (a tenth of the CPU of 100
 * documents committing concurrently): the reads of one tick see the file as of its first read. That
 * is safe because nothing in this process can know of another process's commit before a later tick
 * (it learns through I/O: pub/sub, a socket), and a commit through another connection of this
 * process (`noteLocalCommit`) makes the next read look again at once.
 */
export class SnapshotCache {
  private readonly rows = new Map<string, SnapshotRow>();
  private chars = 0;
  private seen: number | undefined;
  private seenLocal = -1;
  private checkedThisTick = false;
  private readonly nextTick = () => {
    this.checkedThisTick = false;
  };

  /** `dataVersion` reads `PRAGMA data_version` on the connection the cached rows came from. */
  constructor(
    private readonly dataVersion: () => number,
    private readonly limitChars = SNAPSHOT_CACHE_CHARS,
  ) {}

  /** The cached row, if no other connection has committed since the cache was last validated. */
  get(collection: string, id: string): SnapshotRow | undefined {
    if (!this.checkedThisTick || this.seenLocal !== localCommits) {
      this.seenLocal = localCommits;
      if (!this.checkedThisTick) {
        this.checkedThisTick = true;
        process.nextTick(this.nextTick);
      }
      const version = this.dataVersion();
      if (version !== this.seen) {
        this.clear();
        this.seen = version;
        return undefined;
      }
    }
    const key = keyOf(collection, id);
    const row = this.rows.get(key);
    if (row) {
      // Re-inserted: Map order is then least recently used first, which is what eviction drops.
      this.rows.delete(key);
      this.rows.set(key, row);
    }
    return row;
  }

  /**
   * Remember a row read or written on this connection. It must not be older than the state of the
   * file when `get` last validated (a row read or committed after that call is newer or equal).
   */
  set(collection: string, row: SnapshotRow): void {
    const key = keyOf(collection, row.doc_id);
    this.delete(key);
    const size = sizeOf(row);
    if (size > this.limitChars / 8) return;
    this.rows.set(key, row);
    this.chars += size;
    for (const [oldest, evicted] of this.rows) {
      if (this.chars <= this.limitChars) break;
      this.rows.delete(oldest);
      this.chars -= sizeOf(evicted);
    }
  }

  /** Forget one document (its commit lost a version race, or failed). */
  forget(collection: string, id: string): void {
    this.delete(keyOf(collection, id));
  }

  clear(): void {
    this.rows.clear();
    this.chars = 0;
  }

  private delete(key: string): void {
    const row = this.rows.get(key);
    if (!row) return;
    this.rows.delete(key);
    this.chars -= sizeOf(row);
  }
}

/** Unambiguous for any pair of strings (the collection's length delimits it). */
function keyOf(collection: string, id: string): string {
  return `${collection.length}:${collection}${id}`;
}

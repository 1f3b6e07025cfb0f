/**
 * The SQLite adapter keeps the snapshots it read or committed in a per-connection cache. Several
 * connections (processes, in production) share one file: whatever one commits, the others' next read
 * sees, and a commit built on a stale snapshot loses its version race instead of overwriting.
 */
import { isTandemError } from '@tandem/protocol';
import { SqliteDB, type StoredOp, type StoredSnapshot } from '@tandem/storage';
import ShareDB from 'sharedb';
import { describe, expect, it } from 'vitest';
import { noteLocalCommit, SnapshotCache, type SnapshotRow } from '../src/sqlite/snapshot-cache';
import { closed, tempFiles } from './helpers';

const files = tempFiles('snapshot-cache');

const snap = (v: number, data: unknown): StoredSnapshot => ({ id: 'd', v, type: 'json0', data, m: null });
const create: StoredOp = { v: 0, create: { type: 'json0', data: { n: 1 } } };
const inc = (v: number): StoredOp => ({ v, op: [{ p: ['n'], na: 1 }] });

function commit(db: SqliteDB, id: string, op: StoredOp, snapshot: StoredSnapshot): Promise<boolean | Error> {
  return new Promise((resolve) =>
    db.commit('c', id, op, snapshot, null, (error, ok) => resolve(error ?? (ok as boolean))),
  );
}

describe('SQLite snapshot cache', () => {
  it('sees what another connection to the file committed, and a stale commit loses the race', async () => {
    const path = files.file();
    const a = new SqliteDB({ path });
    const b = new SqliteDB({ path });
    expect(a.connection).not.toBe(b.connection);
    try {
      expect(a.commitSync('c', 'd', create, snap(1, { n: 1 }))).toBe(true);
      expect(a.getSnapshotSync('c', 'd')).toMatchObject({ v: 1, data: { n: 1 } }); // now cached in A
      expect(b.getSnapshotSync('c', 'd').v).toBe(1);
      expect(b.commitSync('c', 'd', inc(1), snap(2, { n: 2 }))).toBe(true);

      // A's next read is B's snapshot, not its cached one.
      expect(a.getSnapshotSync('c', 'd')).toMatchObject({ v: 2, data: { n: 2 } });
      // A commit built on version 1 (what A had cached) is refused and writes nothing.
      expect(a.commitSync('c', 'd', inc(1), snap(2, { n: 99 }))).toBe(false);
      expect(b.getSnapshotSync('c', 'd')).toMatchObject({ v: 2, data: { n: 2 } });
      expect(a.getOpsSync('c', 'd', 0, null).map((op) => op.v)).toEqual([0, 1]);

      // Through the grouped (async) commit path too.
      await expect(commit(b, 'd', inc(2), snap(3, { n: 3 }))).resolves.toBe(true);
      expect(a.getSnapshotSync('c', 'd')).toMatchObject({ v: 3, data: { n: 3 } });
      await expect(commit(a, 'd', inc(2), snap(3, { n: 98 }))).resolves.toBe(false);
      await expect(commit(a, 'd', inc(3), snap(4, { n: 4 }))).resolves.toBe(true);
      expect(b.getSnapshotSync('c', 'd')).toMatchObject({ v: 4, data: { n: 4 } });
    } finally {
      await closed(a);
      await closed(b);
    }
  });

  it('is shared by adapters on one connection, whose commits do not change its data_version', async () => {
    const a = new SqliteDB({ path: files.file() });
    const b = new SqliteDB({ connection: a.connection });
    try {
      a.commitSync('c', 'd', create, snap(1, { n: 1 }));
      expect(a.getSnapshotSync('c', 'd').v).toBe(1);
      b.commitSync('c', 'd', inc(1), snap(2, { n: 2 }));
      expect(a.getSnapshotSync('c', 'd')).toMatchObject({ v: 2, data: { n: 2 } });
    } finally {
      await closed(b);
      await closed(a);
    }
  });

  it('hands out fresh objects: mutating a read snapshot does not change the next read', async () => {
    const db = new SqliteDB({ path: files.file() });
    try {
      db.commitSync('c', 'd', create, { ...snap(1, { n: 1 }), m: { ctime: 1 } });
      const first = db.getSnapshotSync('c', 'd', true);
      (first.data as { n: number }).n = 42;
      (first.m as { ctime: number }).ctime = 42;
      expect(db.getSnapshotSync('c', 'd', true)).toMatchObject({ data: { n: 1 }, m: { ctime: 1 } });
    } finally {
      await closed(db);
    }
  });

  it('ShareDB on another process-like connection submits at a version only the file knows', async () => {
    const path = files.file();
    const dbA = new SqliteDB({ path });
    const dbB = new SqliteDB({ path });
    const backendA = new ShareDB({ db: dbA });
    const backendB = new ShareDB({ db: dbB });
    const submit = (backend: ShareDB, op: StoredOp) =>
      new Promise<void>((resolve, reject) => {
        const agent = (backend.connect() as unknown as { agent: unknown }).agent;
        (backend.submit as unknown as (...args: unknown[]) => void)(
          agent,
          'c',
          'd',
          op,
          {},
          (error?: Error) => (error ? reject(error) : resolve()),
        );
      });
    try {
      await submit(backendA, { v: 0, create: { type: 'json0', data: { n: 0 } } } as StoredOp);
      await submit(backendA, inc(1)); // A has version 2 cached
      await submit(backendB, inc(2));
      await submit(backendB, inc(3));
      // A client that learnt version 4 elsewhere (e.g. pub/sub from B) submits to A: A must not
      // answer from its cache at version 2, which ShareDB would reject as "op version newer".
      await submit(backendA, { ...inc(4), src: 'x', seq: 1 });
      // And one based on an old version is transformed against B's ops, not lost.
      await submit(backendA, { ...inc(2), src: 'y', seq: 1 });
      const reader = new SqliteDB({ path });
      expect(reader.getSnapshotSync('c', 'd')).toMatchObject({ v: 6, data: { n: 5 } });
      expect(reader.getOpsSync('c', 'd', 0, null).map((op) => op.v)).toEqual([0, 1, 2, 3, 4, 5]);
      await closed(reader);
    } finally {
      await new Promise((resolve) => backendA.close(resolve));
      await new Promise((resolve) => backendB.close(resolve));
    }
  });
});

describe('SQLite optimistic commit', () => {
  it('refuses a create over an existing document and a version that is not the next one', async () => {
    const db = new SqliteDB({ path: files.file() });
    try {
      expect(db.commitSync('c', 'd', create, snap(1, { n: 1 }))).toBe(true);
      expect(db.commitSync('c', 'd', create, snap(1, { n: 7 }))).toBe(false);
      expect(db.commitSync('c', 'd', inc(2), snap(3, { n: 3 }))).toBe(false);
      expect(db.commitSync('c', 'e', inc(0), snap(0, { n: 3 }))).toBe(false);
      expect(db.getSnapshotSync('c', 'd')).toMatchObject({ v: 1, data: { n: 1 } });
      expect(db.getSnapshotSync('c', 'e').v).toBe(0);
      expect(db.getOpsSync('c', 'd', 0, null)).toHaveLength(1);
    } finally {
      await closed(db);
    }
  });

  it('rolls back the snapshot write of a commit whose op cannot be stored', async () => {
    const db = new SqliteDB({ path: files.file() });
    try {
      db.commitSync('c', 'd', create, snap(1, { n: 1 }));
      const bad = { ...inc(1), op: [{ p: ['n'], na: 1n }] } as unknown as StoredOp;
      const results = await Promise.all([
        commit(db, 'd', bad, snap(2, { n: 2 })),
        commit(db, 'e', create, { ...snap(1, { n: 1 }), id: 'e' }),
      ]);
      expect(isTandemError(results[0]) && results[0].code).toBe('STORAGE_UNAVAILABLE');
      expect(results[1]).toBe(true);
      expect(db.getSnapshotSync('c', 'd')).toMatchObject({ v: 1, data: { n: 1 } });
      expect(db.getOpsSync('c', 'd', 0, null)).toHaveLength(1);
      // Alone in its group (no savepoint), the whole transaction is rolled back.
      const alone = await commit(db, 'd', bad, snap(2, { n: 2 }));
      expect(isTandemError(alone) && alone.code).toBe('STORAGE_UNAVAILABLE');
      expect(db.getSnapshotSync('c', 'd')).toMatchObject({ v: 1, data: { n: 1 } });
      // The same from a fresh connection (not this one's cache).
      const reader = new SqliteDB({ path: db.connection.path });
      expect(reader.getSnapshotSync('c', 'd').v).toBe(1);
      expect(reader.getSnapshotSync('c', 'e').v).toBe(1);
      await closed(reader);
    } finally {
      await closed(db);
    }
  });
});

describe('SnapshotCache', () => {
  const row = (id: string, chars: number, v = 1): SnapshotRow => ({
    doc_id: id,
    v,
    type: 't',
    data: 'x'.repeat(chars),
    m: null,
  });

  const nextTick = () => new Promise<void>((resolve) => process.nextTick(resolve));

  it('drops everything when data_version changes, and keeps rows while it does not', async () => {
    let version = 1;
    const cache = new SnapshotCache(() => version);
    expect(cache.get('c', 'a')).toBeUndefined(); // first look validates
    cache.set('c', row('a', 10));
    expect(cache.get('c', 'a')?.v).toBe(1);
    version = 2;
    await nextTick();
    expect(cache.get('c', 'a')).toBeUndefined();
    cache.set('c', row('a', 10, 5));
    expect(cache.get('c', 'a')?.v).toBe(5);
    cache.forget('c', 'a');
    expect(cache.get('c', 'a')).toBeUndefined();
  });

  it('reads data_version once per tick, and again at once after a commit through this process', async () => {
    let version = 1;
    let reads = 0;
    const cache = new SnapshotCache(() => {
      reads++;
      return version;
    });
    cache.get('c', 'a');
    cache.set('c', row('a', 10));
    for (let i = 0; i < 100; i++) expect(cache.get('c', 'a')?.v).toBe(1);
    expect(reads).toBe(1);
    // Another process commits: this tick's reads are as of its first read; the next tick sees it.
    version = 2;
    expect(cache.get('c', 'a')?.v).toBe(1);
    await nextTick();
    expect(cache.get('c', 'a')).toBeUndefined();
    expect(reads).toBe(2);
    // A connection of this process commits: the very next read looks again.
    cache.set('c', row('a', 10, 3));
    version = 3;
    noteLocalCommit();
    expect(cache.get('c', 'a')).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('keeps ids of different collections apart', () => {
    const cache = new SnapshotCache(() => 1);
    cache.get('x', 'y');
    cache.set('ab', row('c', 1, 1));
    cache.set('a', row('bc', 1, 2));
    expect(cache.get('ab', 'c')?.v).toBe(1);
    expect(cache.get('a', 'bc')?.v).toBe(2);
  });

  it('stays within its size budget, evicting the least recently used, and skips huge rows', () => {
    const cache = new SnapshotCache(() => 1, 8_000);
    cache.get('c', 'none');
    cache.set('c', row('a', 900));
    cache.set('c', row('b', 900));
    cache.set('c', row('huge', 2_000)); // over an eighth of the budget: not kept
    expect(cache.get('c', 'huge')).toBeUndefined();
    expect(cache.get('c', 'a')).toBeDefined(); // a is now the most recently used
    for (let i = 0; i < 7; i++) cache.set('c', row(`n${i}`, 900));
    expect(cache.get('c', 'a')).toBeDefined();
    expect(cache.get('c', 'b')).toBeUndefined();
  });
});

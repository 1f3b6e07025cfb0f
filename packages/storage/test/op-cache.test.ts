import { describe, expect, it } from 'vitest';
import { OpCache } from '../src/op-cache';
import { SqliteDB } from '../src/sqlite/db';

const op = (n: number) => ({ op: { op: ['n', { r: true, i: n }] } as never, m: { ts: n } });

describe('OpCache', () => {
  it('answers only ranges it holds, with copies, and extends at the end', () => {
    const cache = new OpCache(4, 5);
    cache.put('d', 2, [op(2), op(3)]);
    expect(cache.get('d', 1, 3, false)).toBeUndefined();
    expect(cache.get('d', 2, 5, false)).toBeUndefined();
    const [first] = cache.get('d', 2, 4, true) ?? [];
    expect(first).toEqual({ op: ['n', { r: true, i: 2 }], v: 2, m: { ts: 2 } });
    (first.op as unknown[]).push('mutated');
    expect(cache.get('d', 2, 3, false)).toEqual([{ op: ['n', { r: true, i: 2 }], v: 2 }]);
    // Extending (and overlapping) the end; past maxOps the oldest go.
    cache.put('d', 3, [op(3), op(4), op(5), op(6), op(7)]);
    expect(cache.get('d', 2, 3, false)).toBeUndefined();
    expect(cache.get('d', 3, 8, false)?.map((o) => o.v)).toEqual([3, 4, 5, 6, 7]);
  });

  it('says where the cached run covering a version ends', () => {
    const cache = new OpCache(4, 10);
    expect(cache.cachedUntil('d', 3)).toBe(3);
    cache.put('d', 2, [op(2), op(3), op(4)]);
    expect(cache.cachedUntil('d', 1)).toBe(1);
    expect(cache.cachedUntil('d', 3)).toBe(5);
    expect(cache.cachedUntil('d', 7)).toBe(7);
  });

  it('keeps the most recently used documents', () => {
    const cache = new OpCache(2, 10);
    cache.put('a', 0, [op(0)]);
    cache.put('b', 0, [op(0)]);
    cache.get('a', 0, 1, false);
    cache.put('c', 0, [op(0)]);
    expect(cache.get('a', 0, 1, false)).toHaveLength(1);
    expect(cache.get('b', 0, 1, false)).toBeUndefined();
  });
});

describe('SqliteDB: the ops a submit missed come through the op cache', () => {
  it('returns fresh ops each time, sees later commits, forgets compacted documents; getOps reads the file', async () => {
    const db = new SqliteDB({ path: ':memory:' });
    const type = 'http://sharejs.org/types/JSONv1';
    const commit = (v: number) =>
      db.commitSync(
        'c',
        'd',
        { v, op: ['n', { r: true, i: v + 1 }], m: { ts: v } } as never,
        {
          v: v + 1,
          type,
          data: { n: v + 1 },
        } as never,
      );
    const missed = (from: number, to: number, metadata = false) =>
      new Promise<{ v: number; op?: unknown[]; m?: unknown }[]>((resolve, reject) =>
        db.getOpsToSnapshot('c', 'd', from, { v: to } as never, { metadata }, (e, ops) =>
          e ? reject(e) : resolve(ops as never),
        ),
      );
    expect(
      db.commitSync(
        'c',
        'd',
        { v: 0, create: { type, data: { n: 0 } } } as never,
        { v: 1, type, data: { n: 0 } } as never,
      ),
    ).toBe(true);
    for (let v = 1; v < 5; v++) expect(commit(v)).toBe(true);
    const first = await missed(1, 5, true);
    expect(first.map((o) => o.v)).toEqual([1, 2, 3, 4]);
    expect(first[0].m).toEqual({ ts: 1 });
    first[0].op?.splice(0);
    expect((await missed(1, 5))[0]).toEqual({ v: 1, op: ['n', { r: true, i: 2 }] });
    expect(commit(5)).toBe(true);
    expect((await missed(3, 6)).map((o) => o.v)).toEqual([3, 4, 5]);

    // An op altered in the file behind the cache's back: getOps (history's verify) sees it.
    db.connection.db
      .prepare('UPDATE ops SET op = ? WHERE v = 2')
      .run(JSON.stringify({ op: ['n', { r: true, i: 99 }] }));
    expect(db.getOpsSync('c', 'd', 2, 3)[0]).toEqual({ v: 2, op: ['n', { r: true, i: 99 }] });
    // ...while a submit's read is served from the cache, reading only the ops committed since.
    expect(commit(6)).toBe(true);
    expect(await missed(2, 7)).toEqual([2, 3, 4, 5, 6].map((v) => ({ v, op: ['n', { r: true, i: v + 1 }] })));

    expect(await db.deleteOpsBefore('c', 'd', 4)).toBe(4);
    expect((await missed(0, 7)).map((o) => o.v)).toEqual([4, 5, 6]);
    await new Promise<void>((resolve) => db.close(() => resolve()));
  });
});

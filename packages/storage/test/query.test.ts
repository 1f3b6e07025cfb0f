import { SqliteDB } from '@tandem/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const db = new SqliteDB({ path: ':memory:' });
afterAll(() => db.close());

const docs: Record<string, unknown> = {
  a: { name: 'ada', tags: ['x'], meta: { 'dotted.key': 1, deep: { level: 2 } }, active: true, score: 10 },
  b: { name: 'bob', tags: ['y'], meta: { deep: { level: 3 } }, active: false, score: 20, nothing: null },
  c: { name: "o'hara", tags: ['x'], meta: {}, score: 30 },
};

beforeAll(() => {
  for (const [id, data] of Object.entries(docs)) {
    db.commitSync(
      'q',
      id,
      { v: 0, create: { type: 'json0', data } },
      { id, v: 1, type: 'json0', data, m: null },
    );
  }
  // A deleted document never matches.
  db.commitSync(
    'q',
    'gone',
    { v: 0, create: {} },
    { id: 'gone', v: 1, type: 'json0', data: { name: 'ada' }, m: null },
  );
  db.commitSync('q', 'gone', { v: 1, del: true }, { id: 'gone', v: 2, type: null, data: undefined, m: null });
});

const ids = (query: Record<string, unknown>) =>
  db
    .querySync('q', query)
    .result.map((s) => s.id)
    .sort();

describe('SQLite query subset', () => {
  it('matches equality on top-level and nested fields, of any JSON value', () => {
    expect(ids({ name: 'ada' })).toEqual(['a']);
    expect(ids({ 'meta.deep.level': 3 })).toEqual(['b']);
    expect(ids({ tags: ['x'] })).toEqual(['a', 'c']);
    expect(ids({ active: true })).toEqual(['a']);
    expect(ids({ active: false })).toEqual(['b']);
    expect(ids({ nothing: null })).toEqual(['a', 'b', 'c']);
    expect(ids({ name: "o'hara" })).toEqual(['c']);
    expect(ids({})).toEqual(['a', 'b', 'c']);
  });

  it('matches a string or number against the elements of an array field, as Mongo does', () => {
    expect(ids({ tags: 'x' })).toEqual(['a', 'c']);
    expect(ids({ tags: { $in: ['y'] } })).toEqual(['b']);
    expect(ids({ tags: { $ne: 'x' } })).toEqual(['b']);
    // Only arrays: an object's member values are not elements.
    expect(ids({ meta: 1 })).toEqual([]);
    expect(ids({ 'meta.deep': 2 })).toEqual([]);
  });

  it('supports comparison, membership and existence operators', () => {
    expect(ids({ score: { $gt: 10, $lte: 30 } })).toEqual(['b', 'c']);
    expect(ids({ name: { $in: ['ada', 'bob'] } })).toEqual(['a', 'b']);
    expect(ids({ name: { $nin: ['ada'] } })).toEqual(['b', 'c']);
    expect(ids({ name: { $ne: 'ada' } })).toEqual(['b', 'c']);
    expect(ids({ active: { $exists: false } })).toEqual(['c']);
    expect(ids({ active: { $exists: true } })).toEqual(['a', 'b']);
  });

  it('sorts, skips, limits and counts', () => {
    const ordered = db.querySync('q', { $sort: { score: -1 }, $skip: 1, $limit: 1 }).result.map((s) => s.id);
    expect(ordered).toEqual(['b']);
    expect(db.querySync('q', { tags: ['x'], $count: true })).toEqual({ result: [], extra: 2 });
  });

  it('treats field names as data, never SQL', () => {
    expect(ids({ "x') OR 1=1 --": 1 })).toEqual([]);
    expect(db.querySync('q', { $sort: { "name') --": 1 } }).result).toHaveLength(3);
  });

  it('rejects what it does not implement instead of ignoring it', () => {
    expect(() => db.querySync('q', { $where: 'true' })).toThrow(/unsupported/);
    expect(() => db.querySync('q', { score: { $regex: 'a' } })).toThrow(/unsupported/);
    expect(() => db.querySync('q', { $limit: -1 })).toThrow();
  });

  it('refuses hostile queries with a typed error, never a database error', async () => {
    const { ErrorCode, isTandemError } = await import('@tandem/protocol');
    const refusal = (query: Record<string, unknown>) => {
      try {
        db.querySync('q', query);
      } catch (error) {
        expect(isTandemError(error), `${JSON.stringify(query)} threw ${String(error)}`).toBe(true);
        return (error as { code: string }).code;
      }
      return 'accepted';
    };
    for (const key of ['a\u0000b', 'a"b', 'a\\b', 'a\nb', 'a..b', '']) {
      expect(refusal({ [key]: 1 })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(refusal({ $sort: { [key]: 1 } })).toBe(ErrorCode.INVALID_MESSAGE);
    }
    expect(refusal({ $limit: 1e308 })).toBe(ErrorCode.INVALID_MESSAGE);
    expect(refusal({ $skip: 2 ** 63 })).toBe(ErrorCode.INVALID_MESSAGE);
    expect(refusal({ $limit: 1.5 })).toBe(ErrorCode.INVALID_MESSAGE);
    expect(refusal({ name: { $in: Array.from({ length: 2_000 }, (_, i) => i) } })).toBe(ErrorCode.TOO_LARGE);
    expect(refusal(Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`f${i}`, i])))).toBe(
      ErrorCode.TOO_LARGE,
    );
    expect(
      refusal({ $sort: Object.fromEntries(Array.from({ length: 2_500 }, (_, i) => [`f${i}`, 1])) }),
    ).toBe(ErrorCode.TOO_LARGE);
    const wide = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`f${i}`, { $in: Array.from({ length: 256 }, (_, j) => j) }]),
    );
    expect(refusal(wide)).toBe(ErrorCode.TOO_LARGE);
    // The largest accepted list runs.
    expect(ids({ score: { $in: Array.from({ length: 256 }, (_, i) => i * 10) } })).toEqual(['a', 'b', 'c']);
    expect(ids({ score: { $nin: Array.from({ length: 256 }, (_, i) => i + 1000) } })).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('polls a single document only for per-document queries', () => {
    expect(db.canPollDoc('q', { name: 'ada' })).toBe(true);
    expect(db.canPollDoc('q', { $sort: { name: 1 } })).toBe(false);
    expect(db.queryPollDocSync('q', 'a', { name: 'ada' })).toBe(true);
    expect(db.queryPollDocSync('q', 'b', { name: 'ada' })).toBe(false);
    expect(db.queryPollDocSync('q', 'gone', { name: 'ada' })).toBe(false);
  });
});

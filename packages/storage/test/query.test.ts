/**
 * The query subset (src/query.ts) on every SQL store: one definition, the same answers. Each case
 * runs on SQLite and on PostgreSQL (skipped with the reason printed when it cannot be reached).
 */
import { ErrorCode, isTandemError } from '@tandem/protocol';
import { createStorage, type Storage, type StoredSnapshot } from '@tandem/storage';
import { testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import type ShareDB from 'sharedb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const docs: Record<string, unknown> = {
  a: { name: 'ada', tags: ['x'], meta: { 'dotted.key': 1, deep: { level: 2 } }, active: true, score: 10 },
  b: { name: 'bob', tags: ['y'], meta: { deep: { level: 3 } }, active: false, score: 20, nothing: null },
  c: { name: "o'hara", tags: ['x'], meta: {}, score: 30 },
  // Mixed types in one field, and characters a naive sort or a jsonb column would get wrong.
  d: { name: 'Zoë', score: '25', mixed: [1, ['x']], text: 'nul\u0000here' },
  e: { name: '\u{1F600} smile', score: true, tags: [['x']] },
};

const postgresSkip = await testPostgresUnavailable();
if (postgresSkip) console.log(postgresSkip);
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

const stores: { name: string; skip?: string; open(): Promise<Storage> }[] = [
  { name: 'sqlite', open: () => createStorage('sqlite::memory:') },
  { name: 'postgres', skip: postgresSkip, open: () => createStorage(schemas.next()) },
];

function call<T>(invoke: (callback: (error?: unknown, result?: T, extra?: unknown) => void) => void) {
  return new Promise<{ result: T; extra: unknown }>((resolve, reject) =>
    invoke((error, result, extra) => (error ? reject(error) : resolve({ result: result as T, extra }))),
  );
}

async function commit(db: ShareDB.DB, id: string, v: number, op: object, data: unknown): Promise<void> {
  const snapshot = { id, v: v + 1, type: data === undefined ? null : 'json0', data, m: null };
  const { result } = await call<boolean>((cb) =>
    db.commit('q', id, { v, ...op }, snapshot as never, null, cb),
  );
  expect(result).toBe(true);
}

for (const store of stores) {
  describe.skipIf(store.skip)(`query subset on ${store.name}`, () => {
    let storage: Storage;
    beforeAll(async () => {
      storage = await store.open();
      for (const [id, data] of Object.entries(docs)) await commit(storage.db, id, 0, { create: {} }, data);
      // A deleted document never matches.
      await commit(storage.db, 'gone', 0, { create: {} }, { name: 'ada' });
      await commit(storage.db, 'gone', 1, { del: true }, undefined);
    });
    afterAll(() => storage?.close());

    const query = (q: Record<string, unknown>) =>
      call<StoredSnapshot[]>((cb) => storage.db.query('q', q, null as never, null, cb as never));
    const ordered = async (q: Record<string, unknown>) => (await query(q)).result.map((s) => s.id);
    const ids = async (q: Record<string, unknown>) => (await ordered(q)).sort();
    const refusal = async (q: Record<string, unknown>) => {
      const error = await query(q).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (error === undefined) return 'accepted';
      expect(isTandemError(error), `${JSON.stringify(q)} failed with ${String(error)}`).toBe(true);
      return (error as { code: string }).code;
    };

    it('matches equality on top-level and nested fields, of any JSON value', async () => {
      expect(await ids({ name: 'ada' })).toEqual(['a']);
      expect(await ids({ 'meta.deep.level': 3 })).toEqual(['b']);
      expect(await ids({ tags: ['x'] })).toEqual(['a', 'c']);
      expect(await ids({ meta: { deep: { level: 3 } } })).toEqual(['b']);
      expect(await ids({ active: true })).toEqual(['a']);
      expect(await ids({ active: false })).toEqual(['b']);
      expect(await ids({ nothing: null })).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await ids({ name: "o'hara" })).toEqual(['c']);
      expect(await ids({ name: 'Zoë' })).toEqual(['d']);
      expect(await ids({ name: '\u{1F600} smile' })).toEqual(['e']);
      expect(await ids({ score: 25 })).toEqual([]);
      expect(await ids({ score: '25' })).toEqual(['d']);
      expect(await ids({})).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('matches a string or number against the top-level elements of an array field, as Mongo does', async () => {
      expect(await ids({ tags: 'x' })).toEqual(['a', 'c']);
      expect(await ids({ tags: { $in: ['y'] } })).toEqual(['b']);
      expect(await ids({ mixed: 1 })).toEqual(['d']);
      // Only arrays, only their own elements: an object's member values and nested arrays are not.
      expect(await ids({ meta: 1 })).toEqual([]);
      expect(await ids({ 'meta.deep': 2 })).toEqual([]);
      expect(await ids({ mixed: 'x' })).toEqual([]);
    });

    it('supports comparison, membership and existence operators', async () => {
      expect(await ids({ score: { $gt: 10, $lte: 30 } })).toEqual(['b', 'c']);
      expect(await ids({ name: { $in: ['ada', 'bob'] } })).toEqual(['a', 'b']);
      expect(await ids({ name: { $in: [] } })).toEqual([]);
      expect(await ids({ active: { $exists: false } })).toEqual(['c', 'd', 'e']);
      expect(await ids({ active: { $exists: true } })).toEqual(['a', 'b']);
      expect(await ids({ active: { $in: [true, null] } })).toEqual(['a', 'c', 'd', 'e']);
    });

    it('matches documents without the field for $ne and $nin, as Mongo does', async () => {
      expect(await ids({ name: { $nin: ['ada'] } })).toEqual(['b', 'c', 'd', 'e']);
      expect(await ids({ name: { $ne: 'ada' } })).toEqual(['b', 'c', 'd', 'e']);
      expect(await ids({ tags: { $ne: 'x' } })).toEqual(['b', 'd', 'e']);
      expect(await ids({ active: { $ne: true } })).toEqual(['b', 'c', 'd', 'e']);
      expect(await ids({ active: { $nin: [] } })).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(await ids({ nothing: { $ne: null } })).toEqual([]);
    });

    it('compares only values of the operand’s type', async () => {
      // score is 10, 20, 30 (numbers), '25' (a string) and true (a boolean).
      expect(await ids({ score: { $gt: 0 } })).toEqual(['a', 'b', 'c']);
      expect(await ids({ score: { $gte: '' } })).toEqual(['d']);
      expect(await ids({ score: { $lt: '3' } })).toEqual(['d']);
      expect(await ids({ score: { $gte: false } })).toEqual(['e']);
      expect(await ids({ score: { $gt: true } })).toEqual([]);
      // Strings compare by code point: 'Z' (U+005A) < 'a' < 'o' < 'ë' < U+1F600.
      expect(await ids({ name: { $gt: 'b' } })).toEqual(['b', 'c', 'e']);
      expect(await ids({ name: { $lt: 'a' } })).toEqual(['d']);
    });

    it('sorts by type then value, strings by code point, missing first; skips, limits and counts', async () => {
      expect(await ordered({ $sort: { name: 1 } })).toEqual(['d', 'a', 'b', 'c', 'e']);
      expect(await ordered({ $sort: { name: -1 } })).toEqual(['e', 'c', 'b', 'a', 'd']);
      // Missing (none here) and null first, numbers, then strings; ties by document id.
      expect(await ordered({ score: { $ne: true }, $sort: { score: 1 } })).toEqual(['a', 'b', 'c', 'd']);
      expect(await ordered({ $sort: { active: 1, name: 1 } }).then((r) => r.slice(0, 3))).toEqual([
        'd',
        'c',
        'e',
      ]);
      expect(await ordered({ $sort: { 'meta.deep.level': -1 }, $skip: 1, $limit: 1 })).toEqual(['a']);
      expect(await ordered({ $sort: [['score', -1]], $limit: 0 })).toEqual([]);
      expect((await query({ tags: ['x'], $count: true })).extra).toBe(2);
      expect((await query({ tags: ['x'], $count: true })).result).toEqual([]);
    });

    it('treats field names as data, never SQL', async () => {
      expect(await ids({ "x') OR 1=1 --": 1 })).toEqual([]);
      expect(await ids({ 'meta.dotted': 1 })).toEqual([]);
      expect((await query({ $sort: { "name') --": 1 } })).result).toHaveLength(5);
    });

    it('rejects what it does not implement instead of ignoring it', async () => {
      expect(await refusal({ $where: 'true' })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ score: { $regex: 'a' } })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ $or: [{ a: 1 }] })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ $limit: -1 })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ score: { $gt: [1] } })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ score: { $in: 1 } })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ score: Number.NaN })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ score: { $lt: Number.POSITIVE_INFINITY } })).toBe(ErrorCode.INVALID_MESSAGE);
    });

    it('refuses hostile queries with a typed error, never a database error', async () => {
      for (const key of ['a\u0000b', 'a"b', 'a\\b', 'a\nb', 'a..b', '']) {
        expect(await refusal({ [key]: 1 })).toBe(ErrorCode.INVALID_MESSAGE);
        expect(await refusal({ $sort: { [key]: 1 } })).toBe(ErrorCode.INVALID_MESSAGE);
      }
      expect(await refusal({ $limit: 1e308 })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ $skip: 2 ** 63 })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ $limit: 1.5 })).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await refusal({ name: { $in: Array.from({ length: 2_000 }, (_, i) => i) } })).toBe(
        ErrorCode.TOO_LARGE,
      );
      expect(await refusal(Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`f${i}`, i])))).toBe(
        ErrorCode.TOO_LARGE,
      );
      expect(
        await refusal({ $sort: Object.fromEntries(Array.from({ length: 2_500 }, (_, i) => [`f${i}`, 1])) }),
      ).toBe(ErrorCode.TOO_LARGE);
      const wide = Object.fromEntries(
        Array.from({ length: 60 }, (_, i) => [`f${i}`, { $in: Array.from({ length: 256 }, (_, j) => j) }]),
      );
      expect(await refusal(wide)).toBe(ErrorCode.TOO_LARGE);
      // The largest accepted lists run.
      expect(await ids({ score: { $in: Array.from({ length: 256 }, (_, i) => i * 10) } })).toEqual([
        'a',
        'b',
        'c',
      ]);
      expect(await ids({ score: { $nin: Array.from({ length: 256 }, (_, i) => i + 1000) } })).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
      ]);
      const fourLists = Object.fromEntries(
        ['score', 'name', 'active', 'nothing'].map((f) => [
          f,
          { $nin: Array.from({ length: 256 }, (_, j) => -j) },
        ]),
      );
      expect(await ids(fourLists)).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('queries a document whose strings hold NUL, and returns its data exactly', async () => {
      expect(await ids({ name: 'Zoë', score: '25' })).toEqual(['d']);
      const [found] = (await query({ name: 'Zoë' })).result;
      expect(found.data).toEqual(docs.d);
    });

    it('polls a single document only for per-document queries', async () => {
      const poll = (id: string, q: Record<string, unknown>) =>
        call<boolean>((cb) => storage.db.queryPollDoc('q', id, q, null, cb)).then((r) => r.result);
      // @types/sharedb declares canPollDoc without its (collection, query) arguments.
      const db = storage.db as unknown as { canPollDoc(collection: string, query: unknown): boolean };
      expect(db.canPollDoc('q', { name: 'ada' })).toBe(true);
      expect(db.canPollDoc('q', { $sort: { name: 1 } })).toBe(false);
      expect(await poll('a', { name: 'ada' })).toBe(true);
      expect(await poll('b', { name: 'ada' })).toBe(false);
      expect(await poll('gone', { name: 'ada' })).toBe(false);
      expect(await poll('missing', {})).toBe(false);
    });
  });
}

/**
 * Tandem's storage conformance suite: what Tandem relies on beyond ShareDB's own suites (metadata
 * round trip, optimistic version races, single-query bulk reads, durability across reopen, the
 * query subset). Run it against every adapter:
 *
 *   runStorageConformance({ name: 'sqlite', create: () => createStorage('sqlite:/tmp/x.db'), reopen: … })
 *
 * Needs vitest (a dev dependency of whoever runs it). Documents use ShareDB's built-in json0 type so
 * the suite depends on no document type package.
 */
import ShareDB from 'sharedb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Storage, StoredOp, StoredSnapshot } from './types';

export {
  TEST_POSTGRES_URL,
  type TestSchemas,
  testPostgresUnavailable,
  testSchemas,
} from './postgres/testing';

export interface StorageConformanceSetup {
  /** Shown in test names. */
  name: string;
  /** A fresh, empty store. */
  create(): Promise<Storage>;
  /** Open the same store again after `close()`; omit for stores that do not persist (memory). */
  reopen?(closed: Storage): Promise<Storage>;
  /** Whether the adapter implements the Mongo-style query subset. @default true */
  queries?: boolean;
}

type Callback<T> = (error?: unknown, result?: T, extra?: unknown) => void;

/** Call a callback-style method and await its result. */
function call<T>(invoke: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    invoke((error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

function callWithExtra<T>(invoke: (callback: Callback<T>) => void): Promise<{ result: T; extra: unknown }> {
  return new Promise((resolve, reject) =>
    invoke((error, result, extra) => (error ? reject(error) : resolve({ result: result as T, extra }))),
  );
}

const COLLECTION = 'conformance';

// @types/sharedb does not declare `ShareDB.ot`, which sharedb exports (it is how SubmitRequest applies ops).
const ot = (
  ShareDB as unknown as { ot: { apply(snapshot: StoredSnapshot, op: StoredOp): Error | undefined } }
).ot;

/** Apply an op the way ShareDB's SubmitRequest does, then commit it: resolves to the commit's verdict. */
async function submit(db: ShareDB.DB, id: string, op: StoredOp): Promise<boolean> {
  const snapshot = await call<StoredSnapshot>((cb) =>
    db.getSnapshot(COLLECTION, id, { $submit: true }, null, cb),
  );
  if (snapshot.v !== op.v) return false;
  const error = ot.apply(snapshot, op);
  if (error) throw error;
  return call<boolean>((cb) => db.commit(COLLECTION, id, op, snapshot, null, cb));
}

function docOps(backend: ShareDB, id: string) {
  const doc = backend.connect().get(COLLECTION, id);
  return {
    doc,
    create: (data: unknown) => call<void>((cb) => doc.create(data, 'json0', (error) => cb(error))),
    op: (op: unknown) => call<void>((cb) => doc.submitOp(op, {}, (error) => cb(error))),
    del: () => call<void>((cb) => doc.del({}, (error) => cb(error))),
  };
}

/** Replay a document's op log from nothing with ShareDB's own apply. */
function replay(id: string, ops: StoredOp[]): StoredSnapshot {
  const snapshot: StoredSnapshot = { id, v: 0, type: null, data: undefined, m: null };
  for (const op of ops) {
    const error = ot.apply(snapshot, op);
    if (error) throw error;
  }
  return snapshot;
}

export function runStorageConformance(setup: StorageConformanceSetup): void {
  describe(`storage conformance: ${setup.name}`, () => {
    let storage: Storage;
    let backend: ShareDB;

    beforeEach(async () => {
      storage = await setup.create();
      backend = new ShareDB({ db: storage.db, milestoneDb: storage.milestoneDb });
    });

    afterEach(async () => {
      await call<void>((cb) => backend.close(cb));
      await storage.close();
    });

    it('stores op metadata and returns it only when asked', async () => {
      // Tandem's history middleware stamps author/session on every op like this.
      backend.use('submit', (request, next) => {
        Object.assign(request.op.m as Record<string, unknown>, { author: 'ada', session: 's1' });
        next();
      });
      const d = docOps(backend, 'meta');
      await d.create({ title: 'x' });
      await d.op([{ p: ['title'], od: 'x', oi: 'y' }]);
      const withMeta = await call<StoredOp[]>((cb) =>
        storage.db.getOps(COLLECTION, 'meta', 0, null, { metadata: true }, cb),
      );
      expect(withMeta.map((op) => op.m?.author)).toEqual(['ada', 'ada']);
      expect(withMeta[1].m?.session).toBe('s1');
      expect(typeof withMeta[1].m?.ts).toBe('number');
      const bare = await call<StoredOp[]>((cb) => storage.db.getOps(COLLECTION, 'meta', 0, null, null, cb));
      expect(bare.every((op) => op.m === undefined)).toBe(true);
      const bulk = await call<Record<string, StoredOp[]>>((cb) =>
        storage.db.getOpsBulk(COLLECTION, { meta: 1 }, null, { metadata: true }, cb),
      );
      expect(bulk.meta.map((op) => op.m?.author)).toEqual(['ada']);
      const snapshot = await call<StoredSnapshot>((cb) =>
        storage.db.getSnapshot(COLLECTION, 'meta', null, { metadata: true }, cb),
      );
      expect(typeof snapshot.m?.mtime).toBe('number');
    });

    it('lets exactly one of several commits at one version win, and refuses version gaps', async () => {
      expect(await submit(storage.db, 'race', { v: 0, create: { type: 'json0', data: { n: 0 } } })).toBe(
        true,
      );
      const contenders = Array.from({ length: 8 }, (_, i) =>
        submit(storage.db, 'race', { v: 1, op: [{ p: ['n'], na: i + 1 }] }),
      );
      const verdicts = await Promise.all(contenders);
      expect(verdicts.filter(Boolean)).toHaveLength(1);
      const snapshot = await call<StoredSnapshot>((cb) =>
        storage.db.getSnapshot(COLLECTION, 'race', null, null, cb),
      );
      expect(snapshot.v).toBe(2);
      // A commit that skips a version is refused, not stored.
      const gap = { id: 'race', v: 4, type: snapshot.type, data: snapshot.data, m: null };
      expect(
        await call<boolean>((cb) => storage.db.commit(COLLECTION, 'race', { v: 3, op: [] }, gap, null, cb)),
      ).toBe(false);
      const ops = await call<StoredOp[]>((cb) => storage.db.getOps(COLLECTION, 'race', 0, null, null, cb));
      expect(ops.map((op) => op.v)).toEqual([0, 1]);
    });

    it('reads several documents in one bulk call, including missing ones and ranges', async () => {
      for (const id of ['a', 'b', 'c']) {
        const d = docOps(backend, id);
        await d.create({ id });
        for (let i = 0; i < 3; i++) await d.op([{ p: ['i'], oi: i }]);
      }
      const snapshots = await call<Record<string, StoredSnapshot>>((cb) =>
        storage.db.getSnapshotBulk(COLLECTION, ['a', 'b', 'missing'], null, null, cb),
      );
      expect(Object.keys(snapshots).sort()).toEqual(['a', 'b', 'missing']);
      expect(snapshots.a).toMatchObject({ id: 'a', v: 4, data: { id: 'a', i: 2 } });
      expect(snapshots.missing).toMatchObject({ id: 'missing', v: 0, type: null });
      const ops = await call<Record<string, StoredOp[]>>((cb) =>
        storage.db.getOpsBulk(COLLECTION, { a: 0, b: 2, c: 1, missing: 0 }, { c: 3 }, null, cb),
      );
      expect(ops.a.map((op) => op.v)).toEqual([0, 1, 2, 3]);
      expect(ops.b.map((op) => op.v)).toEqual([2, 3]);
      expect(ops.c.map((op) => op.v)).toEqual([1, 2]);
      expect(ops.missing).toEqual([]);
    });

    it('keeps the snapshot equal to the replay of its ops, through delete and re-create', async () => {
      const d = docOps(backend, 'life');
      await d.create({ list: [] });
      for (let i = 0; i < 5; i++) await d.op([{ p: ['list', i], li: i }]);
      await d.del();
      await d.create({ again: true });
      const ops = await call<StoredOp[]>((cb) => storage.db.getOps(COLLECTION, 'life', 0, null, null, cb));
      expect(ops.map((op) => op.v)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const snapshot = await call<StoredSnapshot>((cb) =>
        storage.db.getSnapshot(COLLECTION, 'life', null, null, cb),
      );
      expect(snapshot).toMatchObject({ v: 8, data: { again: true } });
      const replayed = replay('life', ops);
      expect(replayed.data).toEqual(snapshot.data);
      expect(replayed.v).toBe(snapshot.v);
    });

    it('finds the version an op was committed at by its src and seq', async () => {
      const d = docOps(backend, 'seen');
      await d.create({});
      await d.op([{ p: ['k'], oi: 1 }]);
      const ops = await call<StoredOp[]>((cb) => storage.db.getOps(COLLECTION, 'seen', 0, null, null, cb));
      const snapshot = await call<StoredSnapshot>((cb) =>
        storage.db.getSnapshot(COLLECTION, 'seen', null, null, cb),
      );
      const probe = { ...ops[1], v: 0 };
      const version = await call<number | undefined>((cb) =>
        storage.db.getCommittedOpVersion(COLLECTION, 'seen', snapshot, probe, null, cb),
      );
      expect(version).toBe(1);
    });

    // Capabilities an adapter declares it lacks (MemoryDB's queries, reopening an in-memory store) are
    // not registered at all: a skipped test would hide why.
    if (setup.queries !== false)
      it('answers the Mongo-style query subset', async () => {
        const people = [
          { name: 'ada', age: 36, address: { city: 'London' } },
          { name: 'alan', age: 41, address: { city: 'Wilmslow' } },
          { name: 'grace', age: 85, address: { city: 'New York' } },
          { name: 'linus', age: 36, address: { city: 'Portland' } },
        ];
        for (const person of people) await docOps(backend, person.name).create(person);
        const query = async (q: Record<string, unknown>) => {
          const { result, extra } = await callWithExtra<StoredSnapshot[]>((cb) =>
            storage.db.query(COLLECTION, q, null as never, null, cb as never),
          );
          return { ids: result.map((s) => s.id), extra };
        };
        expect((await query({ age: 36, $sort: { name: 1 } })).ids).toEqual(['ada', 'linus']);
        expect((await query({ 'address.city': 'New York' })).ids).toEqual(['grace']);
        expect((await query({ $sort: { age: -1, name: 1 } })).ids).toEqual(['grace', 'alan', 'ada', 'linus']);
        expect((await query({ $sort: { name: 1 }, $skip: 1, $limit: 2 })).ids).toEqual(['alan', 'grace']);
        expect((await query({ age: 36, $count: true })).extra).toBe(2);
      });

    if (setup.reopen)
      it('keeps every acknowledged op across close and reopen', async () => {
        const d = docOps(backend, 'durable');
        await d.create({ items: [] });
        for (let i = 0; i < 20; i++) await d.op([{ p: ['items', i], li: `item-${i}` }]);
        await call<void>((cb) => backend.close(cb));
        await storage.close();

        storage = await (setup.reopen as NonNullable<StorageConformanceSetup['reopen']>)(storage);
        backend = new ShareDB({ db: storage.db, milestoneDb: storage.milestoneDb });
        const ops = await call<StoredOp[]>((cb) =>
          storage.db.getOps(COLLECTION, 'durable', 0, null, null, cb),
        );
        expect(ops.map((op) => op.v)).toEqual(Array.from({ length: 21 }, (_, i) => i));
        const snapshot = await call<StoredSnapshot>((cb) =>
          storage.db.getSnapshot(COLLECTION, 'durable', null, null, cb),
        );
        expect((snapshot.data as { items: string[] }).items).toHaveLength(20);
        expect(replay('durable', ops).data).toEqual(snapshot.data);
        // The reopened store accepts new ops at the next version.
        const again = docOps(backend, 'durable');
        await call<void>((cb) => again.doc.fetch(cb));
        await again.op([{ p: ['items', 20], li: 'after-reopen' }]);
        expect(again.doc.version).toBe(22);
      });
  });
}

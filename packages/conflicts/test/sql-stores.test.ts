/**
 * The same guarantees on the durable stores, SQLite and PostgreSQL (skipped with the reason printed
 * when it cannot be reached), with two stores opened on one file or schema the way two server
 * processes would (each has its own connection; the store decides commit races).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replace, spliceTextAtCodePoint } from '@tandem/ot';
import { createStorage, type Storage } from '@tandem/storage';
import { testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { concurrently, create, serverData, setup, submit, twoClients } from './helpers';

let dir: string;
const schemas = testSchemas();
afterAll(() => schemas.dropAll());
const postgresSkip = await testPostgresUnavailable();
if (postgresSkip) console.log(`@tandem/conflicts: ${postgresSkip}`);

/** Each store names a fresh location per test; `open` may be called twice for one location. */
const stores = [
  { name: 'SQLite', skip: undefined, location: () => `sqlite:${join(dir, 'tandem.db')}` },
  { name: 'PostgreSQL', skip: postgresSkip, location: () => schemas.next() },
];

const opened: Storage[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-conflicts-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

for (const store of stores)
  describe.skipIf(store.skip)(`on ${store.name}`, () => {
    let url: string;
    beforeEach(() => {
      url = store.location();
    });
    const open = async () => {
      const storage = await createStorage(url);
      opened.push(storage);
      return storage;
    };

    test('a manual conflict is recorded, stored and resolved', async () => {
      const storage = await open();
      const s = setup({ policies: { notes: { '/body': 'manual' } } }, storage.db, storage.milestoneDb);
      const { a, b } = await twoClients(s, { body: 'the cat' });
      await concurrently(
        a,
        spliceTextAtCodePoint(['body'], 4, 3, 'dog'),
        b,
        spliceTextAtCodePoint(['body'], 4, 3, 'cow'),
      );
      await s.handle.flush();
      const [open1] = await s.handle.list({ collection: 'notes', docId: 'n1', status: 'open' });
      expect(open1).toMatchObject({
        kind: 'overlapping-text',
        committedValue: 'the dog',
        incomingValue: 'the cow',
      });
      await s.handle.resolve({
        collection: 'notes',
        docId: 'n1',
        id: open1.id,
        choose: 'incoming',
        by: { id: 'carol' },
      });
      expect(await serverData(s)).toEqual({ body: 'the cow' });
      expect(await s.handle.list({ author: 'bob', status: 'open' })).toEqual([]);
      // Each record is its own stored document, found by a store query (by document, by author).
      expect(await s.handle.list({ author: 'bob', status: 'resolved' })).toMatchObject([
        { id: open1.id, status: 'resolved', choice: 'incoming' },
      ]);
      expect(await s.handle.list({ author: 'carol' })).toEqual([]);
      expect(await s.handle.list({ collection: 'notes', docId: 'n2' })).toEqual([]);
    });

    test('two stores on one file or schema: racing acquires, exactly one wins; a lock taken on one refuses ops on the other', async () => {
      const one = setup({}, (await open()).db);
      const two = setup({}, (await open()).db);
      for (let round = 0; round < 5; round++) {
        const req = (owner: string) => ({ collection: 'notes', docId: 'n1', path: ['f', round], owner });
        const results = await Promise.all([
          one.handle.locks.tryAcquire(req('alice')),
          two.handle.locks.tryAcquire(req('bob')),
          one.handle.locks.tryAcquire(req('carol')),
          two.handle.locks.tryAcquire(req('dave')),
        ]);
        expect(results.filter((r) => r.ok)).toHaveLength(1);
      }
      await one.handle.locks.acquire({ collection: 'notes', docId: 'n1', path: ['title'], owner: 'alice' });
      const doc = two.connect('bob').get('notes', 'n1');
      await create(doc, { title: 't' });
      await expect(submit(doc, replace(['title'], 'x', 't'))).rejects.toMatchObject({ code: 'LOCKED' });
    });
  });

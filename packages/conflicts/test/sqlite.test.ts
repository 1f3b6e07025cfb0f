/**
 * The same guarantees on the embedded SQLite store, with two stores opened on one file the way two
 * server processes would (each has its own connection; SQLite decides commit races).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replace, spliceTextAtCodePoint } from '@tandem/ot';
import { createStorage, type Storage } from '@tandem/storage';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { concurrently, create, serverData, setup, submit, twoClients } from './helpers';

let dir: string;
const opened: Storage[] = [];
const open = async () => {
  const storage = await createStorage(`sqlite:${join(dir, 'tandem.db')}`);
  opened.push(storage);
  return storage;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tandem-conflicts-'));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('on SQLite', () => {
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

  test('two stores on one file: racing acquires, exactly one wins; a lock taken on one refuses ops on the other', async () => {
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

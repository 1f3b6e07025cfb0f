import { createStorage, type Storage } from '@tandem/storage';
import { runStorageConformance, testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import { afterAll, describe } from 'vitest';
import { MONGO_SKIP_REASON, MONGO_URL, tempFiles } from './helpers';

const files = tempFiles('conformance');

runStorageConformance({
  name: 'sqlite file',
  create: () => createStorage(`sqlite:${files.file()}`),
  reopen: (closed: Storage) => createStorage(`sqlite:${closed.location}`),
});

runStorageConformance({ name: 'sqlite::memory:', create: () => createStorage('sqlite::memory:') });

// ShareDB's MemoryDB has no query language (every query matches every document).
runStorageConformance({ name: 'memory:', create: () => createStorage('memory:'), queries: false });

const postgresSkip = await testPostgresUnavailable();
if (postgresSkip) console.log(postgresSkip);
describe.skipIf(postgresSkip)('postgres (the test database, a schema per store)', () => {
  const schemas = testSchemas();
  afterAll(() => schemas.dropAll());
  const urls = new WeakMap<Storage, string>();
  runStorageConformance({
    name: 'postgres',
    create: async () => {
      const url = schemas.next();
      const storage = await createStorage(url);
      urls.set(storage, url);
      return storage;
    },
    reopen: (closed: Storage) => createStorage(urls.get(closed) as string),
  });
});

// Never a mock standing in for MongoDB: without a real server these tests are skipped, and say why.
if (!MONGO_URL) console.log(MONGO_SKIP_REASON);
describe.skipIf(!MONGO_URL)('mongodb (MONGO_URL)', () => {
  const url = new URL(MONGO_URL ?? 'mongodb://unset');
  runStorageConformance({
    name: 'mongodb',
    create: () => {
      // A fresh database per test: the suite assumes empty collections.
      url.pathname = `/tandem_conformance_${process.pid}_${Date.now()}_${Math.random().toString(36).slice(2)}`;
      return createStorage(url.toString());
    },
    reopen: () => createStorage(url.toString()),
  });
});

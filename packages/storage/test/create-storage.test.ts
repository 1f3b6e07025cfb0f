import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, isTandemError } from '@tandem/protocol';
import { createStorage, DEFAULT_STORAGE_URL, SqliteDB, SqliteMilestoneDB } from '@tandem/storage';
import ShareDB from 'sharedb';
import { describe, expect, it } from 'vitest';
import { MONGO_SKIP_REASON, MONGO_URL, tempFiles } from './helpers';

const files = tempFiles('create');

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTandemError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe('createStorage', () => {
  it('defaults to SQLite at ./data/tandem.db', () => {
    expect(DEFAULT_STORAGE_URL).toBe('sqlite:./data/tandem.db');
  });

  it('opens a SQLite file (creating its directory) that ShareDB can use', async () => {
    const path = join(files.dir, 'nested', 'dir', 'tandem.db');
    const storage = await createStorage(`sqlite:${path}`);
    expect(storage.kind).toBe('sqlite');
    expect(storage.db).toBeInstanceOf(SqliteDB);
    expect(storage.milestoneDb).toBeInstanceOf(SqliteMilestoneDB);
    expect(existsSync(path)).toBe(true);
    const backend = new ShareDB({ db: storage.db, milestoneDb: storage.milestoneDb });
    const doc = backend.connect().get('notes', 'n1');
    await new Promise<void>((resolve, reject) => doc.create({ a: 1 }, (e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    // Closing twice (backend.close already closed the adapters) is harmless.
    await storage.close();
    await storage.close();
  });

  it('accepts sqlite:// forms, sqlite::memory: and memory:', async () => {
    const triple = await createStorage(`sqlite://${files.file()}`);
    expect(triple.kind).toBe('sqlite');
    await triple.close();
    const memorySqlite = await createStorage('sqlite::memory:');
    expect(memorySqlite.db).toBeInstanceOf(SqliteDB);
    expect(memorySqlite.location).toBe(':memory:');
    await memorySqlite.close();
    const memory = await createStorage('memory:');
    expect(memory.kind).toBe('memory');
    expect(memory.db).toBeInstanceOf(ShareDB.MemoryDB);
    await memory.close();
  });

  it('rejects unknown schemes with INVALID_CONFIG, hiding credentials', async () => {
    await expectCode(createStorage('mysql://user:secret@db/x'), ErrorCode.INVALID_CONFIG);
    const error = await createStorage('redis://user:secret@host').catch((e: Error) => e);
    expect(String((error as Error).message)).not.toContain('secret');
    await expectCode(createStorage('sqlite:'), ErrorCode.INVALID_CONFIG);
    await expectCode(
      createStorage('sqlite:x.db', { synchronous: 'sometimes' as never }),
      ErrorCode.INVALID_CONFIG,
    );
  });

  it('reports an unusable SQLite path as STORAGE_UNAVAILABLE', async () => {
    // The "directory" is a regular file, so neither mkdir nor open can succeed.
    const notADirectory = join(files.dir, 'plain-file');
    writeFileSync(notADirectory, 'x');
    await expectCode(
      createStorage(`sqlite:${join(notADirectory, 'tandem.db')}`),
      ErrorCode.STORAGE_UNAVAILABLE,
    );
  });

  it('reports an unreachable MongoDB as STORAGE_UNAVAILABLE (real driver, nothing listening)', async () => {
    // Port 1 on loopback: connection refused at once; the short timeout bounds server selection.
    await expectCode(
      createStorage('mongodb://127.0.0.1:1/tandem', { mongo: { connectTimeoutMs: 300 } }),
      ErrorCode.STORAGE_UNAVAILABLE,
    );
  });

  if (!MONGO_URL) console.log(MONGO_SKIP_REASON);
  it.skipIf(!MONGO_URL)('opens the MongoDB preset (MONGO_URL)', async () => {
    const storage = await createStorage(MONGO_URL as string);
    expect(storage.kind).toBe('mongodb');
    await storage.close();
  });
});

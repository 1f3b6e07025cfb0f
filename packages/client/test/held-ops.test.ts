// A submit the server could not store (STORAGE_UNAVAILABLE) is held and resent, never rolled back:
// the edit stays, later edits queue behind it, and it is committed exactly once when the store is
// back, even when the failed attempt did reach the database (a lost reply).
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

type Callback = (error: unknown, succeeded?: boolean) => void;

let server: AttachedTandem;
/** What the store does with the next commits: work, fail, or commit and then report a failure. */
let mode: 'up' | 'down' | 'lost-reply' = 'up';
let commits = 0;

beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:' });
  const db = (await server.tandem.backend()).db as unknown as { commit(...args: unknown[]): void };
  const commit = db.commit.bind(db);
  db.commit = (...args: unknown[]) => {
    commits++;
    const callback = args[args.length - 1] as Callback;
    const unavailable = new TandemError(ErrorCode.STORAGE_UNAVAILABLE, 'database unreachable (test)');
    if (mode === 'down') return callback(unavailable);
    if (mode === 'lost-reply') {
      mode = 'up';
      return commit(...args.slice(0, -1), (error: unknown) => callback(error ?? unavailable));
    }
    commit(...args);
  };
});
afterAll(async () => {
  await server.close();
});

async function stored(id: string): Promise<{ v: number; data: { text: string } }> {
  const backend = await server.tandem.backend();
  const doc = backend.connect().get('held', id);
  await new Promise<void>((resolve, reject) => doc.fetch((e) => (e ? reject(e) : resolve())));
  return { v: doc.version as number, data: doc.data };
}

describe('ops the server could not store', () => {
  it('are held while the store is down and committed once it is back; the client says so once', async () => {
    const writer = client(server.url());
    const reader = client(server.url());
    try {
      const doc = writer.doc<{ text: string }>('held', 'down');
      await doc.create({ text: '' });
      const other = reader.doc<{ text: string }>('held', 'down');
      await other.subscribe();
      const errors: TandemError[] = [];
      writer.on('error', (error) => errors.push(error));

      mode = 'down';
      const before = commits;
      const first = doc.submit(['text', { es: ['a'] }]);
      await until(() => commits > before, 5_000, 'the first attempt');
      // Queued behind the held op (ShareDB sends one op of a doc at a time).
      const second = doc.submit(['text', { es: [1, 'b'] }]);
      let settled = false;
      void Promise.allSettled([first, second]).then(() => {
        settled = true;
      });
      // Several attempts fail; the edits stay, nothing is settled.
      await until(() => commits >= before + 3, 5_000, 'three failed attempts');
      expect(settled).toBe(false);
      expect(doc.data).toEqual({ text: 'ab' });
      expect(writer.unsyncedCount).toBe(2);
      expect(errors.map((e) => e.code)).toEqual([ErrorCode.STORAGE_UNAVAILABLE]);

      mode = 'up';
      await Promise.all([first, second]);
      expect(writer.unsyncedCount).toBe(0);
      expect(await stored('down')).toEqual({ v: 3, data: { text: 'ab' } });
      await until(() => other.version === 3, 5_000, 'the reader at v3');
      expect(other.data).toEqual({ text: 'ab' });
      expect(errors).toHaveLength(1);
    } finally {
      mode = 'up';
      await writer.close();
      await reader.close();
    }
  });

  it('is committed once when the failed attempt did reach the database (a lost reply)', async () => {
    const writer = client(server.url());
    try {
      const doc = writer.doc<{ text: string }>('held', 'lost');
      await doc.create({ text: 'x' });
      mode = 'lost-reply';
      await doc.submit(['text', { es: [1, 'y'] }]);
      await doc.submit(['text', { es: [2, 'z'] }]);
      expect(doc.data).toEqual({ text: 'xyz' });
      expect(await stored('lost')).toEqual({ v: 3, data: { text: 'xyz' } });
    } finally {
      mode = 'up';
      await writer.close();
    }
  });

  it('other errors still roll the op back', async () => {
    const writer = client(server.url());
    try {
      const doc = writer.doc<{ text: string }>('held', 'never-created');
      await doc.fetch();
      await expect(doc.submit(['text', { i: 'x' }])).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
      expect(writer.unsyncedCount).toBe(0);
    } finally {
      await writer.close();
    }
  });
});

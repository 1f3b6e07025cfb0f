/**
 * Lock policy and the lock store's cost: document owners are never locked out, only they lock the
 * root, caps are typed refusals, and a burst of acquires costs a few small writes.
 */
import { LOCKS_COLLECTION, type LockRequest } from '@tandem/conflicts';
import { replace } from '@tandem/ot';
import ShareDB from 'sharedb';
import { describe, expect, test } from 'vitest';
import { fetch, serverData, setup, submit, twoClients } from './helpers';

const at = (path: (string | number)[], owner: string, extra: Partial<LockRequest> = {}): LockRequest => ({
  collection: 'notes',
  docId: 'n1',
  path,
  owner,
  ...extra,
});

/** Count what the lock store submits and commits, and the ops it leaves in the lock document's log. */
function watchLockStore(backend: ShareDB) {
  const seen = { submits: 0, commits: 0 };
  backend.use('submit', (request: { collection: string }, next: () => void) => {
    if (request.collection === LOCKS_COLLECTION) seen.submits++;
    next();
  });
  backend.use('commit', (request: { collection: string }, next: () => void) => {
    if (request.collection === LOCKS_COLLECTION) seen.commits++;
    next();
  });
  const opSizes = () =>
    new Promise<number[]>((resolve, reject) =>
      (backend.db as unknown as { getOps: (...a: unknown[]) => void }).getOps(
        LOCKS_COLLECTION,
        'notes/n1',
        0,
        null,
        {},
        (error: unknown, ops: { op?: unknown; create?: unknown }[]) =>
          error ? reject(error) : resolve(ops.map((o) => JSON.stringify(o.op ?? o.create).length)),
      ),
    );
  return { seen, opSizes };
}

describe('document owners', () => {
  const owners = { isDocumentOwner: (p: { id: string }) => p.id === 'olga' };

  test("an editor's lock does not bind the owner's ops; the owner's own lock binds the editor", async () => {
    const s = setup({ locks: owners });
    const { a: editor } = await twoClients(s, { title: 't', body: 'b' });
    const owner = s.connect('olga').get('notes', 'n1');
    await fetch(owner);
    await s.handle.locks.acquire(at(['title'], 'alice'));
    await submit(owner, replace(['title'], 'by the owner', 't'));
    expect(await serverData(s)).toEqual({ title: 'by the owner', body: 'b' });
    // A principal-less agent (no principal: identified by its client id) is never an owner.
    const anonymous = s.backend.connect().get('notes', 'n1');
    await fetch(anonymous);
    await expect(submit(anonymous, replace(['title'], 'x', 'by the owner'))).rejects.toMatchObject({
      code: 'LOCKED',
    });

    await s.handle.locks.acquire(at(['body'], 'olga'));
    await fetch(editor);
    await expect(submit(editor, replace(['body'], 'x', 'b'))).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('only an owner locks the root; its acquire takes over overlapping locks', async () => {
    const s = setup({ locks: owners });
    await expect(s.handle.locks.acquire(at([], 'alice'))).rejects.toMatchObject({
      code: 'FORBIDDEN',
      details: { reason: 'root' },
    });
    await s.handle.locks.acquire(at(['title'], 'alice'));
    await s.handle.locks.acquire(at(['body', 'intro'], 'bob'));
    const whole = await s.handle.locks.acquire(at([], 'olga'));
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([whole]);
    // The editor cannot take it back, nor any part of it.
    await expect(s.handle.locks.acquire(at(['title'], 'alice'))).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('the holder or an owner may release a lock; another editor may not', async () => {
    const s = setup({ locks: owners });
    const lock = await s.handle.locks.acquire(at(['title'], 'alice'));
    await expect(s.handle.locks.release(lock, { id: 'bob' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      details: { reason: 'not-holder' },
    });
    expect(await s.handle.locks.list('notes', 'n1')).toHaveLength(1);
    await s.handle.locks.release(lock, { id: 'olga' });
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([]);
    const again = await s.handle.locks.acquire(at(['title'], 'alice'));
    await s.handle.locks.release(again, { id: 'alice' });
    // Releasing what is gone is a no-op, for anyone.
    await s.handle.locks.release(again, { id: 'bob' });
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([]);
  });

  test('without isDocumentOwner nobody is an owner: nobody locks the root', async () => {
    const s = setup();
    await expect(s.handle.locks.acquire(at([], 'alice'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

describe('caps', () => {
  test('live locks per owner and per document are capped with TOO_LARGE; renewals, releases and expiry free slots', async () => {
    let clock = 0;
    const s = setup({ now: () => clock, locks: { maxPerOwner: 2, maxPerDocument: 3 } });
    const [a1] = [
      await s.handle.locks.acquire(at(['a1'], 'alice')),
      await s.handle.locks.acquire(at(['a2'], 'alice')),
    ];
    await expect(s.handle.locks.acquire(at(['a3'], 'alice'))).rejects.toMatchObject({
      code: 'TOO_LARGE',
      details: { limit: 2, what: 'locks per owner', collection: 'notes', id: 'n1' },
    });
    // A renewal is not a new lock.
    await s.handle.locks.renew(a1);
    // Another document is another budget.
    await s.handle.locks.acquire(at(['a3'], 'alice', { docId: 'n2' }));
    await s.handle.locks.acquire(at(['b1'], 'bob'));
    await expect(s.handle.locks.acquire(at(['c1'], 'carol'))).rejects.toMatchObject({
      code: 'TOO_LARGE',
      details: { limit: 3, what: 'locks' },
    });
    await s.handle.locks.release(a1);
    await s.handle.locks.acquire(at(['c1'], 'carol'));
    clock = 30_001; // every lock expired
    await s.handle.locks.acquire(at(['a3'], 'alice'));
    await s.handle.locks.acquire(at(['a4'], 'alice'));
    expect((await s.handle.locks.list('notes', 'n1')).map((l) => l.path[0]).sort()).toEqual(['a3', 'a4']);
  });

  test('caps and lifetimes are checked at install', () => {
    for (const locks of [
      { maxPerDocument: 0 },
      { maxPerOwner: 1.5 },
      { maxTtlMs: 1_000 }, // under the default lifetime
      { isDocumentOwner: true },
      { owners: [] },
    ]) {
      expect(() => setup({ locks: locks as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    }
  });
});

describe('cost', () => {
  test('1,000 acquires at once on one document: a few writes, every acquire decided (no lost races)', async () => {
    const s = setup({ locks: { maxPerDocument: 1_000, maxPerOwner: 1_000 } });
    const { seen, opSizes } = watchLockStore(s.backend);
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => s.handle.locks.tryAcquire(at(['f', i], `u${i % 10}`))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1_000);
    expect(seen.submits).toBeLessThanOrEqual(5);
    expect(seen.commits).toBe(seen.submits);
    expect((await opSizes()).length).toBe(seen.commits);
    expect(await s.handle.locks.list('notes', 'n1')).toHaveLength(1_000);
  });

  test('under the default caps, a burst of 1,000 from one owner gets its 10 and TOO_LARGE for the rest', async () => {
    const s = setup();
    const { seen } = watchLockStore(s.backend);
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => s.handle.locks.tryAcquire(at(['f', i], 'mallory'))),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(10);
    const codes = new Set(results.flatMap((r) => (r.ok ? [] : [r.error.code])));
    expect(codes).toEqual(new Set(['TOO_LARGE']));
    expect(seen.submits).toBeLessThanOrEqual(5);
  });

  test("an acquire's stored op does not grow with the number of locks on the document", async () => {
    const s = setup({ locks: { maxPerDocument: 200, maxPerOwner: 200 } });
    const { opSizes } = watchLockStore(s.backend);
    for (let i = 0; i < 200; i++) await s.handle.locks.acquire(at(['field', i], 'alice'));
    const sizes = await opSizes();
    expect(sizes).toHaveLength(200);
    // One lock's worth each (~200 bytes), the 200th like the 2nd (before: the whole list, ~40 KB).
    expect(Math.max(...sizes.slice(1))).toBeLessThan(400);
    expect(sizes[199]).toBeLessThanOrEqual(sizes[1] + 10);
  });

  test('a lock document in the older list form is read and rewritten as a map', async () => {
    const clock = 0;
    const db = new ShareDB.MemoryDB();
    const s = setup({ now: () => clock }, db);
    const old = {
      id: 'old',
      collection: 'notes',
      docId: 'n1',
      path: ['title'],
      owner: 'alice',
      expiresAt: 5_000,
    };
    const writer = s.backend.connect();
    s.handle.trustAgent((writer as unknown as { agent: object }).agent);
    await new Promise<void>((resolve, reject) =>
      writer
        .get(LOCKS_COLLECTION, 'notes/n1')
        .create({ locks: [old] }, 'json1', (e: unknown) => (e ? reject(e) : resolve())),
    );
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([old]);
    await expect(s.handle.locks.acquire(at(['title'], 'bob'))).rejects.toMatchObject({ code: 'LOCKED' });
    const mine = await s.handle.locks.acquire(at(['body'], 'bob'));
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([old, mine]);
  });
});

import { installConflicts, type Lock } from '@tandem/conflicts';
import { replace } from '@tandem/ot';
import ShareDB from 'sharedb';
import { describe, expect, test } from 'vitest';
import { concurrently, create, fetch, serverData, setup, submit, twoClients } from './helpers';

const at = (path: (string | number)[], owner: string, extra: Partial<Lock> = {}) => ({
  collection: 'notes',
  docId: 'n1',
  path,
  owner,
  ...extra,
});

describe('locks', () => {
  test('others are refused with LOCKED (path, owner, expiresAt) on the locked subtree; the owner is not', async () => {
    let clock = 1_000;
    const s = setup({ now: () => clock });
    const { a, b } = await twoClients(s, { form: { name: 'x', age: 1 }, other: 0 });
    await s.handle.locks.acquire({ ...at(['form'], 'alice'), ttlMs: 5_000 });

    // Refused ops roll back on the sender by inversion: removes carry their value (as @tandem/client sends them).
    await expect(submit(b, replace(['form', 'name'], 'B', 'x'))).rejects.toMatchObject({
      code: 'LOCKED',
      message: expect.stringContaining('/form is locked by alice'),
    });
    // ShareDB sends only { code, message } to clients; the server-side error carries the details.
    const agent = (s.connect('bob') as unknown as { agent: object }).agent;
    const refused = await new Promise((resolve) =>
      s.backend.submit(
        agent as never,
        'notes',
        'n1',
        { op: replace(['form', 'age'], 3) } as never,
        {},
        resolve,
      ),
    );
    expect(refused).toMatchObject({
      code: 'LOCKED',
      details: { path: ['form'], owner: 'alice', expiresAt: 6_000 },
    });
    await expect(submit(b, replace(['form'], {}, { name: 'x', age: 1 }))).rejects.toMatchObject({
      code: 'LOCKED',
    });
    await fetch(b);
    expect(b.data).toEqual({ form: { name: 'x', age: 1 }, other: 0 });
    await submit(b, replace(['other'], 1));
    await fetch(a);
    await submit(a, replace(['form', 'name'], 'A'));
    expect(await serverData(s)).toEqual({ form: { name: 'A', age: 1 }, other: 1 });

    // TTL: past expiresAt the lock no longer holds.
    clock = 6_001;
    await fetch(b);
    await submit(b, replace(['form', 'age'], 2));
    expect(await s.handle.locks.list('notes', 'n1')).toEqual([]);
  });

  test('overlapping acquire by another owner fails; the same owner renews', async () => {
    let clock = 0;
    const s = setup({ now: () => clock });
    const first = await s.handle.locks.acquire({ ...at(['body'], 'alice'), ttlMs: 1_000 });
    const inside = await s.handle.locks.tryAcquire(at(['body', 'x'], 'bob'));
    expect(inside.ok).toBe(false);
    if (!inside.ok) expect(inside.error.code).toBe('LOCKED');
    await expect(s.handle.locks.acquire(at(['body', 'x', 0], 'bob'))).rejects.toMatchObject({
      code: 'LOCKED',
    });
    expect((await s.handle.locks.acquire(at(['title'], 'bob'))).owner).toBe('bob');
    clock = 500;
    const renewed = await s.handle.locks.renew(first, 2_000);
    expect(renewed).toMatchObject({ id: first.id, expiresAt: 2_500 });
    expect(await s.handle.locks.list('notes', 'n1')).toHaveLength(2);
    await s.handle.locks.release(renewed);
    expect((await s.handle.locks.acquire(at(['body'], 'bob'))).owner).toBe('bob');
  });

  test('releaseOwner (on disconnect) frees every lock of an owner or session', async () => {
    const s = setup();
    await s.handle.locks.acquire(at(['a'], 'alice', { sessionId: 's1' }));
    await s.handle.locks.acquire({ ...at(['b'], 'alice'), docId: 'n2' });
    await s.handle.locks.acquire(at(['c'], 'bob'));
    await s.handle.locks.releaseOwner('s1');
    expect((await s.handle.locks.list('notes', 'n1')).map((l) => l.owner)).toEqual(['bob']);
    expect(await s.handle.locks.list('notes', 'n2')).toHaveLength(1);
    await s.handle.locks.releaseOwner('alice');
    expect(await s.handle.locks.list('notes', 'n2')).toEqual([]);
  });

  test('a TTL over the maximum is refused', async () => {
    const s = setup({ locks: { defaultTtlMs: 500, maxTtlMs: 1_000 } });
    await expect(s.handle.locks.acquire({ ...at(['a'], 'alice'), ttlMs: 5_000 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
  });

  test('two backends sharing one store: racing acquires, exactly one wins; both honour it', async () => {
    const db = new ShareDB.MemoryDB();
    const one = setup({}, db);
    const two = setup({}, db);
    for (let round = 0; round < 20; round++) {
      // Overlapping, not only equal: a field, a key inside it, the same field, a deeper key.
      const results = await Promise.all([
        one.handle.locks.tryAcquire(at(['field', round], `alice${round}`)),
        two.handle.locks.tryAcquire(at(['field', round, 'x'], `bob${round}`)),
        one.handle.locks.tryAcquire(at(['field', round], `carol${round}`)),
        two.handle.locks.tryAcquire(at(['field', round, 'x', 0], `dave${round}`)),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      // The others lost to the winner's lock, not to the race.
      for (const r of results) if (!r.ok) expect(r.error.code).toBe('LOCKED');
    }
    const owners = await one.handle.locks.list('notes', 'n1');
    expect(owners).toHaveLength(20);
    expect(await two.handle.locks.list('notes', 'n1')).toEqual(owners);

    // A lock taken through one process refuses ops submitted through the other.
    await one.handle.locks.acquire(at(['title'], 'alice'));
    const doc = two.connect('bob').get('notes', 'n1');
    await create(doc, { title: 't' });
    await expect(submit(doc, replace(['title'], 'x'))).rejects.toMatchObject({ code: 'LOCKED' });
  });

  test('a locked path refuses the op even when it is concurrent with others', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { title: 'x', body: 'y' });
    await s.handle.locks.acquire(at(['body'], 'alice'));
    expect(await concurrently(a, replace(['body'], 'A'), b, replace(['body'], 'B'))).toMatchObject({
      code: 'LOCKED',
    });
    expect(await serverData(s)).toEqual({ title: 'x', body: 'A' });
  });

  test('installing on a backend without options works (defaults)', () => {
    expect(() => installConflicts(new ShareDB())).not.toThrow();
  });
});

describe('the lock read at submit', () => {
  /** A MemoryDB whose snapshot reads answer after `delayMs`, counting reads in flight. */
  function slowDb(delayMs: number) {
    const db = new ShareDB.MemoryDB() as unknown as {
      getSnapshot(c: string, id: string, f: unknown, o: unknown, cb: (e: unknown, s?: unknown) => void): void;
    };
    const getSnapshot = db.getSnapshot.bind(db);
    const stats = { inFlight: 0, most: 0, failLocks: false, slow: false };
    db.getSnapshot = (c, id, f, o, cb) => {
      if (!stats.slow) return getSnapshot(c, id, f, o, cb);
      stats.inFlight++;
      stats.most = Math.max(stats.most, stats.inFlight);
      setTimeout(() => {
        stats.inFlight--;
        if (stats.failLocks && c === '_tandem_locks') return cb(new Error('store went away'));
        getSnapshot(c, id, f, o, cb);
      }, delayMs);
    };
    return { db, stats };
  }

  test("runs alongside ShareDB's snapshot read, not before it: one store round trip per submit", async () => {
    const { db, stats } = slowDb(30);
    const s = setup({}, db);
    const { a } = await twoClients(s, { title: 'x' });
    stats.slow = true;
    await submit(a, replace(['title'], 'y', 'x'));
    // The document's locks and its snapshot were both being read at once.
    expect(stats.most).toBe(2);
    expect(await serverData(s)).toEqual({ title: 'y' });
  });

  test('a lock read that fails refuses the op, and nothing is committed', async () => {
    const { db, stats } = slowDb(5);
    const s = setup({}, db);
    const { a } = await twoClients(s, { title: 'x' });
    stats.slow = true;
    stats.failLocks = true;
    await expect(submit(a, replace(['title'], 'y', 'x'))).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    stats.slow = false;
    expect(await serverData(s)).toEqual({ title: 'x' });
  });
});

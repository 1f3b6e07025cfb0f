// @tandem/conflicts and @tandem/history plugged into the server, end to end over real sockets with
// @tandem/client: conflict reports to both authors, a reject policy, locks, history calls.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TandemClient, TandemDoc } from '@tandem/client';
import type { ConflictRecord } from '@tandem/conflicts';
import { type ConflictReport, ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, createTandem } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';
import { REDIS_URL } from './redis-url';

const records: ConflictRecord[] = [];
let server: AttachedTandem;
const open: TandemClient[] = [];

function user(id: string): TandemClient {
  const c = client(server.url(), { token: id });
  open.push(c);
  return c;
}

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: {
        authenticate: ({ token }) => {
          if (token === undefined) throw new TandemError(ErrorCode.UNAUTHORIZED, 'no token');
          return { id: token, name: token.toUpperCase() };
        },
        // Readers may read anything and write nothing; nobody administers (owns) a document, so
        // everyone's locks bind everyone else (document owners are never locked out).
        authorize: ({ principal, action }) =>
          action !== 'admin' &&
          (action === 'read' || action === 'history' || !principal.id.startsWith('reader')),
        onConflict: ({ record }) => void records.push(record),
      },
      conflicts: { policies: { strict: { '/title': 'reject' } } },
    },
  );
});
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await server.close();
});

/** Two users with the document open at the same version. */
async function pair<T>(collection: string, id: string, data: T, [first, second] = ['alice', 'bob']) {
  const a = user(first);
  const b = user(second);
  const da = a.doc<T>(collection, id);
  const db = b.doc<T>(collection, id);
  await da.create(data);
  await da.subscribe();
  await db.subscribe();
  return { a, b, da, db };
}

/** Poll an async condition (what the server holds) until it holds, for at most 5 s. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function conflictsOf(doc: TandemDoc<unknown>): ConflictReport[] {
  const seen: ConflictReport[] = [];
  doc.on('conflict', (report) => seen.push(report));
  return seen;
}

describe('conflicts', () => {
  it('concurrent writes of one field: both authors get the report; replicas converge', async () => {
    const { da, db } = await pair('notes', 'same-field', { title: 'Draft' });
    const [seenA, seenB] = [conflictsOf(da), conflictsOf(db)];
    // Neither has seen the other's op: the server transforms the later one over the earlier.
    await Promise.all([
      da.submit(['title', { r: true, i: 'Alice' }]),
      db.submit(['title', { r: true, i: 'Bob' }]),
    ]);
    await until(() => seenA.length === 1 && seenB.length === 1, 5_000, 'conflict reports');
    for (const report of [seenA[0], seenB[0]]) {
      expect(report).toMatchObject({
        collection: 'notes',
        docId: 'same-field',
        kind: 'same-field-write',
        path: ['title'],
        severity: 'high',
        policy: 'merge',
        resolved: true,
      });
      expect([...report.authors].sort()).toEqual(['alice', 'bob']);
    }
    expect(records.some((r) => r.id === seenA[0].id)).toBe(true);
    await until(() => da.data?.title === db.data?.title, 5_000, 'convergence');
  });

  it('a reject policy refuses the later op with CONFLICT_REJECTED and rolls it back', async () => {
    const { da, db } = await pair('strict', 'reject', { title: 'Draft', body: '' });
    const seenB = conflictsOf(db);
    const results = await Promise.allSettled([
      da.submit(['title', { r: true, i: 'Alice' }]),
      db.submit(['title', { r: true, i: 'Bob' }]),
    ]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({
      code: ErrorCode.CONFLICT_REJECTED,
    });
    const winner = results[0].status === 'fulfilled' ? 'Alice' : 'Bob';
    await until(() => da.data?.title === winner && db.data?.title === winner, 5_000, 'rollback');
    await until(() => seenB.length === 1, 5_000, 'report');
    expect(seenB[0]).toMatchObject({ policy: 'reject', resolution: 'rejected', severity: 'high' });
  });

  it("a lock refuses another user's op with LOCKED and is released when its owner disconnects", async () => {
    const { a, da, db } = await pair('notes', 'locked', { title: 'Draft', body: 'x' });
    const seenB = conflictsOf(db);
    const lock = await da.lock(['title'], { ttlMs: 60_000 });
    expect(lock).toMatchObject({ path: ['title'] });
    expect(lock.info.owner).toBe('alice');
    await expect(db.submit(['title', { r: true, i: 'Bob' }])).rejects.toMatchObject({
      code: ErrorCode.LOCKED,
    });
    await until(() => db.data?.title === 'Draft', 5_000, 'rollback');
    await until(() => seenB.length === 1, 5_000, 'locked-path report');
    expect(seenB[0]).toMatchObject({ kind: 'locked-path', severity: 'high', resolution: 'rejected' });
    await expect(db.lock(['body'], { ttlMs: 3_600_000 })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
    // Other fields stay writable; the owner still writes the locked one.
    await db.submit(['body', { r: true, i: 'y' }]);
    await da.submit(['title', { r: true, i: 'Alice' }]);
    await expect(db.lock(['title'])).rejects.toMatchObject({ code: ErrorCode.LOCKED });

    await a.close();
    const conflicts = await server.tandem.conflicts();
    await eventually(
      async () => (await conflicts.locks.list('notes', 'locked')).length === 0,
      'lock released',
    );
    await db.submit(['title', { r: true, i: 'Bob' }]);
    expect(db.data?.title).toBe('Bob');
  });

  it('a released lock lets others in; only its owner may release it', async () => {
    const { da, db } = await pair('notes', 'released', { title: 'Draft' });
    const lock = await da.lock(['title']);
    const held = await server.tandem.conflicts().then((c) => c.locks.list('notes', 'released'));
    expect(held.map((l) => l.id)).toEqual([lock.id]);
    await expect(db.lock(['title'])).rejects.toMatchObject({ code: ErrorCode.LOCKED });
    await lock.release();
    await db.submit(['title', { r: true, i: 'Bob' }]);
    expect(db.data?.title).toBe('Bob');
  });
});

describe('history over the socket', () => {
  it('page shows authors; snapshotAt, revert and undoLast act as the caller', async () => {
    const { a, b, da, db } = await pair('docs', 'story', { text: 'hello' });
    await da.submit(['text', { es: [5, ' world'] }]);
    await until(() => db.data?.text === 'hello world', 5_000, 'sync');
    await db.submit(['text', { es: [11, '!'] }]);
    await until(() => da.data?.text === 'hello world!', 5_000, 'sync');

    const page = await a.history('docs', 'story').page();
    expect(page.entries.map((e) => [e.version, e.author?.id])).toEqual([
      [3, 'bob'],
      [2, 'alice'],
      [1, 'alice'],
    ]);
    expect(page.entries[0].author?.name).toBe('BOB');
    expect(page.entries[0].session).toEqual(expect.any(String));

    const v1 = await b.history('docs', 'story').snapshotAt<{ text: string }>(1);
    expect(v1.data).toEqual({ text: 'hello' });

    // Bob reverts to version 1: a new op by Bob, seen by Alice.
    const reverted = await b.history('docs', 'story').revert(1, 'back to the start');
    expect(reverted).toEqual({ version: 3 });
    await until(() => da.data?.text === 'hello', 5_000, 'revert reaches alice');
    const afterRevert = await a.history('docs', 'story').page({ limit: 1 });
    expect(afterRevert.entries[0]).toMatchObject({
      version: 4,
      author: { id: 'bob' },
      message: 'back to the start',
    });

    // undoLast undoes the caller's own latest op, here a fresh edit by Alice.
    await da.submit(['text', { es: [0, '> '] }]);
    await until(() => db.data?.text === '> hello', 5_000, 'sync');
    await a.history('docs', 'story').undoLast();
    await until(() => db.data?.text === 'hello' && da.data?.text === 'hello', 5_000, 'undo reaches both');
    const top = (await b.history('docs', 'story').page({ limit: 1 })).entries[0];
    expect(top).toMatchObject({ author: { id: 'alice' }, intent: 'undo' });
  });

  it('named versions: create, list, verify', async () => {
    const { a, da } = await pair('docs', 'named', { text: 'v1' });
    await da.submit(['text', { es: [2, '.0'] }]);
    const history = a.history('docs', 'named');
    const created = await history.createVersion({ label: 'release', description: 'first cut' });
    expect(created).toMatchObject({ label: 'release', version: 2, author: { id: 'alice' } });
    expect(created.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect((await history.listVersions()).map((v) => v.label)).toEqual(['release']);
    expect((await history.versionSnapshot('release')).data).toEqual({ text: 'v1.0' });
    expect(await history.verify()).toMatchObject({ ok: true, versions: [{ label: 'release', ok: true }] });
  });

  it('fork, edit the fork, merge it back; diff and blame name the authors', async () => {
    const { a, b, da, db } = await pair('docs', 'base', { text: 'one' });
    const record = await a.history('docs', 'base').fork({ target: { collection: 'docs', id: 'base-draft' } });
    expect(record).toMatchObject({ source: { id: 'base' }, fork: { id: 'base-draft' }, version: 1 });
    const draft = a.doc<{ text: string }>('docs', 'base-draft');
    await draft.subscribe();
    await draft.submit(['text', { es: [3, ' two'] }]);
    await db.submit(['text', { es: [0, '> '] }]);
    const merged = await a.history('docs', 'base-draft').merge();
    expect(merged.version).toEqual(expect.any(Number));
    await until(() => da.data?.text === '> one two' && db.data?.text === '> one two', 5_000, 'merge');
    const diff = await b.history('docs', 'base').diff(1, 3);
    expect(diff.authors.map((x) => x.id)).toEqual(['bob', 'alice']);
    const blame = await b.history('docs', 'base').blame(['text']);
    expect(blame.text).toBe('> one two');
    expect(blame.ranges.map((r) => [r.start, r.end, r.author?.id])).toEqual([
      [0, 2, 'bob'],
      [2, 5, 'alice'],
      [5, 9, 'alice'],
    ]);
  });

  it('history calls go through authorize; reserved collections are closed', async () => {
    const { da } = await pair('docs', 'guarded', { text: 'x' }, ['alice', 'reader-1']);
    await da.submit(['text', { es: [1, 'y'] }]);
    const reader = open[open.length - 1];
    await expect(reader.history('docs', 'guarded').page()).resolves.toMatchObject({
      entries: expect.any(Array),
    });
    await expect(reader.history('docs', 'guarded').revert(1)).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(reader.history('_tandem_versions', 'docs/guarded').page()).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(reader.history('docs', 'guarded').page({ limit: 'ten' as never })).rejects.toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
    });
  });
});

describe('options', () => {
  it.each([
    [{ conflicts: { policies: { notes: { title: 'reject' } } } }],
    [{ conflicts: { policies: { notes: { '/title': 'sometimes' } } } }],
    [{ conflicts: { locks: { defaultTtlMs: 10_000, maxTtlMs: 1_000 } } }],
    [{ conflicts: { colour: 'red' } }],
    [{ history: { milestoneInterval: 0 } }],
    [{ history: { versionsCollection: 'versions' } }],
    [{ history: true }],
  ])('%j is refused at creation with INVALID_CONFIG', (options) => {
    expect(() => createTandem({ storage: 'memory:', ...(options as object) })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_CONFIG }),
    );
  });

  it('history: false answers history calls NOT_FOUND', async () => {
    const off = await attach({ port: 0 }, { storage: 'memory:', history: false });
    const c = client(off.url());
    try {
      await c.doc('docs', 'd').create({ text: '' });
      await expect(c.history('docs', 'd').page()).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
    } finally {
      await c.close();
      await off.close();
    }
  });
});

describe('across server processes (Redis)', () => {
  it('a conflict committed on one process reaches the author connected to the other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-plugins-'));
    const shared = {
      storage: `sqlite:${join(dir, 'shared.db')}`,
      redis: { url: REDIS_URL, prefix: `tandem-plugins-${process.pid}-${Date.now()}` },
      hooks: { authenticate: ({ token }: { token?: string }) => ({ id: token ?? 'anonymous' }) },
    };
    const one = await attach({ port: 0 }, shared);
    const two = await attach({ port: 0 }, shared);
    const a = client(one.url(), { token: 'alice' });
    const b = client(two.url(), { token: 'bob' });
    try {
      const da = a.doc<{ title: string }>('notes', 'far');
      const db = b.doc<{ title: string }>('notes', 'far');
      await da.create({ title: 'Draft' });
      await da.subscribe();
      await db.subscribe();
      const [seenA, seenB] = [conflictsOf(da), conflictsOf(db)];
      await Promise.all([
        da.submit(['title', { r: true, i: 'Alice' }]),
        db.submit(['title', { r: true, i: 'Bob' }]),
      ]);
      await until(() => seenA.length === 1 && seenB.length === 1, 10_000, 'reports on both processes');
      expect(seenA[0].id).toBe(seenB[0].id);
      expect([...seenA[0].authors].sort()).toEqual(['alice', 'bob']);
      await until(() => da.data?.title === db.data?.title, 5_000, 'convergence');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([one.close(), two.close()]);
      rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    }
  });
});

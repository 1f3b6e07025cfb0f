/**
 * What is particular to the PostgreSQL store: schema creation and migration, several servers on one
 * database, text PostgreSQL cannot hold, and connection loss (a terminated session, an unreachable
 * server, a network that stops answering) surfacing as STORAGE_UNAVAILABLE with the pool recovering
 * by itself. Runs against the machine's PostgreSQL (PG_URL overrides), each test on its own schema;
 * outages are made with a TCP proxy this test runs, never by touching the shared server.
 */
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ErrorCode, isTandemError, type TandemError } from '@tandem/protocol';
import {
  createStorage,
  type PostgresDB,
  type Storage,
  type StoredOp,
  type StoredSnapshot,
} from '@tandem/storage';
import { TEST_POSTGRES_URL, testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import type ShareDB from 'sharedb';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const skip = await testPostgresUnavailable();
if (skip) console.log(skip);
const schemas = testSchemas();
afterAll(() => schemas.dropAll());

const opened: Storage[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close().catch(() => undefined)));
});

async function open(url: string, options: Parameters<typeof createStorage>[1] = {}): Promise<Storage> {
  const storage = await createStorage(url, options);
  opened.push(storage);
  return storage;
}

function call<T>(invoke: (callback: (error?: unknown, result?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    invoke((error, result) => (error ? reject(error) : resolve(result as T))),
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTandemError(error), `expected a TandemError, got ${String(error)}`).toBe(true);
  return (error as TandemError).code;
}

const snapshotOf = (db: ShareDB.DB, id: string) =>
  call<StoredSnapshot>((cb) => db.getSnapshot('notes', id, null, { metadata: true }, cb));

/** Commit the next version of `id` built from `data`, as a submit would. */
async function commitNext(db: ShareDB.DB, id: string, data: unknown, op: object = {}): Promise<boolean> {
  const current = await snapshotOf(db, id);
  const v = current.v;
  const snapshot = { id, v: v + 1, type: 'json0', data, m: { mtime: Date.now() } };
  return call<boolean>((cb) =>
    db.commit(
      'notes',
      id,
      { v, ...(v === 0 ? { create: { type: 'json0', data } } : op) },
      snapshot,
      null,
      cb,
    ),
  );
}

/** A TCP proxy to the test PostgreSQL that this test can cut (`block`) or freeze (`stall`). */
async function startProxy(): Promise<{
  url: (schemaUrl: string) => string;
  block(): void;
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}> {
  const target = new URL(TEST_POSTGRES_URL);
  const sockets = new Set<Socket>();
  let mode: 'open' | 'blocked' | 'stalled' = 'open';
  const server: Server = createServer((client) => {
    if (mode === 'blocked') return client.destroy();
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk) => mode === 'open' && upstream.write(chunk));
    upstream.on('data', (chunk) => mode === 'open' && client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (schemaUrl) => {
      const u = new URL(schemaUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    block() {
      mode = 'blocked';
      for (const s of sockets) s.destroy();
    },
    stall() {
      mode = 'stalled';
    },
    heal() {
      mode = 'open';
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(skip)('the PostgreSQL store', () => {
  it('creates its schema on first open, migrates it once when servers start together, and reopens it', async () => {
    const url = schemas.next();
    const stores = await Promise.all([open(url), open(url), open(url.replace(/^postgres:/, 'postgresql:'))]);
    expect(stores.map((s) => s.kind)).toEqual(['postgres', 'postgres', 'postgres']);
    expect(stores[0].location).toMatch(/schema tandem_test_/);
    const db = stores[0].db as PostgresDB;
    const { rows } = await db.connection.query<{ version: number }>(
      `SELECT version FROM ${db.connection.schema}.schema_migrations`,
    );
    expect(rows).toEqual([{ version: 1 }]);
    expect(await commitNext(stores[1].db, 'n1', { a: 1 })).toBe(true);
    expect((await snapshotOf(stores[2].db, 'n1')).data).toEqual({ a: 1 });
  });

  it('refuses a schema migrated by a newer Tandem, bad names and bad options with INVALID_CONFIG', async () => {
    const url = schemas.next();
    const first = await open(url);
    const db = first.db as PostgresDB;
    await db.connection.query(`INSERT INTO ${db.connection.schema}.schema_migrations (version) VALUES (99)`);
    await first.close();
    expect(await codeOf(createStorage(url))).toBe(ErrorCode.INVALID_CONFIG);
    const named = (schema: string) => {
      const u = new URL(TEST_POSTGRES_URL);
      u.searchParams.set('schema', schema);
      return u.toString();
    };
    for (const schema of ['a-b', '1abc', 'x"; DROP TABLE y; --', 'a'.repeat(64)])
      expect(await codeOf(createStorage(named(schema)))).toBe(ErrorCode.INVALID_CONFIG);
    expect(await codeOf(createStorage(url, { postgres: { poolSize: 0 } }))).toBe(ErrorCode.INVALID_CONFIG);
  });

  it('reports an unreachable server as STORAGE_UNAVAILABLE at open, without the password', async () => {
    const error = await createStorage('postgres://tandem:secret@127.0.0.1:1/test', {
      postgres: { connectTimeoutMs: 500 },
    }).catch((e: unknown) => e);
    expect((error as TandemError).code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(JSON.stringify({ m: (error as Error).message, d: (error as TandemError).details })).not.toContain(
      'secret',
    );
  });

  it('lets exactly one of two servers commit each version (two pools, one database)', async () => {
    const url = schemas.next();
    const [one, two] = await Promise.all([open(url), open(url)]);
    expect(await commitNext(one.db, 'race', { n: 0 })).toBe(true);
    for (let round = 0; round < 10; round++) {
      const base = await snapshotOf(one.db, 'race');
      const attempt = (db: ShareDB.DB, n: number) =>
        call<boolean>((cb) =>
          db.commit(
            'notes',
            'race',
            { v: base.v, op: [{ p: ['n'], na: n }] },
            { ...base, v: base.v + 1, data: { n } },
            null,
            cb,
          ),
        );
      const verdicts = await Promise.all([attempt(one.db, 1), attempt(two.db, 2), attempt(two.db, 3)]);
      expect(verdicts.filter(Boolean)).toHaveLength(1);
    }
    const ops = await call<StoredOp[]>((cb) => two.db.getOps('notes', 'race', 0, null, null, cb));
    expect(ops.map((op) => op.v)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    expect((await snapshotOf(two.db, 'race')).v).toBe(11);
  });

  it('keeps data exactly (key order, NUL, unpaired surrogates) and refuses ids it would store as another', async () => {
    const storage = await open(schemas.next());
    const data = {
      zeta: 1,
      alpha: 'nul\u0000here',
      lone: '\ud800',
      '\u0000key': [true, null],
      nested: { b: 1, a: 2 },
    };
    expect(await commitNext(storage.db, 'exact', data)).toBe(true);
    const read = (await snapshotOf(storage.db, 'exact')).data;
    expect(read).toEqual(data);
    expect(JSON.stringify(read)).toBe(JSON.stringify(data));
    const [bulk] = Object.values(
      await call<Record<string, StoredSnapshot>>((cb) =>
        storage.db.getSnapshotBulk('notes', ['exact'], null, null, cb),
      ),
    );
    expect(JSON.stringify(bulk.data)).toBe(JSON.stringify(data));
    for (const id of ['a\u0000b', '\ud800', 'x\udc00']) {
      expect(await codeOf(commitNext(storage.db, id, {}))).toBe(ErrorCode.INVALID_MESSAGE);
      expect(await codeOf(snapshotOf(storage.db, id))).toBe(ErrorCode.INVALID_MESSAGE);
    }
    // A paired surrogate is an ordinary character.
    expect(await commitNext(storage.db, '\u{1F600}', {})).toBe(true);
    expect(
      await codeOf(
        call((cb) => storage.db.query('notes', { alpha: 'nul\u0000here' }, null as never, null, cb as never)),
      ),
    ).toBe(ErrorCode.INVALID_MESSAGE);
  });

  it('a terminated session fails its call with STORAGE_UNAVAILABLE; idle ones are reported to onError; the pool recovers', async () => {
    const application = `tandem_test_${randomBytes(4).toString('hex')}`;
    const onError = vi.fn();
    const storage = await open(schemas.next(), {
      postgres: { poolOptions: { application_name: application }, onError },
    });
    const db = storage.db as PostgresDB;
    expect(await commitNext(db, 'n', { v: 0 })).toBe(true);
    const admin = await open(schemas.next());
    const terminate = () =>
      (admin.db as PostgresDB).connection.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
        [application],
      );
    // One call in flight, the pool's other connections idle. Its failure is taken at once: it can
    // arrive before the terminating query's own answer, and must not go unhandled meanwhile.
    const inFlight = codeOf(db.connection.query('SELECT pg_sleep(30)'));
    await vi.waitUntil(async () => (await terminate()).count > 0, { timeout: 5000, interval: 20 });
    expect(await inFlight).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    // Service resumes with new connections, with nothing lost.
    expect(await commitNext(db, 'n', { v: 1 }, { op: [] })).toBe(true);
    expect((await snapshotOf(db, 'n')).v).toBe(2);
    // An idle connection that dies is reported, not thrown.
    await terminate();
    await vi.waitUntil(() => onError.mock.calls.length > 0, { timeout: 5000, interval: 20 });
    expect((onError.mock.calls[0][0] as TandemError).code).toBe(ErrorCode.STORAGE_UNAVAILABLE);
    expect(await commitNext(db, 'n', { v: 2 }, { op: [] })).toBe(true);
  });

  it('while the server is unreachable submits fail with STORAGE_UNAVAILABLE, nothing half-written; service resumes by itself', async () => {
    const proxy = await startProxy();
    try {
      const url = schemas.next();
      const direct = await open(url);
      const storage = await open(proxy.url(url), { postgres: { connectTimeoutMs: 500 } });
      expect(await commitNext(storage.db, 'doc', { n: 0 })).toBe(true);
      proxy.block();
      for (let i = 0; i < 3; i++)
        expect(await codeOf(commitNext(storage.db, 'doc', { n: i + 1 }, { op: [] }))).toBe(
          ErrorCode.STORAGE_UNAVAILABLE,
        );
      expect(await commitNext(direct.db, 'doc', { n: 'direct' }, { op: [] })).toBe(true);
      proxy.heal();
      expect(await commitNext(storage.db, 'doc', { n: 'after' }, { op: [] })).toBe(true);
      const snapshot = await snapshotOf(direct.db, 'doc');
      const ops = await call<StoredOp[]>((cb) => direct.db.getOps('notes', 'doc', 0, null, null, cb));
      expect(snapshot).toMatchObject({ v: 3, data: { n: 'after' } });
      expect(ops.map((op) => op.v)).toEqual([0, 1, 2]);
    } finally {
      await proxy.close();
    }
  });

  it('a network that stops answering fails calls after queryTimeoutMs, and the pool recovers when it answers again', async () => {
    const proxy = await startProxy();
    try {
      const storage = await open(proxy.url(schemas.next()), {
        postgres: { connectTimeoutMs: 500, queryTimeoutMs: 300 },
      });
      expect(await commitNext(storage.db, 'doc', { n: 0 })).toBe(true);
      proxy.stall();
      expect(await codeOf(commitNext(storage.db, 'doc', { n: 1 }, { op: [] }))).toBe(
        ErrorCode.STORAGE_UNAVAILABLE,
      );
      proxy.heal();
      // A commit whose answer was lost may have been written; the next version is what matters.
      const ok = await commitNext(storage.db, 'doc', { n: 2 }, { op: [] });
      expect(ok).toBe(true);
      const ops = await call<StoredOp[]>((cb) => storage.db.getOps('notes', 'doc', 0, null, null, cb));
      expect(ops.map((op) => op.v)).toEqual(ops.map((_, i) => i));
    } finally {
      await proxy.close();
    }
  });
});

/**
 * storage: committed ops/s through a real ShareDB backend, MemoryDB vs the SQLite and PostgreSQL
 * adapters.
 * (a) one hot document, sequential submits (each op waits for its ack: the latency-bound case);
 * (b) 100 documents submitting concurrently (throughput). Runs alternate between stores so machine
 * noise hits both alike; each figure is the median of the runs. Ops are ot-json1 ops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresConnection, PostgresDB, SqliteDB, type SqliteSynchronous } from '@tandem/storage';
import * as json1 from 'ot-json1';
import { type BenchOptions, formatNumber, printTable } from '../report';

// benchmarks has no @types/sharedb; the little of ShareDB used here is typed locally.
type Callback = (error?: unknown) => void;
interface BenchDoc {
  create(data: unknown, type: string, callback: Callback): void;
  submitOp(op: unknown, options: object, callback: Callback): void;
}
interface Backend {
  connect(): { get(collection: string, id: string): BenchDoc };
  close(callback: Callback): void;
}
interface ShareDBModule {
  new (options: { db: unknown }): Backend;
  MemoryDB: new () => unknown;
  types: { register(type: unknown): void };
}
const ShareDB = createRequire(import.meta.url)('sharedb') as ShareDBModule;
ShareDB.types.register(json1.type);

type Store =
  | 'MemoryDB'
  | 'SQLite (synchronous=NORMAL, default)'
  | 'SQLite (synchronous=FULL)'
  | 'PostgreSQL (synchronous_commit=on, default)';

/**
 * Stores that flush to disk on every commit (SQLite FULL, PostgreSQL) would dominate the run; they
 * get a tenth of the ops.
 */
const FULL_SHARE = 10;
const flushes = (store: Store) => store.includes('FULL') || store.startsWith('PostgreSQL');

/** The machine's PostgreSQL (PG_URL / DATABASE_URL override), in a schema of this run's own. */
const PG_URL = process.env.PG_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Open the bench schema, or say why PostgreSQL is left out. */
async function openPostgres(): Promise<PostgresConnection | string> {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', `tandem_bench_${process.pid}`);
  try {
    return await PostgresConnection.open({ url: url.toString(), connectTimeoutMs: 3000 });
  } catch (error) {
    return `PostgreSQL left out: ${(error as Error).message}`;
  }
}

interface Workload {
  name: string;
  docs: number;
  opsPerDoc: number;
}

function call(invoke: (callback: Callback) => void): Promise<void> {
  return new Promise((resolve, reject) => invoke((error) => (error ? reject(error) : resolve())));
}

async function openStore(
  store: Store,
  dir: string,
  run: number,
  postgres: PostgresConnection | undefined,
): Promise<unknown> {
  if (store === 'MemoryDB') return new ShareDB.MemoryDB();
  if (store.startsWith('PostgreSQL')) {
    if (!postgres) throw new Error('no PostgreSQL');
    const s = postgres.schema;
    // A fresh store per run: the same tables, emptied.
    await postgres.query(`DELETE FROM ${s}.ops; DELETE FROM ${s}.snapshots; DELETE FROM ${s}.milestones`);
    return new PostgresDB({ connection: postgres });
  }
  const synchronous: SqliteSynchronous = store.includes('FULL') ? 'full' : 'normal';
  return new SqliteDB({ path: join(dir, `bench-${run}.sqlite`), synchronous });
}

/** Committed ops per second for one workload on one fresh store. */
async function measure(
  store: Store,
  full: Workload,
  dir: string,
  run: number,
  postgres: PostgresConnection | undefined,
): Promise<number> {
  const workload = flushes(store) ? { ...full, opsPerDoc: Math.ceil(full.opsPerDoc / FULL_SHARE) } : full;
  const db = await openStore(store, dir, run, postgres);
  const backend = new ShareDB({ db });
  const connection = backend.connect();
  const docs = Array.from({ length: workload.docs }, (_, i) => connection.get('bench', `doc-${i}`));
  await Promise.all(docs.map((doc) => call((cb) => doc.create({ n: 0 }, json1.type.uri, cb))));
  const start = process.hrtime.bigint();
  await Promise.all(
    docs.map(async (doc) => {
      for (let i = 0; i < workload.opsPerDoc; i++) {
        // Awaiting each ack keeps one op in flight per document (no client-side op composition).
        await call((cb) => doc.submitOp(json1.replaceOp(['n'], i, i + 1), {}, cb));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await call((cb) => backend.close(cb));
  return (workload.docs * workload.opsPerDoc) / seconds;
}

/**
 * The adapter alone, without ShareDB: read the snapshot and commit the next version, as a submit
 * does, in µs per op. This is the floor a durable SQLite commit adds to every op in (a).
 */
function adapterFloorMicros(dir: string, run: number, ops: number): number {
  const db = new SqliteDB({ path: join(dir, `floor-${run}.sqlite`) });
  const data = { n: 0 };
  db.commitSync(
    'bench',
    'floor',
    { v: 0, create: { type: json1.type.uri, data } },
    { id: 'floor', v: 1, type: json1.type.uri, data, m: null },
  );
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const snapshot = db.getSnapshotSync('bench', 'floor', true);
    snapshot.data = { n: i + 1 };
    snapshot.v++;
    db.commitSync(
      'bench',
      'floor',
      {
        v: snapshot.v - 1,
        op: json1.replaceOp(['n'], i, i + 1),
        src: 'bench',
        seq: i + 1,
        m: { ts: Date.now() },
      },
      snapshot,
    );
  }
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / ops;
  db.close();
  return micros;
}

/** The part of better-sqlite3 used for the bare-transaction floor (benchmarks has no types for it). */
interface RawSqlite {
  exec(sql: string): void;
  prepare(sql: string): { run(...params: unknown[]): unknown };
  transaction(work: () => void): { immediate(): void };
}

/**
 * The least a durable SQLite commit can cost on this machine: one IMMEDIATE transaction updating
 * one integer in a one-row table (one WAL frame, no JSON, no op row, no read), in µs. No adapter
 * can commit an op durably for less, so (a) is bounded near round trip / (round trip + this), less
 * the little MemoryDB's own reads and writes cost inside its round trip.
 */
function bareTransactionMicros(dir: string, run: number, ops: number): number {
  const db = new SqliteDB({ path: join(dir, `bare-${run}.sqlite`) });
  const raw = db.connection.db as unknown as RawSqlite;
  raw.exec('CREATE TABLE bare (id INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO bare VALUES (1, 0)');
  const bump = raw.prepare('UPDATE bare SET v = v + 1 WHERE id = 1');
  const commit = raw.transaction(() => {
    bump.run();
  });
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) commit.immediate();
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / ops;
  db.close();
  return micros;
}

/**
 * The same bound for (b): `docs` one-row counter updates (one per document, keyed by a text id like
 * the snapshots) in one IMMEDIATE transaction, as a group commit writes them, in µs per document.
 */
function bareGroupMicros(dir: string, run: number, docs: number, rounds: number): number {
  const db = new SqliteDB({ path: join(dir, `bare-group-${run}.sqlite`) });
  const raw = db.connection.db as unknown as RawSqlite;
  raw.exec('CREATE TABLE bare (id TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID');
  const insert = raw.prepare('INSERT INTO bare VALUES (?, 0)');
  for (let d = 0; d < docs; d++) insert.run(`doc-${d}`);
  const bump = raw.prepare('UPDATE bare SET v = v + 1 WHERE id = ?');
  const group = raw.transaction(() => {
    for (let d = 0; d < docs; d++) bump.run(`doc-${d}`);
  });
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) group.immediate();
  const micros = Number(process.hrtime.bigint() - start) / 1e3 / (docs * rounds);
  db.close();
  return micros;
}

/**
 * The least a durable PostgreSQL commit costs from here: one autocommit UPDATE of one integer in a
 * one-row table (one round trip, one WAL flush), in µs. Sequential, as each op in (a) is.
 */
async function bareCommitMicrosPostgres(postgres: PostgresConnection, ops: number): Promise<number> {
  const table = `${postgres.schema}.bare`;
  await postgres.query(`CREATE TABLE IF NOT EXISTS ${table} (id integer PRIMARY KEY, v integer NOT NULL)`);
  await postgres.query(`INSERT INTO ${table} VALUES (1, 0) ON CONFLICT (id) DO NOTHING`);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++)
    await postgres.query(`UPDATE ${table} SET v = v + 1 WHERE id = 1`, [], 'tandem_bench_bare');
  return Number(process.hrtime.bigint() - start) / 1e3 / ops;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function run(options: BenchOptions): Promise<void> {
  const workloads: Workload[] = options.quick
    ? [
        { name: '(a) 1 hot document, sequential', docs: 1, opsPerDoc: 500 },
        { name: '(b) 100 documents, concurrent', docs: 100, opsPerDoc: 10 },
      ]
    : [
        { name: '(a) 1 hot document, sequential', docs: 1, opsPerDoc: 5000 },
        { name: '(b) 100 documents, concurrent', docs: 100, opsPerDoc: 100 },
      ];
  const runs = options.quick ? 1 : 5;
  const stores: Store[] = ['MemoryDB', 'SQLite (synchronous=NORMAL, default)', 'SQLite (synchronous=FULL)'];
  const opened = await openPostgres();
  const postgres = typeof opened === 'string' ? undefined : opened;
  if (postgres) stores.push('PostgreSQL (synchronous_commit=on, default)');
  else console.log(opened);
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-storage-'));
  let fileIndex = 0;
  try {
    const rows: (string | number)[][] = [];
    let hotMemory = Number.NaN;
    let wideMemory = Number.NaN;
    for (const workload of workloads) {
      // Warm-up (JIT, SQLite page cache, file creation paths), not measured.
      for (const store of stores)
        await measure(
          store,
          { ...workload, opsPerDoc: Math.ceil(workload.opsPerDoc / 10) },
          dir,
          fileIndex++,
          postgres,
        );
      const samples = new Map<Store, number[]>(stores.map((s) => [s, []]));
      for (let r = 0; r < runs; r++) {
        for (const store of stores)
          samples.get(store)?.push(await measure(store, workload, dir, fileIndex++, postgres));
      }
      const memory = median(samples.get('MemoryDB') ?? []);
      if (workload === workloads[0]) hotMemory = memory;
      else wideMemory = memory;
      for (const store of stores) {
        const opsPerSecond = median(samples.get(store) ?? []);
        rows.push([
          workload.name,
          store,
          // A string, so printTable does not format a count with decimals.
          String(
            workload.docs *
              (flushes(store) ? Math.ceil(workload.opsPerDoc / FULL_SHARE) : workload.opsPerDoc),
          ),
          Math.round(opsPerSecond),
          `${formatNumber(opsPerSecond / memory)}×`,
        ]);
      }
    }
    printTable(['workload', 'store', 'ops per run', 'committed ops/s (median)', 'vs MemoryDB'], rows);
    const hot = workloads[0];
    adapterFloorMicros(dir, fileIndex++, Math.ceil(hot.opsPerDoc / 10)); // warm-up
    const floor = median(
      Array.from({ length: runs }, () => adapterFloorMicros(dir, fileIndex++, hot.opsPerDoc)),
    );
    bareTransactionMicros(dir, fileIndex++, Math.ceil(hot.opsPerDoc / 10)); // warm-up
    const bare = median(
      Array.from({ length: runs }, () => bareTransactionMicros(dir, fileIndex++, hot.opsPerDoc)),
    );
    const wide = workloads[1];
    bareGroupMicros(dir, fileIndex++, wide.docs, Math.ceil(wide.opsPerDoc / 10)); // warm-up
    const bareGroup = median(
      Array.from({ length: runs }, () => bareGroupMicros(dir, fileIndex++, wide.docs, wide.opsPerDoc)),
    );
    const roundTrip = 1e6 / hotMemory;
    const wideRoundTrip = 1e6 / wideMemory;
    console.log(
      `Per op in (a): MemoryDB's whole ShareDB round trip ${formatNumber(roundTrip)} µs; SqliteDB alone (getSnapshot + durable commit, no ShareDB) ${formatNumber(floor)} µs; a bare one-row SQLite transaction ${formatNumber(bare)} µs, so even a free adapter around it would leave (a) near ${formatNumber(roundTrip / (roundTrip + bare))}× (medians of ${runs}).`,
    );
    console.log(
      `Per op in (b): MemoryDB ${formatNumber(wideRoundTrip)} µs; a bare one-row counter update per document inside one group transaction ${formatNumber(bareGroup)} µs, so (b) is bounded near ${formatNumber(wideRoundTrip / (wideRoundTrip + bareGroup))}× (medians of ${runs}).`,
    );
    if (postgres) {
      const ops = Math.ceil(hot.opsPerDoc / FULL_SHARE);
      await bareCommitMicrosPostgres(postgres, Math.ceil(ops / 10)); // warm-up
      const samples: number[] = [];
      for (let r = 0; r < runs; r++) samples.push(await bareCommitMicrosPostgres(postgres, ops));
      console.log(
        `PostgreSQL at ${new URL(PG_URL).host}: a bare one-row autocommit UPDATE (one round trip, one WAL flush) ${formatNumber(median(samples))} µs (median of ${runs}).`,
      );
    }
    console.log(
      `${runs} measured run(s) per cell, alternating stores; SQLite files in ${tmpdir()} (WAL). Targets (issue #18): SQLite (default) on (a) ≥ 0.9 of its bound above, on (b) ≥ 0.8× MemoryDB.`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (postgres) {
      await postgres.query(`DROP SCHEMA ${postgres.schema} CASCADE`);
      await postgres.release();
    }
  }
}

/**
 * @tandem/conflicts path locks: what acquiring costs, one at a time and in a burst.
 *
 * A burst is what one frame of N lock acquires does to a server: N `acquire` calls issued at once
 * on one document, each for its own path. Sequential is N acquires one after another (the lock
 * list grows as they go). Both on ShareDB's MemoryDB and on SQLite (a temporary file), through one
 * `installConflicts` handle with caps high enough that every acquire may succeed (the cost of the
 * store, not of refusing).
 *
 * Besides time (noisy on a shared machine), the CPU-independent figures: submits the lock store
 * made (each attempt at a write, retries included), commits, bytes of ops stored in the lock
 * document's op log, and the heap growth measured after forced GCs (run with `--expose-gc`).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installConflicts, LOCKS_COLLECTION } from '@tandem/conflicts';
import { type } from '@tandem/ot';
import { createStorage } from '@tandem/storage';
import ShareDB from 'sharedb';
import { type BenchOptions, printTable } from '../report';

interface Cell {
  store: string;
  mode: 'burst' | 'sequential';
  acquires: number;
  /** Distinct holders, round robin. */
  owners: number;
  /** Raise the caps to `acquires` (the store's cost), or keep the defaults (what a client gets). */
  caps: 'raised' | 'default';
}

interface CellResult {
  ok: number;
  failed: Record<string, number>;
  wallMs: number;
  cpuMs: number;
  submits: number;
  commits: number;
  opBytes: number;
  heapMb: number;
}

type Callback = (error: unknown, value?: unknown) => void;
const call = <T>(fn: (cb: Callback) => void) =>
  new Promise<T>((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v as T))));

const gc = (globalThis as { gc?: () => void }).gc;
/** Heap in use once what is pending has run and two full GCs have passed. */
async function heapMb(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function backendFor(store: string): Promise<{ backend: ShareDB; close(): Promise<void> }> {
  if (store === 'memory')
    return { backend: new ShareDB({ db: new ShareDB.MemoryDB() }), close: async () => {} };
  const file = join(tmpdir(), `tandem-locks-bench-${process.pid}-${Date.now()}.db`);
  const storage = await createStorage(`sqlite:${file}`);
  const backend = new ShareDB({ db: storage.db as never, milestoneDb: storage.milestoneDb as never });
  return {
    backend,
    async close() {
      await new Promise<void>((resolve) => backend.close(() => resolve()));
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}

export async function runCell(cell: Cell): Promise<CellResult> {
  const { backend, close } = await backendFor(cell.store);
  let submits = 0;
  let commits = 0;
  backend.use('submit', (request: { collection: string }, next: () => void) => {
    if (request.collection === LOCKS_COLLECTION) submits++;
    next();
  });
  backend.use('commit', (request: { collection: string }, next: () => void) => {
    if (request.collection === LOCKS_COLLECTION) commits++;
    next();
  });
  const handle = installConflicts(
    backend,
    cell.caps === 'raised' ? { locks: { maxPerDocument: cell.acquires, maxPerOwner: cell.acquires } } : {},
  );
  const request = (i: number) => ({
    collection: 'bench',
    docId: 'd',
    path: ['f', i],
    owner: `u${i % cell.owners}`,
  });
  const heapBefore = await heapMb();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const results: { ok: boolean; error?: { code?: string } }[] = [];
  if (cell.mode === 'burst') {
    const all = [];
    for (let i = 0; i < cell.acquires; i++) all.push(handle.locks.tryAcquire(request(i)));
    results.push(...(await Promise.all(all.map((p) => p.catch((error) => ({ ok: false, error }))))));
  } else {
    for (let i = 0; i < cell.acquires; i++) {
      results.push(await handle.locks.tryAcquire(request(i)).catch((error) => ({ ok: false, error })));
    }
  }
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  const heap = (await heapMb()) - heapBefore;
  const ops = await call<{ op?: unknown; create?: unknown }[]>((cb) =>
    (backend.db as unknown as { getOps: (...a: unknown[]) => void }).getOps(
      LOCKS_COLLECTION,
      `${encodeURIComponent('bench')}/d`,
      0,
      null,
      {},
      cb,
    ),
  );
  const opBytes = ops.reduce((sum, op) => sum + Buffer.byteLength(JSON.stringify(op.op ?? op.create)), 0);
  const failed: Record<string, number> = {};
  for (const r of results) {
    if (r.ok) continue;
    const code = r.error?.code ?? 'thrown';
    failed[code] = (failed[code] ?? 0) + 1;
  }
  await handle.close();
  await close();
  return {
    ok: results.filter((r) => r.ok).length,
    failed,
    wallMs,
    cpuMs: (used.user + used.system) / 1000,
    submits,
    commits,
    opBytes,
    heapMb: heap,
  };
}

export async function run(options: BenchOptions): Promise<void> {
  (ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
    info() {},
    warn() {},
    error() {},
  });
  if (ShareDB.types.map[type.uri] === undefined) ShareDB.types.register(type as never);
  const n = options.quick ? 200 : 1000;
  const cells: Cell[] = [];
  for (const store of ['memory', 'sqlite']) {
    cells.push({ store, mode: 'burst', acquires: n, owners: 10, caps: 'raised' });
    cells.push({ store, mode: 'sequential', acquires: n, owners: 10, caps: 'raised' });
    // One user's frame of N acquires against the default caps (10 per holder, 100 per document).
    cells.push({ store, mode: 'burst', acquires: n, owners: 1, caps: 'default' });
    // Filling a document up to the default per-document cap, one acquire after another.
    cells.push({ store, mode: 'sequential', acquires: 100, owners: 10, caps: 'default' });
  }
  const rows: (string | number)[][] = [];
  for (const cell of cells) {
    const r = await runCell(cell);
    rows.push([
      cell.store,
      cell.mode,
      String(cell.acquires),
      String(cell.owners),
      cell.caps,
      String(r.ok),
      Object.entries(r.failed)
        .map(([code, count]) => `${code} ${count}`)
        .join(', ') || '—',
      r.wallMs,
      (r.wallMs * 1000) / cell.acquires,
      (r.cpuMs * 1000) / cell.acquires,
      String(r.submits),
      String(r.commits),
      r.opBytes / 1024,
      gc === undefined ? 'n/a (no --expose-gc)' : r.heapMb,
    ]);
  }
  printTable(
    [
      'store',
      'mode',
      'acquires',
      'holders',
      'caps',
      'ok',
      'failed',
      'wall ms',
      'wall µs / acquire',
      'CPU µs / acquire',
      'lock submits',
      'lock commits',
      'op log KiB',
      'heap growth MiB',
    ],
    rows,
  );
  console.log(
    'Distinct paths on one document; holders round robin. Caps raised: to the number of acquires, so every acquire may succeed (the cost of the store); default: what a client gets.',
  );
}

/**
 * @tandem/history on SQLite: time travel and history pages on one long document.
 *
 * The document is built with 100,000 typing ops (10,000 with --quick) on a ~20 KB text: mostly
 * sequential keystrokes, some backspaces, cursor jumps. Ops are committed through ShareDB's DB
 * interface (`db.commit`, the same rows a live server writes, with author/ts metadata) and a
 * milestone is saved every `milestoneInterval` versions, as the history middleware would.
 *
 * Measured at random versions / cursors:
 * - `history.snapshotAt`: nearest milestone + rope replay (what history uses),
 * - `backend.fetchSnapshot`: ShareDB's own milestone + plain json1 replay, for comparison,
 * - `history.snapshotAtTime`,
 * - `history.page` (50 entries) at a random cursor, and filtered by author,
 * - a replay of the whole history without milestones (what a missing milestone costs).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installHistory } from '@tandem/history';
import {
  applyRope,
  deleteTextAtCodePoint,
  deserialize,
  insertTextAtCodePoint,
  type JSONOp,
  type RopeDoc,
  serialize,
  type,
} from '@tandem/ot';
import { createStorage } from '@tandem/storage';
import ShareDB from 'sharedb';
import { type BenchOptions, formatNumber, percentile, printTable, seededRandom, timeIt } from '../report';

/** ShareDB's own time travel (absent from @types/sharedb): milestone snapshot + json1 replay. */
function fetchSnapshot(backend: ShareDB, version: number, cb: (error?: unknown) => void): void {
  const typed = backend as unknown as {
    fetchSnapshot(
      agent: null,
      collection: string,
      id: string,
      version: number,
      cb: (error?: unknown) => void,
    ): void;
  };
  typed.fetchSnapshot(null, COLLECTION, ID, version, cb);
}

const COLLECTION = 'bench';
const ID = 'long';
const MILESTONE_INTERVAL = 100;
const AUTHORS = [
  { id: 'ann', name: 'Ann' },
  { id: 'bob', name: 'Bob' },
  { id: 'cy', name: 'Cy' },
];

type Callback = (error: unknown, value?: unknown) => void;
const call = (fn: (cb: Callback) => void) =>
  new Promise<unknown>((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v))));

interface DBWithCommit {
  commit(c: string, id: string, op: object, snapshot: object, options: object | null, cb: Callback): void;
}
interface MilestoneWithSave {
  saveMilestoneSnapshot(c: string, snapshot: object, cb: Callback): void;
}

/** Commit `count` typing ops after a create; returns the commit time of the first op. */
async function buildDocument(
  db: DBWithCommit,
  milestones: MilestoneWithSave,
  count: number,
): Promise<number> {
  const rng = seededRandom(42);
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split(' ');
  let text = '';
  while (text.length < 20_000) text += `${words[Math.floor(rng() * words.length)]} `;
  const start = Date.UTC(2026, 0, 1);
  const initial = { title: 'Long document', body: text };
  let doc: RopeDoc | undefined = deserialize(initial);
  let length = text.length;
  let cursor = Math.floor(length / 2);
  // The stored current snapshot is only read at the end; intermediate commits carry a stub (the
  // DB stores it but no reader looks) so building stays linear.
  const stub = { v: 0, type: type.uri, data: null, m: {} };
  const meta = (v: number) => ({ ts: start + v * 100, author: AUTHORS[v % 3], session: `s${v % 3}` });
  await call((cb) =>
    db.commit(
      COLLECTION,
      ID,
      { v: 0, create: { type: type.uri, data: initial }, m: meta(0) },
      { ...stub, v: 1 },
      null,
      cb,
    ),
  );
  for (let v = 1; v < count; v++) {
    if (rng() < 0.02) cursor = Math.floor(rng() * length);
    let op: JSONOp;
    if (rng() < 0.15 && cursor > 0) {
      op = deleteTextAtCodePoint(['body'], cursor - 1, 1);
      cursor--;
      length--;
    } else {
      op = insertTextAtCodePoint(['body'], cursor, words[Math.floor(rng() * words.length)][0]);
      cursor++;
      length++;
    }
    doc = applyRope(doc, op);
    const last = v === count - 1;
    const snapshot = last ? { v: v + 1, type: type.uri, data: serialize(doc), m: {} } : { ...stub, v: v + 1 };
    await call((cb) => db.commit(COLLECTION, ID, { v, op, m: meta(v) }, snapshot, null, cb));
    if ((v + 1) % MILESTONE_INTERVAL === 0) {
      const milestone = { id: ID, v: v + 1, type: type.uri, data: serialize(doc), m: { mtime: meta(v).ts } };
      await call((cb) => milestones.saveMilestoneSnapshot(COLLECTION, milestone, cb));
    }
  }
  return start;
}

async function sample(iterations: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await timeIt(() => fn(i)));
  return times;
}

export async function run(options: BenchOptions): Promise<void> {
  const count = options.quick ? 10_000 : 100_000;
  const iterations = options.quick ? 50 : 300;
  const path = join(tmpdir(), `tandem-bench-history-${process.pid}.db`);
  rmSync(path, { force: true });
  const storage = await createStorage(`sqlite:${path}`, { milestoneInterval: MILESTONE_INTERVAL });
  const backend = new ShareDB({ db: storage.db as never, milestoneDb: storage.milestoneDb as never });
  const history = installHistory(backend, { milestoneInterval: MILESTONE_INTERVAL });
  const ref = { collection: COLLECTION, id: ID };
  try {
    const buildMs = await timeIt(async () => {
      await buildDocument(storage.db as never, storage.milestoneDb as never, count);
    });
    const start = Date.UTC(2026, 0, 1);
    const rng = seededRandom(7);
    const version = () => 1 + Math.floor(rng() * (count - 1));
    // Warm up both paths (JIT, SQLite page cache).
    for (let i = 0; i < 20; i++) {
      await history.snapshotAt(ref, version());
      await call((cb) => fetchSnapshot(backend, version(), cb));
    }
    const rows: (string | number)[][] = [];
    const add = (name: string, times: number[]) =>
      rows.push([
        name,
        String(times.length),
        percentile(times, 50),
        percentile(times, 99),
        Math.max(...times),
      ]);
    add(
      'history.snapshotAt (milestone + rope replay)',
      await sample(iterations, () => history.snapshotAt(ref, version())),
    );
    add(
      'ShareDB backend.fetchSnapshot (milestone + json1 replay)',
      await sample(iterations, () => call((cb) => fetchSnapshot(backend, version(), cb))),
    );
    add(
      'history.snapshotAtTime',
      await sample(iterations, () =>
        history.snapshotAtTime(ref, start + Math.floor(rng() * count) * 100 + 50),
      ),
    );
    add('history.page (50, newest)', await sample(iterations, () => history.page(ref, { limit: 50 })));
    add(
      'history.page (50, random cursor)',
      await sample(iterations, () => history.page(ref, { limit: 50, before: version() })),
    );
    add(
      'history.page (50, author filter, random cursor)',
      await sample(iterations, () => history.page(ref, { limit: 50, author: 'bob', before: version() })),
    );
    const noMilestone = installHistory(new ShareDB({ db: storage.db as never }), {
      milestoneInterval: MILESTONE_INTERVAL,
    });
    add(
      'full replay, no milestones (version = last)',
      await sample(options.quick ? 3 : 5, () => noMilestone.snapshotAt(ref, count - 1)),
    );

    console.log(
      `Document: ${formatNumber(count, 0)} ops, ~20 KB text, milestone every ${MILESTONE_INTERVAL} versions, SQLite file (WAL). ` +
        `Built in ${formatNumber(buildMs / 1000, 1)} s. Times in ms.\n`,
    );
    printTable(['operation', 'runs', 'median', 'p99', 'max'], rows);
  } finally {
    await new Promise<void>((resolve) => backend.close(() => resolve()));
    await storage.close();
    rmSync(path, { force: true });
    rmSync(`${path}-wal`, { force: true });
    rmSync(`${path}-shm`, { force: true });
  }
}

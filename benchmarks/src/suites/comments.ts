/**
 * @tandem/comments: what anchors cost the typing path, and what listing costs after many edits.
 *
 * - typing over sockets: one Tandem server (SQLite in a temporary file, the comments extension,
 *   rate limits off) in its own process; typists are @tandem/client clients in this one, each
 *   typing one keystroke at a time into the body of one document and waiting for its
 *   acknowledgement (closed loop), at a cursor that moves as typing does. Committed ops/s and the
 *   server process's CPU per op, into a document with no threads and into one with N threads
 *   anchored across its body, cells alternating, `RUNS` pairs: the ratio of each pair.
 * - the server's typing path alone (`serverPathCells`): the same keystrokes through a server-side
 *   ShareDB connection, no sockets, blocks of 1,000 ops alternating, CPU time per op; and what the
 *   background anchor moves took (the extension's `backgroundRebaseMs`) per op typed.
 * - listing: N threads anchored (and listed once, so the server's list path is warm), then M ops
 *   typed, then one `list` call (what a user opening the comments panel waits for): round trip in
 *   ms, and the same call again (anchors written back). With the default background rebase
 *   (`rebaseEvery` 2,000: the listing catches up at most ~2,000 ops) and without it (the listing
 *   catches up every one of the M ops). Each listing's anchors are checked against a replay of the
 *   op log, one anchor at a time.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TandemClient, type TandemDoc } from '@tandem/client';
import { comments as commentsExtension } from '@tandem/comments';
import {
  type Anchor,
  insertTextAtCodePoint,
  type JSONOp,
  type Presence,
  transformPresence,
} from '@tandem/ot';
import type { ThreadList } from '@tandem/protocol';
import { attach } from '@tandem/server';
import WebSocket from 'ws';
import { start as startProcess } from '../e2e/harness';
import { type BenchOptions, percentile, printTable } from '../report';

export const usage = `comments: typing rate with and without threads, listing after many ops
  env COMMENTS_THREADS (default 1000), COMMENTS_OPS ops typed before listing (10000),
      COMMENTS_TYPISTS (4), COMMENTS_SECONDS per typing cell (4), COMMENTS_RUNS (3)`;

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

interface Bench {
  url: string;
  clients: TandemClient[];
  /** Ask the server process (its answer to `{ type }`). */
  ask<T>(message: { type: string; id?: string }): Promise<T>;
  close(): Promise<void>;
}

/** The server in its own process (pinned to core 0 when `taskset` is there), typists in this one. */
async function start(rebaseEvery: number, typists: number): Promise<Bench> {
  const file = join(tmpdir(), `tandem-comments-bench-${process.pid}-${Date.now()}-${rebaseEvery}.db`);
  const child = startProcess('../suites/comments-server.ts', [file, String(rebaseEvery)], 0, []);
  const ask = <T>(message: { type: string; id?: string }) =>
    new Promise<T>((resolve) => {
      const answer = (reply: { type: string }) => {
        if (reply.type !== message.type) return;
        child.off('message', answer);
        resolve(reply as T);
      };
      child.on('message', answer);
      child.send(message);
    });
  const { url } = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`comments server exited (${code})`)));
    child.on('message', (m: { type: string; url?: string }) => {
      if (m.type === 'ready') resolve(m as { url: string });
    });
  });
  const clients: TandemClient[] = [];
  for (let i = 0; i <= typists; i++)
    clients.push(connect(url, { WebSocket: WebSocket as never, token: `user${i}` }));
  await Promise.all(clients.map((c) => c.online()));
  return {
    url,
    clients,
    ask,
    async close() {
      for (const c of clients) await c.close();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'close' });
      await exited;
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    },
  };
}

const BODY_CHARS = 20_000;
const body = (): string => {
  const words = ['lorem', 'ipsum', 'dolor', 'sit', 'amet', 'consectetur', 'adipiscing', 'elit'];
  let s = '';
  for (let i = 0; s.length < BODY_CHARS; i++) s += `${words[i % words.length]} `;
  return s.slice(0, BODY_CHARS);
};

type Call = (method: string, args: unknown[]) => Promise<unknown>;
const callOf =
  (client: TandemClient): Call =>
  (method, args) =>
    client.call({ t: 'call', ext: 'comments', method, args });

/** A document with `threads` threads spread over its body; returns the anchors as created. */
async function documentWithThreads(
  bench: Bench,
  id: string,
  threads: number,
): Promise<Map<string, { v: number; anchor: Anchor }>> {
  const owner = bench.clients[0];
  const doc = owner.doc<{ body: string }>('bench', id);
  await doc.create({ body: body() });
  const created = new Map<string, { v: number; anchor: Anchor }>();
  const call = callOf(owner);
  const step = Math.floor(BODY_CHARS / Math.max(1, threads));
  for (let i = 0; i < threads; i++) {
    const anchor = { path: ['body'], start: i * step, end: i * step + Math.max(1, Math.min(5, step - 1)) };
    const update = (await call('create', [
      'bench',
      id,
      { anchor, v: doc.version, body: { text: `thread ${i}`, mentions: [] } },
    ])) as { v: number; thread: { id: string } };
    created.set(update.thread.id, { v: update.v, anchor });
  }
  return created;
}

/**
 * Typists type into `id` until `until()` says stop: each at its own cursor, one code point per op,
 * waiting for the acknowledgement. Returns the ops committed.
 */
async function type(bench: Bench, id: string, until: (typed: number) => boolean): Promise<number> {
  const docs: TandemDoc<{ body: string }>[] = bench.clients.slice(1).map((c) => c.doc('bench', id));
  await Promise.all(docs.map((d) => d.subscribe()));
  let typed = 0;
  await Promise.all(
    docs.map(async (doc, i) => {
      let cursor = Math.floor(((i + 0.5) * BODY_CHARS) / docs.length);
      while (!until(typed)) {
        const length = doc.data?.body.length ?? 0;
        cursor = Math.min(cursor, length);
        await doc.submit(insertTextAtCodePoint(['body'], cursor, 'x'));
        cursor++;
        typed++;
      }
    }),
  );
  return typed;
}

/** Each anchor moved through the op log alone, as a remote caret (the definition AnchorSet optimises). */
async function replay(bench: Bench, id: string, created: Map<string, { v: number; anchor: Anchor }>) {
  const { ops } = await bench.ask<{ ops: { op?: JSONOp }[] }>({ type: 'ops', id });
  const expected = new Map<string, Anchor | null>();
  for (const [threadId, { v, anchor }] of created) {
    let p: Presence | null = {
      path: anchor.path,
      selections: [{ anchor: anchor.start ?? 0, head: anchor.end ?? 0 }],
    };
    for (const op of ops.slice(v)) if (p !== null) p = transformPresence(p, op.op ?? null, false);
    const range = p?.selections?.[0];
    expected.set(
      threadId,
      p === null || range === undefined || range.anchor === range.head
        ? null
        : { path: p.path, start: range.anchor, end: range.head },
    );
  }
  return expected;
}

const median = (xs: number[]): number => percentile(xs, 50);
const fixed = (x: number): string => x.toFixed(Math.abs(x) < 10 ? 3 : 1);
const spread = (xs: number[]): string => `${fixed(Math.min(...xs))}–${fixed(Math.max(...xs))}`;

/** One listing measurement: a fresh server, `threads` threads, `ops` ops typed, then two list calls. */
export async function listingCell(
  threads: number,
  ops: number,
  rebaseEvery: number,
  typists: number,
): Promise<{ firstMs: number; againMs: number; listed: number; correct: boolean }> {
  const b = await start(rebaseEvery, typists);
  try {
    const id = 'listed';
    const created = await documentWithThreads(b, id, threads);
    const reader = connect(b.url, { WebSocket: WebSocket as never, token: 'reader' });
    await reader.online();
    const call = callOf(reader);
    // Listed once before the typing (the panel was open): the server's list path is warm, as on a
    // server that has been up for a while, and the anchors are at the version they were made at.
    await call('list', ['bench', id]);
    await type(b, id, (typed) => typed >= ops);
    let t = performance.now();
    const list = (await call('list', ['bench', id])) as ThreadList;
    const firstMs = performance.now() - t;
    t = performance.now();
    await call('list', ['bench', id]);
    const againMs = performance.now() - t;
    const expected = await replay(b, id, created);
    let correct = list.threads.length === threads;
    for (const thread of list.threads) {
      const e = expected.get(thread.id);
      if (
        (e === null) !== thread.detached ||
        (e !== null && JSON.stringify(e) !== JSON.stringify(thread.anchor))
      )
        correct = false;
    }
    await reader.close();
    return { firstMs, againMs, listed: list.threads.length, correct };
  } finally {
    await b.close();
  }
}

interface TypingCell {
  /** Committed ops per second (wall clock). */
  rate: number;
  /** Server CPU time per committed op, µs (the server process alone). */
  cpuPerOp: number;
}

/** Typing into a document without threads and one with `threads`, cells alternating. */
export async function typingCells(
  threads: number,
  typists: number,
  seconds: number,
  runs: number,
): Promise<Record<'none' | 'threads', TypingCell[]>> {
  const bench = await start(2_000, typists);
  const cells: Record<'none' | 'threads', TypingCell[]> = { none: [], threads: [] };
  try {
    await bench.clients[0].doc('bench', 'plain').create({ body: body() });
    await documentWithThreads(bench, 'commented', threads);
    // A first pass of each, not counted: JIT and caches warm up on both documents alike.
    for (let r = -1; r < runs; r++)
      for (const [cell, id] of [
        ['none', 'plain'],
        ['threads', 'commented'],
      ] as const) {
        const cpu = await bench.ask<{ micros: number }>({ type: 'cpu' });
        const started = performance.now();
        const typed = await type(bench, id, () => performance.now() - started >= seconds * 1_000);
        const elapsed = performance.now() - started;
        const used = (await bench.ask<{ micros: number }>({ type: 'cpu' })).micros - cpu.micros;
        if (r >= 0) cells[cell].push({ rate: typed / (elapsed / 1_000), cpuPerOp: used / typed });
      }
  } finally {
    await bench.close();
  }
  return cells;
}

/**
 * The server's typing path alone, in this process: keystrokes submitted through a server-side
 * ShareDB connection (every middleware, the store, the comments extension; no sockets), blocks of
 * `perBlock` ops alternating between the two documents, each block's CPU time divided by its ops.
 * The threads document's blocks end exactly on a multiple of `perBlock` versions, where the
 * extension (with `rebaseEvery` = `perBlock`) moves its anchors in the background; that move's CPU
 * is measured on its own, the typing stopped, until the extension reports it done.
 */
export async function serverPathCells(
  threads: number,
  pairs: number,
  perBlock: number,
): Promise<{ cpu: Record<'none' | 'threads', number[]>; rebaseCpu: number[] }> {
  const file = join(tmpdir(), `tandem-comments-path-${process.pid}-${Date.now()}.db`);
  const server = await attach(
    { port: 0 },
    {
      storage: `sqlite:${file}`,
      rateLimits: false,
      hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
      extensions: [commentsExtension({ maxThreadsPerDocument: 100_000, rebaseEvery: perBlock })],
    },
  );
  const owner = connect(server.url(), { WebSocket: WebSocket as never, token: 'owner' });
  const cpu: Record<'none' | 'threads', number[]> = { none: [], threads: [] };
  const rebaseCpu: number[] = [];
  const rebases = () =>
    Number(
      (server.tandem.metrics().extensions?.comments as { backgroundRebases?: number } | undefined)
        ?.backgroundRebases,
    );
  try {
    await owner.online();
    const bench = {
      url: server.url(),
      clients: [owner],
      ask: async () => ({}) as never,
      close: async () => {},
    };
    await owner.doc('bench', 'plain').create({ body: body() });
    await documentWithThreads(bench, 'commented', threads);
    const backend = await server.tandem.backend();
    const connection = backend.connect();
    const docs = { none: connection.get('bench', 'plain'), threads: connection.get('bench', 'commented') };
    for (const doc of Object.values(docs)) await new Promise<void>((resolve) => doc.fetch(() => resolve()));
    const cursors = { none: BODY_CHARS / 2, threads: BODY_CHARS / 2 };
    const typeInto = async (cell: 'none' | 'threads', n: number) => {
      for (let k = 0; k < n; k++)
        await new Promise<void>((resolve, reject) =>
          docs[cell].submitOp(
            insertTextAtCodePoint(['body'], cursors[cell]++, 'x') as never,
            {},
            (e: unknown) => (e ? reject(e) : resolve()),
          ),
        );
    };
    // Version 1 after the create: align the threads document's blocks to end on multiples.
    await typeInto('threads', perBlock - 1);
    for (let r = -1; r < pairs; r++)
      for (const cell of ['none', 'threads'] as const) {
        const start = process.cpuUsage();
        const done = rebases();
        await typeInto(cell, perBlock);
        const used = process.cpuUsage(start);
        if (r >= 0) cpu[cell].push((used.user + used.system) / perBlock);
        if (cell !== 'threads') continue;
        // The move started after the last op's acknowledgement: only it runs until it is done.
        const moving = process.cpuUsage();
        while (rebases() === done) await new Promise((resolve) => setImmediate(resolve));
        const moved = process.cpuUsage(moving);
        if (r >= 0) rebaseCpu.push((moved.user + moved.system) / 1_000);
      }
    connection.close();
  } finally {
    await owner.close();
    await server.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  }
  return { cpu, rebaseCpu };
}

export async function run(options: BenchOptions): Promise<void> {
  const threads = options.quick ? 100 : env('COMMENTS_THREADS', 1_000);
  const ops = options.quick ? 1_000 : env('COMMENTS_OPS', 10_000);
  const typists = env('COMMENTS_TYPISTS', 4);
  const seconds = options.quick ? 0.5 : env('COMMENTS_SECONDS', 4);
  const runs = options.quick ? 2 : env('COMMENTS_RUNS', 3);

  const cells = await typingCells(threads, typists, seconds, runs);
  const rate = (k: 'none' | 'threads') => cells[k].map((c) => c.rate);
  const cpu = (k: 'none' | 'threads') => cells[k].map((c) => c.cpuPerOp);
  const pairs = (f: (none: TypingCell, withThreads: TypingCell) => number) =>
    cells.threads.map((c, i) => f(cells.none[i], c));
  const rateRatios = pairs((none, t) => t.rate / none.rate);
  const cpuRatios = pairs((none, t) => none.cpuPerOp / t.cpuPerOp);
  console.log(
    `### typing: ${typists} typists, closed loop, ${seconds} s per cell, ${runs} runs each, alternating\n`,
  );
  printTable(
    ['document', 'ops/s median', 'range', 'server CPU µs/op median', 'range'],
    [
      ['no threads', median(rate('none')), spread(rate('none')), median(cpu('none')), spread(cpu('none'))],
      [
        `${threads} threads`,
        median(rate('threads')),
        spread(rate('threads')),
        median(cpu('threads')),
        spread(cpu('threads')),
      ],
    ],
  );
  printTable(
    ['ratio, threads ÷ none (same run)', 'median of pairs', 'range'],
    [
      ['typing rate (wall clock)', median(rateRatios), spread(rateRatios)],
      ['rate at equal server CPU (CPU per op, none ÷ threads)', median(cpuRatios), spread(cpuRatios)],
    ],
  );

  const every = 2_000;
  const { cpu: path, rebaseCpu } = await serverPathCells(
    threads,
    options.quick ? 2 : env('COMMENTS_PAIRS', 6),
    every,
  );
  const pathRatios = path.threads.map((t, i) => path.none[i] / t);
  const upkeep = rebaseCpu.map((ms) => (ms * 1_000) / every);
  const withUpkeep = path.threads.map((t, i) => path.none[i] / (t + upkeep[i]));
  console.log(`### the server's typing path alone: CPU µs per op, blocks of ${every} ops alternating\n`);
  printTable(
    ['', 'median', 'range'],
    [
      ['no threads: CPU µs per op', median(path.none), spread(path.none)],
      [`${threads} threads: CPU µs per op, typing`, median(path.threads), spread(path.threads)],
      [
        `${threads} threads: one background move through ${every} ops, CPU ms`,
        median(rebaseCpu),
        spread(rebaseCpu),
      ],
      ['… per op typed, µs', median(upkeep), spread(upkeep)],
      ['rate at equal CPU, typing only (none ÷ threads, pairs)', median(pathRatios), spread(pathRatios)],
      ['rate at equal CPU, background move included (pairs)', median(withUpkeep), spread(withUpkeep)],
    ],
  );

  const rows: (string | number)[][] = [];
  for (const [label, every] of [
    ['background rebase every 2,000 versions (default)', 2_000],
    ['no background rebase (the listing catches up every op)', Number.MAX_SAFE_INTEGER],
  ] as const) {
    const cells = [];
    for (let r = 0; r < runs; r++) cells.push(await listingCell(threads, ops, every, typists));
    const first = cells.map((c) => c.firstMs);
    const again = cells.map((c) => c.againMs);
    rows.push([
      label,
      median(first),
      spread(first),
      median(again),
      spread(again),
      cells.every((c) => c.correct) ? 'yes' : 'NO',
    ]);
  }
  console.log(`### listing ${threads} threads after ${ops} ops (round trip of one list call, ms)\n`);
  printTable(
    ['anchors', 'first list median', 'range', 'next list median', 'range', 'positions = replay'],
    rows,
  );
}

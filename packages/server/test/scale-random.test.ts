// Randomized scale-out convergence: three server processes sharing one SQLite file and Redis, stock
// ShareDB clients (sharedb/lib/client over plain JSON) and Tandem clients (JSON and msgpack) typing
// into two documents as users under their rate limits, random disconnects, and one server process
// SIGKILLed mid-run and restarted on its port. Then every replica must equal the store's snapshot,
// every acknowledged op be in it exactly once, no client have seen an op ahead of its version (a
// ShareDB client fetches then) nor logged a warning ("Invalid version from server" …) nor been told
// RATE_LIMITED.
//
// The schedule (who types what, where and when, who disconnects, which process dies when) comes
// from a seed, printed first: SCALE_SEED=<seed> replays it. SCALE_MS=<ms> types for longer than the
// default 20 s (the whole test takes about a minute in CI).
import { connect, type TandemClient, type TandemDoc } from '@tandem/client';
import { createStorage } from '@tandem/storage';
import fc from 'fast-check';
import ShareDB from 'sharedb/lib/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from './helpers';
import { type ServerProcess, serverProcesses } from './server-processes';

const servers = serverProcesses('scale-random');

const SEED = Number(process.env.SCALE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TYPING_MS = Number(process.env.SCALE_MS ?? 20_000);
const DOCS = ['alpha', 'beta'];
const USERS = ['ada', 'bo', 'cy', 'di'];
const PROCESSES = 3;

/**
 * Seeded uniform numbers in [0, 1) from fast-check, drawn in turn (cycling): one stream per client,
 * so each one's schedule is independent of how the others' interleave.
 */
function stream(seed: number, length = 4_096): () => number {
  // fc.double spreads over representable doubles (mostly tiny ones); integers are uniform.
  const uniform = fc.noBias(fc.integer({ min: 0, max: 0xffffffff })).map((n) => n / 2 ** 32);
  const values = fc.sample(uniform, {
    seed,
    numRuns: length,
  });
  let i = 0;
  return () => values[i++ % values.length];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Log = { log: string[] };

/** What every client kind offers the test. */
interface Replica {
  name: string;
  /** Submit an op; resolves when acknowledged. */
  submit(doc: string, op: unknown[]): Promise<void>;
  /** Drop the connection (the client reconnects on its own, or `reconnect` does). */
  drop(random: () => number): void;
  /** Online, subscribed, nothing unacknowledged. */
  synced(): boolean;
  snapshot(doc: string): { v: number; data: unknown } | undefined;
  close(): Promise<void>;
}

/**
 * Everything said that must not be: ShareDB client warnings, RATE_LIMITED, other client errors, and
 * fetches (a ShareDB client fetches when an op arrives ahead of its version: it saw a gap).
 */
const complaints = {
  warnings: [] as string[],
  rateLimited: [] as string[],
  errors: [] as string[],
  fetches: [] as string[],
};

/** Count the fetches a ShareDB client connection sends. */
function watchFetches(
  name: string,
  connection: { on(event: 'send', listener: (m: { a?: string; d?: string; v?: number }) => void): void },
) {
  connection.on('send', (message) => {
    if (message.a === 'f') complaints.fetches.push(`${name} ${message.d}@${message.v}`);
  });
}
const logger = {
  info: () => {},
  warn: (...args: unknown[]) => complaints.warnings.push(args.map(String).join(' ')),
  error: (...args: unknown[]) => complaints.warnings.push(args.map(String).join(' ')),
};

function tandemReplica(name: string, user: string, urls: string[], codec: 'json' | 'msgpack'): Replica {
  const client: TandemClient = connect(urls, {
    WebSocket: WebSocket as never,
    token: user,
    codec,
    reconnect: { minDelayMs: 20, maxDelayMs: 300 },
    logger,
  });
  client.on('error', (error) => {
    if (error.code === 'RATE_LIMITED') complaints.rateLimited.push(`${name}: ${error.message}`);
    else complaints.errors.push(`${name}: ${error.code} ${error.message}`);
  });
  watchFetches(name, client.connection as never);
  const docs = new Map<string, TandemDoc<Log>>();
  for (const id of DOCS) {
    const doc = client.doc<Log>('scale', id);
    docs.set(id, doc);
    void doc
      .subscribe()
      .catch((error: unknown) => complaints.errors.push(`${name} subscribe: ${String(error)}`));
  }
  return {
    name,
    submit: (id, op) => (docs.get(id) as TandemDoc<Log>).submit(op as never),
    drop: () => client.reconnect(),
    synced: () =>
      client.status === 'online' &&
      client.unsyncedCount === 0 &&
      DOCS.every((id) => client.connection.get('scale', id).subscribed),
    snapshot(id) {
      const doc = docs.get(id);
      return doc?.data === undefined ? undefined : { v: doc.version ?? -1, data: doc.data };
    },
    close: () => client.close(),
  };
}

/** ShareDB's client Connection, with what its published types leave out. */
type StockConnection = ShareDB.Connection & { bindToSocket(socket: unknown): void };

function stockReplica(name: string, user: string, live: () => string[], random: () => number): Replica {
  let closed = false;
  let socket: WebSocket;
  const open = (): WebSocket => {
    const urls = live();
    const ws = new WebSocket(`${urls[Math.floor(random() * urls.length)]}?token=${user}`);
    socket = ws;
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"RATE_LIMITED"')) complaints.rateLimited.push(`${name}: ${text}`);
    });
    // A socket that dies (its process killed, or dropped here) is replaced after a moment.
    ws.on('close', () => {
      if (!closed) setTimeout(() => connection.bindToSocket(open()), 20 + random() * 200);
    });
    ws.on('error', () => {});
    return ws;
  };
  const connection = new ShareDB.Connection(open() as never) as StockConnection;
  watchFetches(name, connection as never);
  const docs = new Map<string, ShareDB.Doc<Log>>();
  for (const id of DOCS) {
    const doc = connection.get('scale', id) as ShareDB.Doc<Log>;
    docs.set(id, doc);
    doc.subscribe((error) => {
      if (error) complaints.errors.push(`${name} subscribe: ${String(error)}`);
    });
    doc.on('error', (error) => complaints.errors.push(`${name} doc: ${String(error)}`));
  }
  return {
    name,
    submit: (id, op) =>
      new Promise<void>((resolve, reject) =>
        docs.get(id)?.submitOp(op, {}, (error) => (error ? reject(error) : resolve())),
      ),
    drop(rand) {
      if (rand() < 0.5) socket.close();
      else socket.terminate();
    },
    synced: () =>
      connection.state === 'connected' && [...docs.values()].every((d) => d.subscribed && !d.hasPending()),
    snapshot(id) {
      const doc = docs.get(id);
      return doc?.data === undefined ? undefined : { v: doc.version ?? -1, data: doc.data };
    },
    close: async () => {
      closed = true;
      connection.close();
    },
  };
}

describe('randomized scale-out convergence (3 processes + Redis + one SQLite file)', () => {
  it(`seed ${SEED}: every replica equals the store, every acknowledged op exactly once, no warning, no RATE_LIMITED`, async () => {
    console.log(`scale-random: SCALE_SEED=${SEED} SCALE_MS=${TYPING_MS}`);
    const random = stream(SEED);
    const args = [servers.storage(), servers.prefix];
    const procs: ServerProcess[] = await Promise.all(
      Array.from({ length: PROCESSES }, () => servers.start('scale-process.ts', [...args, '0'])),
    );
    const urls = procs.map((p) => p.url);
    const alive = new Set(urls);

    // Create the documents before anyone subscribes (from a plain stock connection).
    const seedSocket = new WebSocket(`${urls[0]}?token=setup`);
    const setup = new ShareDB.Connection(seedSocket as never);
    for (const id of DOCS) {
      const doc = setup.get('scale', id);
      await new Promise<void>((resolve, reject) =>
        doc.create({ log: [] }, 'json1', (error) => (error ? reject(error) : resolve())),
      );
    }
    setup.close();

    const replicas: Replica[] = [];
    for (let i = 0; i < 6; i++) {
      const user = USERS[i % USERS.length];
      const clientRandom = stream(SEED + 1_000 * (i + 1));
      // Tandem clients prefer a different process each and fail over through the list.
      const order = urls.map((_, k) => urls[(i + k) % urls.length]);
      replicas.push(
        i % 2 === 0
          ? tandemReplica(`tandem-${i}`, user, order, i % 4 === 0 ? 'json' : 'msgpack')
          : stockReplica(`stock-${i}`, user, () => [...alive], clientRandom),
      );
    }
    await until(
      () => replicas.every((r) => DOCS.every((id) => r.snapshot(id) !== undefined)),
      10_000,
      'every replica subscribed',
    );

    const submitted = new Set<string>();
    const acked = new Set<string>();
    const refused: string[] = [];
    let typing = true;
    const started = Date.now();

    // One typing loop per replica, each with its own seeded schedule: ~3-16 ops/s, a drop every ~12 ops.
    const loops = replicas.map(async (replica, i) => {
      const rand = stream(SEED + 7 * (i + 1));
      let n = 0;
      while (typing) {
        await sleep(60 + rand() * 250);
        const doc = DOCS[Math.floor(rand() * DOCS.length)];
        const fraction = rand();
        if (rand() < 0.08) replica.drop(rand);
        const log = (replica.snapshot(doc)?.data as Log | undefined)?.log;
        if (log === undefined) continue;
        const token = `${replica.name}#${n++}`;
        submitted.add(token);
        replica.submit(doc, ['log', Math.floor(fraction * (log.length + 1)), { i: token }]).then(
          () => acked.add(token),
          (error: unknown) => refused.push(`${token}: ${String(error)}`),
        );
      }
    });

    // One process dies mid-run (SIGKILL: no goodbye, maybe ops committed and never published) and
    // comes back on its port a little later.
    const victim = Math.floor(random() * PROCESSES);
    const killAt = TYPING_MS * (0.3 + random() * 0.3);
    const downMs = 500 + random() * 1_500;
    const chaos = (async () => {
      await sleep(killAt);
      const dead = procs[victim];
      const port = new URL(dead.url).port;
      alive.delete(dead.url);
      const exited = new Promise((resolve) => dead.process.once('exit', resolve));
      dead.process.kill('SIGKILL');
      await exited;
      await sleep(downMs);
      procs[victim] = await servers.start('scale-process.ts', [...args, port]);
      alive.add(procs[victim].url);
    })();

    while (Date.now() - started < TYPING_MS) await sleep(100);
    typing = false;
    await Promise.all(loops);
    await chaos;

    await until(() => replicas.every((r) => r.synced()), 30_000, 'every replica online with nothing pending');
    const storage = await createStorage(servers.storage());
    try {
      const store = storage.db as unknown as {
        getSnapshot(
          c: string,
          id: string,
          f: null,
          o: null,
          cb: (e: unknown, s: { v: number; data: Log }) => void,
        ): void;
      };
      const read = (id: string) =>
        new Promise<{ v: number; data: Log }>((resolve, reject) =>
          store.getSnapshot('scale', id, null, null, (e, s) => (e ? reject(e) : resolve(s))),
        );
      const stored = new Map<string, { v: number; data: Log }>();
      for (const id of DOCS) stored.set(id, await read(id));
      await until(
        () => replicas.every((r) => DOCS.every((id) => r.snapshot(id)?.v === stored.get(id)?.v)),
        20_000,
        'every replica at the store’s version',
      );
      const log = DOCS.flatMap((id) => stored.get(id)?.data.log ?? []);
      const metrics = await Promise.all(procs.map((p) => p.ask({ metrics: true })));
      console.log(
        `scale-random: ${submitted.size} ops submitted, ${acked.size} acknowledged, versions ${DOCS.map((id) => stored.get(id)?.v).join('/')}, ` +
          `process ${victim} killed at ${Math.round(killAt)} ms for ${Math.round(downMs)} ms; pub/sub per process ${JSON.stringify(metrics.map((m) => m.pubsub))}`,
      );
      for (const replica of replicas) {
        for (const id of DOCS) {
          const { v, data } = stored.get(id) as { v: number; data: Log };
          expect(replica.snapshot(id), `${replica.name} ${id}`).toEqual({ v, data });
        }
      }
      expect(refused).toEqual([]);
      expect(acked.size).toBe(submitted.size);
      const counts = new Map<string, number>();
      for (const token of log) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const token of acked) expect(counts.get(token), token).toBe(1);
      expect(log.length).toBe(acked.size);
      expect(complaints.warnings).toEqual([]);
      expect(complaints.fetches).toEqual([]);
      expect(complaints.rateLimited).toEqual([]);
      for (const m of metrics) expect((m.security as Record<string, number>).rate_limited ?? 0).toBe(0);
      expect(acked.size).toBeGreaterThan(50);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
      await storage.close();
    }
  }, 120_000);
});

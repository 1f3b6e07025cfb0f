// Clients that type into shared documents, for the scale-out tests (several server processes, on
// one host or several): Tandem clients (`@tandem/client`, JSON or msgpack) and stock ShareDB clients
// (`sharedb/lib/client` over plain JSON), each typing unique tokens into a `log` array, a ledger of
// what was submitted, acknowledged and refused, and the end check: every replica equals the store,
// every acknowledged op is in it exactly once.
import { connect, type TandemClient, type TandemDoc } from '@tandem/client';
import { createStorage } from '@tandem/storage';
import fc from 'fast-check';
import ShareDB from 'sharedb/lib/client';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { until } from './helpers';

export type Log = { log: string[] };

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Seeded uniform numbers in [0, 1) from fast-check, drawn in turn (cycling): one stream per client,
 * so each one's schedule is independent of how the others' interleave.
 */
export function stream(seed: number, length = 4_096): () => number {
  // fc.double spreads over representable doubles (mostly tiny ones); integers are uniform.
  const uniform = fc.noBias(fc.integer({ min: 0, max: 0xffffffff })).map((n) => n / 2 ** 32);
  const values = fc.sample(uniform, { seed, numRuns: length });
  let i = 0;
  return () => values[i++ % values.length];
}

/**
 * Everything said that must not be (or only in a fault that explains it): ShareDB client warnings
 * ("Invalid version from server" …), RATE_LIMITED, other client errors by code, and fetches (a
 * ShareDB client fetches when an op arrives ahead of its version: it saw a gap).
 */
export interface Complaints {
  warnings: string[];
  rateLimited: string[];
  errors: { replica: string; code: string; message: string }[];
  fetches: string[];
}

export function complaints(): Complaints {
  return { warnings: [], rateLimited: [], errors: [], fetches: [] };
}

/** What every client kind offers the test. */
export interface Replica {
  name: string;
  /** Submit an op; resolves when acknowledged. */
  submit(doc: string, op: unknown[]): Promise<void>;
  /** Drop the connection (the client reconnects on its own). */
  drop(random: () => number): void;
  /** Online, subscribed, nothing unacknowledged. */
  synced(): boolean;
  /** Ops submitted and not yet acknowledged or refused. */
  pending(): number;
  snapshot(doc: string): { v: number; data: unknown } | undefined;
  /** The URL of the server its socket was last opened to. */
  where(): string | undefined;
  close(): Promise<void>;
}

export interface ReplicaOptions {
  name: string;
  /** The user (the fixtures' `authenticate` takes the token as the user id). */
  user: string;
  collection: string;
  docs: readonly string[];
  complaints: Complaints;
}

/** Count the fetches a ShareDB client connection sends. */
function watchFetches(
  name: string,
  connection: { on(event: 'send', listener: (m: { a?: string; d?: string; v?: number }) => void): void },
  complaints: Complaints,
) {
  connection.on('send', (message) => {
    if (message.a === 'f') complaints.fetches.push(`${name} ${message.d}@${message.v}`);
  });
}

/** A Tandem client that fails over through `urls` (first choice first) with a short backoff. */
export function tandemReplica(
  options: ReplicaOptions & { urls: readonly string[]; codec: 'json' | 'msgpack' },
): Replica {
  const { name, collection, docs: ids, complaints } = options;
  const logger = {
    info: () => {},
    warn: (...args: unknown[]) => complaints.warnings.push(args.map(String).join(' ')),
    error: (...args: unknown[]) => complaints.warnings.push(args.map(String).join(' ')),
  };
  let where: string | undefined;
  // The client's choice of server, seen where it opens its socket.
  class Socket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      where = url.split('?')[0];
    }
  }
  const client: TandemClient = connect(options.urls, {
    WebSocket: Socket as never,
    token: options.user,
    codec: options.codec,
    reconnect: { minDelayMs: 20, maxDelayMs: 300 },
    logger,
  });
  client.on('error', (error) => {
    if (error.code === 'RATE_LIMITED') complaints.rateLimited.push(`${name}: ${error.message}`);
    else complaints.errors.push({ replica: name, code: error.code, message: error.message });
  });
  watchFetches(name, client.connection as never, complaints);
  const docs = new Map<string, TandemDoc<Log>>();
  for (const id of ids) {
    const doc = client.doc<Log>(collection, id);
    docs.set(id, doc);
    void doc
      .subscribe()
      .catch((error: unknown) =>
        complaints.errors.push({ replica: name, code: 'subscribe', message: String(error) }),
      );
  }
  return {
    name,
    submit: (id, op) => (docs.get(id) as TandemDoc<Log>).submit(op as never),
    drop: () => client.reconnect(),
    synced: () =>
      client.status === 'online' &&
      client.unsyncedCount === 0 &&
      ids.every((id) => client.connection.get(collection, id).subscribed),
    pending: () => client.unsyncedCount,
    snapshot(id) {
      const doc = docs.get(id);
      return doc?.data === undefined ? undefined : { v: doc.version ?? -1, data: doc.data };
    },
    where: () => where,
    close: () => client.close(),
  };
}

/** ShareDB's client Connection, with what its published types leave out. */
type StockConnection = ShareDB.Connection & { bindToSocket(socket: unknown): void };

/**
 * A stock ShareDB client on a WebSocket of its own; when the socket dies (its server killed, or
 * dropped here) a new one to `next()` replaces it a moment later.
 */
export function stockReplica(
  options: ReplicaOptions & { next: () => string; random: () => number },
): Replica {
  const { name, collection, docs: ids, complaints, random } = options;
  let closed = false;
  let socket: WebSocket;
  let where: string | undefined;
  const open = (): WebSocket => {
    where = options.next();
    const ws = new WebSocket(`${where}?token=${options.user}`);
    socket = ws;
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.includes('"RATE_LIMITED"')) complaints.rateLimited.push(`${name}: ${text}`);
    });
    ws.on('close', () => {
      if (!closed) setTimeout(() => connection.bindToSocket(open()), 20 + random() * 200);
    });
    ws.on('error', () => {});
    return ws;
  };
  const connection = new ShareDB.Connection(open() as never) as StockConnection;
  watchFetches(name, connection as never, complaints);
  const docs = new Map<string, ShareDB.Doc<Log>>();
  for (const id of ids) {
    const doc = connection.get(collection, id) as ShareDB.Doc<Log>;
    docs.set(id, doc);
    doc.subscribe((error) => {
      if (error) complaints.errors.push({ replica: name, code: 'subscribe', message: String(error) });
    });
    doc.on('error', (error: { code?: unknown; message?: string }) =>
      complaints.errors.push({ replica: name, code: String(error.code), message: String(error.message) }),
    );
  }
  const inFlight = (doc: ShareDB.Doc<Log>) =>
    ((doc as unknown as { inflightOp: unknown }).inflightOp ? 1 : 0) +
    (doc as unknown as { pendingOps: unknown[] }).pendingOps.length;
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
    pending: () => [...docs.values()].reduce((n, doc) => n + inFlight(doc), 0),
    snapshot(id) {
      const doc = docs.get(id);
      return doc?.data === undefined ? undefined : { v: doc.version ?? -1, data: doc.data };
    },
    where: () => where,
    close: async () => {
      closed = true;
      connection.close();
    },
  };
}

/** Every token typed, when it was acknowledged, and why it was refused. */
export class Ledger {
  readonly submitted = new Set<string>();
  /** Token → Date.now() at its acknowledgement. */
  readonly acked = new Map<string, number>();
  readonly refused: { token: string; replica: string; code: string; at: number }[] = [];

  /** Insert a fresh token at a random place of `doc`'s log (nothing when the doc is not loaded yet). */
  type(replica: Replica, doc: string, fraction: number, serial: number): void {
    const log = (replica.snapshot(doc)?.data as Log | undefined)?.log;
    if (log === undefined) return;
    const token = `${replica.name}#${serial}`;
    this.submitted.add(token);
    replica.submit(doc, ['log', Math.floor(fraction * (log.length + 1)), { i: token }]).then(
      () => this.acked.set(token, Date.now()),
      (error: { code?: unknown }) =>
        this.refused.push({ token, replica: replica.name, code: String(error?.code), at: Date.now() }),
    );
  }
}

/**
 * Each replica types until `stop()` on its own seeded schedule: an op every 60-310 ms into a random
 * doc, and with probability `dropRate` per op it drops its connection first.
 */
export async function typeUntil(
  replicas: readonly Replica[],
  docs: readonly string[],
  ledger: Ledger,
  options: { seed: number; stop: () => boolean; dropRate?: number },
): Promise<void> {
  const serials = new Map<string, number>();
  for (const token of ledger.submitted) {
    const [name, n] = token.split('#');
    serials.set(name, Math.max(serials.get(name) ?? 0, Number(n) + 1));
  }
  await Promise.all(
    replicas.map(async (replica, i) => {
      const rand = stream(options.seed + 7 * (i + 1));
      let n = serials.get(replica.name) ?? 0;
      while (!options.stop()) {
        await sleep(60 + rand() * 250);
        const doc = docs[Math.floor(rand() * docs.length)];
        const fraction = rand();
        if (rand() < (options.dropRate ?? 0)) replica.drop(rand);
        ledger.type(replica, doc, fraction, n++);
      }
    }),
  );
}

type Stored = { v: number; data: Log };

/** Snapshots as the store has them. */
export async function readStore(url: string, collection: string, docs: readonly string[]) {
  const storage = await createStorage(url);
  try {
    const db = storage.db as unknown as {
      getSnapshot(c: string, id: string, f: null, o: null, cb: (e: unknown, s: Stored) => void): void;
    };
    const stored = new Map<string, Stored>();
    for (const id of docs) {
      stored.set(
        id,
        await new Promise<Stored>((resolve, reject) =>
          db.getSnapshot(collection, id, null, null, (e, s) => (e ? reject(e) : resolve(s))),
        ),
      );
    }
    return stored;
  } finally {
    await storage.close();
  }
}

/**
 * Once typing stopped: every replica online with nothing pending, at the store's version, equal to
 * the store's snapshot; every acknowledged op in the store exactly once, a refused one at most once
 * (a commit whose reply was lost may still have happened), nothing else in it.
 */
export async function expectConverged(
  replicas: readonly Replica[],
  ledger: Ledger,
  store: { url: string; collection: string; docs: readonly string[] },
  timeoutMs = 30_000,
): Promise<Map<string, Stored>> {
  const { docs } = store;
  await until(
    () => replicas.every((r) => r.synced()),
    timeoutMs,
    'every replica online with nothing pending',
  );
  const stored = await readStore(store.url, store.collection, docs);
  await until(
    () => replicas.every((r) => docs.every((id) => r.snapshot(id)?.v === stored.get(id)?.v)),
    timeoutMs,
    'every replica at the store’s version',
  );
  for (const replica of replicas) {
    for (const id of docs) {
      const { v, data } = stored.get(id) as Stored;
      expect(replica.snapshot(id), `${replica.name} ${id}`).toEqual({ v, data });
    }
  }
  const counts = new Map<string, number>();
  for (const id of docs)
    for (const token of stored.get(id)?.data.log ?? []) counts.set(token, (counts.get(token) ?? 0) + 1);
  const refused = new Set(ledger.refused.map((r) => r.token));
  expect(ledger.acked.size + refused.size, 'every submitted op answered').toBe(ledger.submitted.size);
  for (const token of ledger.acked.keys()) expect(counts.get(token), token).toBe(1);
  for (const [token, count] of counts) {
    if (!ledger.acked.has(token)) {
      expect(refused.has(token), `${token} stored but never submitted`).toBe(true);
      expect(count, token).toBe(1);
    }
  }
  return stored;
}

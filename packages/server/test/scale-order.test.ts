// Two Tandem servers in this process sharing one store and Redis, with the interleavings that used
// to break scale-out forced instead of hoped for: a subscribe while Redis has not answered the
// channel's UNSUBSCRIBE, an op published after the next one (or never), a channel Redis lost.
import { ErrorCode, TandemError } from '@tandem/protocol';
import { attach } from '@tandem/server';
import { createClient } from 'redis';
import ShareDB from 'sharedb';
import ShareDBClient from 'sharedb/lib/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, until } from './helpers';
import { REDIS_URL } from './redis-url';
import { type RedisProxy, redisProxy } from './tcp-proxy';

const REDIS = REDIS_URL;
let run = 0;

type Server = Awaited<ReturnType<typeof attach>>;
type Log = { log: string[] };

/** Two servers over one in-memory store and one Redis prefix (`viaA`: server A's Redis URL). */
async function twoServers(viaA = REDIS, options: { checkIntervalMs?: number } = {}) {
  const db = new ShareDB.MemoryDB();
  const storage = { db, close: async () => {} };
  const prefix = `tandem-order-${process.pid}-${Date.now()}-${run++}`;
  const a = await attach({ port: 0 }, { storage, redis: { url: viaA, prefix, ...options } });
  const b = await attach({ port: 0 }, { storage, redis: { url: REDIS, prefix, ...options } });
  return { a, b, prefix };
}

/** Warnings of ShareDB's process-wide logger (client and server share it), e.g. "Invalid version". */
function captureWarnings(): string[] {
  const warnings: string[] = [];
  const record = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  (ShareDBClient as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
    warn: record,
    error: record,
  });
  return warnings;
}

/** A stock ShareDB client over plain JSON, and the actions it sent (a 'f' after subscribing = it saw a gap). */
async function stockClient(url: string) {
  const ws = new WebSocket(url);
  const sent: string[] = [];
  const send = ws.send.bind(ws);
  ws.send = ((data: string, ...rest: unknown[]) => {
    sent.push((JSON.parse(data) as { a: string }).a);
    return (send as (...args: unknown[]) => void)(data, ...rest);
  }) as typeof ws.send;
  const connection = new ShareDBClient.Connection(ws as never);
  await new Promise<void>((resolve) => connection.on('connected', () => resolve()));
  return { connection, sent };
}

const call = (fn: (done: (error?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));

/** Create `notes/<id>` as `{ log: [] }` from a stock client and subscribe to it. */
async function subscribedDoc(stock: { connection: ShareDBClient.Connection }, id: string) {
  const doc = stock.connection.get('notes', id);
  await call((done) => doc.create({ log: [] }, 'json1', done));
  await call((done) => doc.subscribe(done));
  return doc;
}

async function closeAll(...servers: Server[]) {
  for (const server of servers) await server.close();
}

describe('deaf subscriptions: forced end to end', () => {
  let proxy: RedisProxy;
  beforeAll(async () => {
    proxy = await redisProxy();
  });
  afterAll(() => proxy.close());

  it('a client unsubscribes and subscribes again while Redis holds the UNSUBSCRIBE reply: it hears the other server', async () => {
    const { a, b, prefix } = await twoServers(proxy.url);
    const warnings = captureWarnings();
    const stock = await stockClient(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'deaf');
      // Server A's pub/sub, watched: when does the resubscribe reach it?
      const pubsub = (await a.tandem.backend()).pubsub as unknown as {
        subscribe(channel: string, callback: unknown): void;
      };
      const subscribe = pubsub.subscribe.bind(pubsub);
      let subscribes = 0;
      pubsub.subscribe = (channel, callback) => {
        if (channel === 'notes.deaf') subscribes++;
        subscribe(channel, callback);
      };
      proxy.hold();
      const unsubscribes = (proxy.sent().match(/\r\nunsubscribe\r\n/gi) ?? []).length;
      doc.unsubscribe();
      const resubscribed = call((done) => doc.subscribe(done));
      await until(
        () => subscribes === 1 && (proxy.sent().match(/\r\nunsubscribe\r\n/gi) ?? []).length > unsubscribes,
        5_000,
        'the UNSUBSCRIBE in flight and the subscribe at the server',
      );
      proxy.release();
      await resubscribed;
      const plain = createClient({ url: REDIS });
      await plain.connect();
      expect(await plain.pubSubNumSub(`${prefix} notes.deaf`)).toEqual({ [`${prefix} notes.deaf`]: 1 });
      await plain.quit();
      const other = writer.doc<Log>('notes', 'deaf');
      await other.subscribe();
      await other.submit(['log', 0, { i: 'from B' }]);
      await until(() => (doc.data as Log).log[0] === 'from B', 5_000, 'the op from server B');
      expect(warnings).toEqual([]);
    } finally {
      proxy.release();
      stock.connection.close();
      await writer.close();
      await closeAll(a, b);
    }
  });

  it('a channel Redis lost behind the server’s back is found by the self-check, resubscribed, and what it missed is read back', async () => {
    const { a, b } = await twoServers(REDIS, { checkIntervalMs: 50 });
    const stock = await stockClient(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'lost');
      const pubsub = (await a.tandem.backend()).pubsub as unknown as {
        prefix: string;
        subscriber: { unsubscribe(channel: string): Promise<void> };
      };
      await pubsub.subscriber.unsubscribe(`${pubsub.prefix} notes.lost`);
      const other = writer.doc<Log>('notes', 'lost');
      await other.fetch();
      await other.submit(['log', 0, { i: 'while deaf' }]);
      await until(() => (doc.data as Log).log[0] === 'while deaf', 5_000, 'the op missed while deaf');
      expect(a.tandem.metrics().pubsub).toMatchObject({ deafChannels: 1 });
      expect(a.tandem.metrics().pubsub.fills).toBeGreaterThanOrEqual(1);
      // And it hears again.
      await other.submit(['log', 0, { i: 'after' }]);
      await until(() => (doc.data as Log).log[0] === 'after', 5_000, 'the next op');
      expect(stock.sent.filter((action) => action === 'f')).toEqual([]);
    } finally {
      stock.connection.close();
      await writer.close();
      await closeAll(a, b);
    }
  });
});

describe('in-order delivery across servers: forced', () => {
  /** Hold server B's next publish of an op of `id` until `release()` (or forever). */
  async function holdNextPublish(server: Server, id: string) {
    const pubsub = (await server.tandem.backend()).pubsub as unknown as {
      _publish(channels: string[], data: { d?: string }, callback: (e?: unknown) => void): void;
    };
    const publish = pubsub._publish.bind(pubsub);
    let held: (() => void) | undefined;
    let armed = true;
    pubsub._publish = (channels, data, callback) => {
      if (armed && data.d === id) {
        armed = false;
        held = () => publish(channels, data, callback);
        return;
      }
      publish(channels, data, callback);
    };
    return { release: () => held?.(), isHeld: () => held !== undefined };
  }

  it('op n+1 published before op n: the subscriber gets n then n+1, and its own submit in between is acked in order', async () => {
    const { a, b } = await twoServers();
    const warnings = captureWarnings();
    const stock = await stockClient(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'reorder');
      const subscribedSends = stock.sent.length;
      const hold = await holdNextPublish(b, 'reorder');
      const other = writer.doc<Log>('notes', 'reorder');
      await other.fetch();
      await other.submit(['log', 0, { i: 'n' }]); // committed, publish held
      await other.submit(['log', 0, { i: 'n+1' }]); // published: reaches A ahead of n
      expect(hold.isHeld()).toBe(true);
      // The stock client submits while A holds n+1 behind the gap: the reply must carry n and n+1 before the ack.
      await call((done) => doc.submitOp(['log', 0, { i: 'stock' }], {}, done));
      expect((doc.data as Log).log).toEqual(['stock', 'n+1', 'n']);
      hold.release();
      await other.submit(['log', 0, { i: 'n+3' }]);
      await until(() => (doc.data as Log).log.length === 4, 5_000, 'every op at the stock client');
      expect((doc.data as Log).log).toEqual(['n+3', 'stock', 'n+1', 'n']);
      expect(stock.sent.slice(subscribedSends).filter((action) => action === 'f')).toEqual([]);
      expect(warnings).toEqual([]);
      expect(a.tandem.metrics().pubsub.held).toBeGreaterThanOrEqual(1);
    } finally {
      stock.connection.close();
      await writer.close();
      await closeAll(a, b);
    }
  });

  it('op n never published (its server died after committing): the gap is filled from the store, in order', async () => {
    const { a, b } = await twoServers();
    const warnings = captureWarnings();
    const stock = await stockClient(a.url());
    const reader = client(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'lost-publish');
      const tandemDoc = reader.doc<Log>('notes', 'lost-publish');
      await tandemDoc.subscribe();
      const subscribedSends = stock.sent.length;
      await holdNextPublish(b, 'lost-publish');
      const other = writer.doc<Log>('notes', 'lost-publish');
      await other.fetch();
      await other.submit(['log', 0, { i: 'n' }]); // never published
      await other.submit(['log', 0, { i: 'n+1' }]);
      await until(() => (doc.data as Log).log.length === 2, 5_000, 'n and n+1 at the stock client');
      await until(() => tandemDoc.data?.log.length === 2, 5_000, 'n and n+1 at the Tandem client');
      expect((doc.data as Log).log).toEqual(['n+1', 'n']);
      expect(tandemDoc.data?.log).toEqual(['n+1', 'n']);
      expect(stock.sent.slice(subscribedSends).filter((action) => action === 'f')).toEqual([]);
      expect(warnings).toEqual([]);
      expect(a.tandem.metrics().pubsub).toMatchObject({ fills: 1, filledOps: 1 });
    } finally {
      stock.connection.close();
      await reader.close();
      await writer.close();
      await closeAll(a, b);
    }
  });

  it('an op committed whose reply was lost (the store failed after committing) is published when its author resends it', async () => {
    const { a, b } = await twoServers();
    const warnings = captureWarnings();
    const stock = await stockClient(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'lost-reply');
      const subscribedSends = stock.sent.length;
      // One commit succeeds but reports a failure: no publish, STORAGE_UNAVAILABLE to the writer.
      const db = (await b.tandem.backend()).db as unknown as { commit(...args: unknown[]): void };
      const commit = db.commit.bind(db);
      let lost = 0;
      db.commit = (...args: unknown[]) => {
        const callback = args[args.length - 1] as (error: unknown, succeeded?: boolean) => void;
        if (lost++ > 0) return commit(...args);
        commit(...args.slice(0, -1), (error: unknown) =>
          callback(error ?? new TandemError(ErrorCode.STORAGE_UNAVAILABLE, 'reply lost (test)')),
        );
      };
      const other = writer.doc<Log>('notes', 'lost-reply');
      await other.subscribe();
      // The writer holds the op and resends it; B finds it committed and acknowledges it.
      await other.submit(['log', 0, { i: 'only' }]);
      expect(lost).toBe(1);
      // No op follows, yet the subscriber on A gets it, once and in order.
      await until(() => doc.version === 2, 5_000, 'the op at the subscriber on the other server');
      expect((doc.data as Log).log).toEqual(['only']);
      expect(stock.sent.slice(subscribedSends).filter((action) => action === 'f')).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      stock.connection.close();
      await writer.close();
      await closeAll(a, b);
    }
  });

  it('a stock client told its op failed though it was committed (a lost reply) gets it back in order, without a fetch', async () => {
    const { a, b } = await twoServers();
    const warnings = captureWarnings();
    const stock = await stockClient(a.url());
    const writer = client(b.url());
    try {
      const doc = await subscribedDoc(stock, 'lost-reply-stock');
      const subscribedSends = stock.sent.length;
      const db = (await a.tandem.backend()).db as unknown as { commit(...args: unknown[]): void };
      const commit = db.commit.bind(db);
      let lost = 0;
      db.commit = (...args: unknown[]) => {
        const callback = args[args.length - 1] as (error: unknown, succeeded?: boolean) => void;
        if (lost++ > 0) return commit(...args);
        commit(...args.slice(0, -1), (error: unknown) =>
          callback(error ?? new TandemError(ErrorCode.STORAGE_UNAVAILABLE, 'reply lost (test)')),
        );
      };
      // ShareDB's client rolls the op back: it believes it failed.
      const refused = await call((done) => doc.submitOp(['log', 0, { i: 'stock' }], {}, done)).then(
        () => undefined,
        (error: { code?: string }) => error.code,
      );
      expect(refused).toBe('STORAGE_UNAVAILABLE');
      // It was committed (v2): the next op (v3) must not find the stock client a version behind.
      const other = writer.doc<Log>('notes', 'lost-reply-stock');
      await other.fetch();
      await other.submit(['log', 0, { i: 'next' }]);
      await until(() => doc.version === 3, 5_000, 'both ops at the stock client');
      expect((doc.data as Log).log).toEqual(['next', 'stock']);
      expect(other.data?.log).toEqual(['next', 'stock']);
      expect(stock.sent.slice(subscribedSends).filter((action) => action === 'f')).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      stock.connection.close();
      await writer.close();
      await closeAll(a, b);
    }
  });
});

/**
 * One simulated user per system: connect, join the room, type a character, count what arrives.
 * (The room shape's viewers, which only subscribe and count, are in ./viewers.ts.)
 * Latency is tracked by identity, not by payload, so every system sends the same single-character
 * edit: ShareDB/Tandem ops by `src:seq`, Yjs updates by the `client:clock` of their first struct,
 * bare ws frames by a timestamp in the (JSON) frame itself.
 */
import { clientIdAlias } from '@tandem/protocol';
import { WebSocket } from 'ws';
import * as Y from 'yjs';
import {
  firstStruct,
  HP_AUTH,
  HP_SYNC,
  HP_SYNC_REPLY,
  HP_SYNC_STATUS,
  Reader,
  SYNC_STEP1,
  SYNC_STEP2,
  SYNC_UPDATE,
  Writer,
} from './hocuspocus-wire';
import type { LoadStats } from './stats';
import type { ClientsConfig, SystemName } from './types';

export interface SimClient {
  /** Type one character at a position picked from `rand` ∈ [0, 1). */
  type(rand: number, now: number): void;
  /** Keystrokes typed but not yet acknowledged by the server. */
  readonly unacked: number;
  /** What must be equal on every client once the room is quiet (undefined: not checked). */
  fingerprint(): string | undefined;
  close(): void;
}

export type OnAck = (client: SimClient) => void;

export interface Driver {
  /** Open client `index` and resolve once it has joined the room (client 0 creates it). */
  open(index: number, onAck: OnAck): Promise<SimClient>;
}

const INITIAL_TEXT = 'The quick brown fox jumps over the lazy dog; pack my box with five.';
const CHARS = 'abcdefghijklmnopqrstuvwxyz ';
const now = () => performance.now();
const charOf = (rand: number) => CHARS[Math.floor(rand * 1e6) % CHARS.length];

/** A ws client that counts the bytes and frames it receives. */
type WebSocketClass = new (...args: ConstructorParameters<typeof WebSocket>) => WebSocket;

/**
 * When the last frame arrived, at any socket (E2E_BREAKDOWN). Right for an op reported inside its
 * own socket's message event, as ShareDB's and Tandem's clients do; a client that deferred it
 * would be charged the wrong arrival.
 */
let frameArrivedAt = 0;

function countingWebSocket(stats: LoadStats): WebSocketClass {
  return class CountingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        const bytes = Array.isArray(data) ? data.reduce((n, b) => n + b.byteLength, 0) : data.byteLength;
        frameArrivedAt = now();
        stats.frame(bytes, frameArrivedAt);
      });
      this.on('error', () => {});
    }
  };
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

// ---------------------------------------------------------------- bare ws

function bareWsDriver(config: ClientsConfig, stats: LoadStats): Driver {
  const Counting = countingWebSocket(stats);
  return {
    async open(index, onAck) {
      const ws = new Counting(config.url, [], { perMessageDeflate: false });
      await opened(ws);
      let seq = 0;
      let unacked = 0;
      const client: SimClient = {
        type(rand, t) {
          unacked++;
          // About the size of a json1 op message; the timestamp rides in the frame.
          ws.send(
            JSON.stringify({
              a: 'op',
              c: index,
              s: ++seq,
              t,
              op: ['text', { es: [Math.floor(rand * 64), charOf(rand)] }],
            }),
          );
        },
        get unacked() {
          return unacked;
        },
        fingerprint: () => undefined,
        close: () => ws.terminate(),
      };
      ws.on('message', (data: Buffer, isBinary) => {
        const t = now();
        if (!isBinary && data.length === 1) {
          unacked--;
          stats.commit(1, t);
          onAck(client);
          return;
        }
        const message = JSON.parse(data.toString('utf8')) as { t: number };
        stats.deliver(message.t, t);
      });
      return client;
    },
  };
}

// ---------------------------------------------------------------- ShareDB connection (stock and Tandem)

interface ShareDbConnection {
  id: string | null;
  get(collection: string, id: string): ShareDbDoc;
  on(event: 'receive', listener: (request: { data: any }) => void): void;
  on(event: 'send', listener: (message: any) => void): void;
  close(): void;
}
interface ShareDbDoc {
  type: unknown;
  version: number | null;
  data: { text: string } | undefined;
  subscribe(cb: (error?: unknown) => void): void;
  create(data: unknown, type: string, cb: (error?: unknown) => void): void;
  submitOp(op: unknown, cb: (error?: unknown) => void): void;
  hasWritePending(): boolean;
}

const promisify = (fn: (cb: (error?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((error) => (error ? reject(error) : resolve())));

/**
 * Keystroke times of each op by its identity, client id then seq (shared by every client of the
 * process). Nested maps rather than a `${src}:${seq}` key: every receipt looks one up (100k/s at
 * 500 clients), and a string per receipt was ~5 % of the clients process — the instrument's own cost.
 */
const stampsById = new Map<string, Map<number, number[]>>();
/** When each op's keystrokes (its stamps array above) were handed to its socket (E2E_BREAKDOWN only). */
const sentAtOf = new WeakMap<number[], number>();

async function shareDbClient(
  connection: ShareDbConnection,
  config: ClientsConfig,
  stats: LoadStats,
  index: number,
  onAck: OnAck,
  close: () => void,
): Promise<SimClient> {
  let typedSinceSend: number[] = [];
  let lastVersion = -1;
  connection.on('send', (message) => {
    if (message.a === 'op' && message.op !== undefined && typedSinceSend.length > 0) {
      // The first send of an op omits src (the server uses the session id, which is ours). Tandem
      // shows others only the id's alias, so that is what receivers look the op up by.
      const own = message.src ?? connection.id;
      const src = clientIdAlias(own) ?? own;
      let bySeq = stampsById.get(src);
      if (bySeq === undefined) {
        bySeq = new Map();
        stampsById.set(src, bySeq);
      }
      bySeq.set(message.seq, typedSinceSend);
      if (stats.breakdown !== undefined) sentAtOf.set(typedSinceSend, now());
      typedSinceSend = [];
    }
  });
  connection.on('receive', (request) => {
    const data = request.data;
    if (data === null || typeof data !== 'object' || data.a !== 'op' || data.op === undefined) return;
    // ShareDB also sends a submitter the ops its op was transformed over, which the subscription
    // delivers too: the client drops the older copy by version, and so do we.
    if (typeof data.v !== 'number' || data.v <= lastVersion) return;
    lastVersion = data.v;
    if (data.src === connection.id || data.src === clientIdAlias(connection.id ?? '')) return;
    const stamps = stampsById.get(data.src)?.get(data.seq);
    if (stamps === undefined) return;
    const t = now();
    for (const sentAt of stamps) stats.deliver(sentAt, t);
    if (stats.breakdown !== undefined) {
      const handedOver = sentAtOf.get(stamps) ?? Number.NaN;
      for (const typedAt of stamps) stats.part(typedAt, handedOver, frameArrivedAt, t);
    }
  });
  const doc = connection.get(config.collection, config.docId);
  await promisify((cb) => doc.subscribe(cb));
  if (doc.type === null) {
    if (index !== 0) throw new Error('room not created yet');
    await promisify((cb) => doc.create({ text: INITIAL_TEXT }, 'json1', cb));
  }
  let unacked = 0;
  const client: SimClient = {
    type(rand, t) {
      const text = doc.data?.text ?? '';
      unacked++;
      typedSinceSend.push(t);
      doc.submitOp(['text', { es: [Math.floor(rand * (text.length + 1)), charOf(rand)] }], (error) => {
        unacked--;
        if (error === undefined || error === null) stats.commit(1, now());
        else stats.errors.push(String((error as Error).message ?? error));
        onAck(client);
      });
    },
    get unacked() {
      return unacked;
    },
    fingerprint: () =>
      doc.hasWritePending() ? `pending@${doc.version}` : `${doc.version}:${doc.data?.text}`,
    close,
  };
  return client;
}

async function stockShareDbDriver(config: ClientsConfig, stats: LoadStats): Promise<Driver> {
  const ShareDB = (await import('sharedb/lib/client')).default as any;
  const json1 = (await import('ot-json1')) as { type?: unknown; default?: { type: unknown } };
  ShareDB.types.register(json1.type ?? json1.default?.type);
  ShareDB.logger.setMethods({ info() {}, warn() {}, error() {} });
  const Counting = countingWebSocket(stats);
  return {
    async open(index, onAck) {
      const ws = new Counting(config.url, [], { perMessageDeflate: false });
      const connection = new ShareDB.Connection(ws) as ShareDbConnection;
      return shareDbClient(connection, config, stats, index, onAck, () => ws.terminate());
    },
  };
}

async function tandemDriver(
  config: ClientsConfig,
  stats: LoadStats,
  codec: 'json' | 'msgpack',
): Promise<Driver> {
  const { connect } = await import('@tandem/client');
  const ShareDB = (await import('sharedb/lib/client')).default as any;
  const Counting = countingWebSocket(stats);
  return {
    async open(index, onAck) {
      const client = connect(config.url, {
        codec,
        WebSocket: Counting,
        pingIntervalMs: 600_000,
      });
      ShareDB.logger.setMethods({ info() {}, warn() {}, error() {} });
      await client.online();
      return shareDbClient(client.connection as never, config, stats, index, onAck, () => {
        void client.close();
      });
    },
  };
}

// ---------------------------------------------------------------- Hocuspocus / Yjs (minimal client)

/**
 * Clients that apply every remote update (and are checked for convergence). The others time each
 * update from its header and drop it: Y.applyUpdate of every keystroke on 500 replicas in one
 * process would make the clients process, not the server, the bottleneck. Their own keystrokes are
 * then concurrent inserts against an older state, which Yjs merges like any other; the server does
 * exactly the same work either way.
 */
const REPLICAS = 10;

/** Typing stamps by the `client:clock` of the inserted character. */
const stampsByItem = new Map<string, number>();

/** Time a received update by its first struct, unless it is the receiver's own. */
function deliverUpdate(update: Uint8Array, self: number, stats: LoadStats, t: number): void {
  const first = firstStruct(update);
  if (first === undefined || first.author === self) return;
  const sentAt = stampsByItem.get(`${first.author}:${first.clock}`);
  if (sentAt !== undefined) stats.deliver(sentAt, t);
}

function hocuspocusDriver(config: ClientsConfig, stats: LoadStats): Driver {
  const Counting = countingWebSocket(stats);
  const name = config.docId;
  const frame = (type: number) => new Writer().string(name).uint(type);
  return {
    async open(index, onAck) {
      const replica = index < REPLICAS;
      const ws = new Counting(config.url, [], { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      const doc = new Y.Doc();
      const text = doc.getText('text');
      // What each sent Sync message is owed: Hocuspocus answers every step2/update with a SyncStatus.
      const acks: (number | null)[] = [];
      let synced!: () => void;
      const isSynced = new Promise<void>((resolve) => {
        synced = resolve;
      });
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin !== 'local') return;
        ws.send(frame(HP_SYNC).uint(SYNC_UPDATE).array(update).done());
      });
      const client: SimClient = {
        type(rand, t) {
          const clock = Y.getState(doc.store, doc.clientID);
          stampsByItem.set(`${doc.clientID}:${clock}`, t);
          acks.push(t);
          doc.transact(() => text.insert(Math.floor(rand * (text.length + 1)), charOf(rand)), 'local');
        },
        get unacked() {
          return acks.reduce<number>((n, a) => (a === null ? n : n + 1), 0);
        },
        fingerprint: () => (replica ? text.toString() : undefined),
        close: () => ws.terminate(),
      };
      ws.on('message', (data: Buffer) => {
        const t = now();
        const reader = new Reader(data);
        reader.string();
        const type = reader.uint();
        if (type === HP_SYNC_STATUS) {
          const sentAt = acks.shift();
          if (sentAt !== null && sentAt !== undefined) {
            stats.commit(1, t);
            onAck(client);
          }
          return;
        }
        if (type !== HP_SYNC && type !== HP_SYNC_REPLY) return;
        const step = reader.uint();
        const payload = reader.array();
        if (step === SYNC_STEP1) {
          acks.push(null);
          ws.send(frame(HP_SYNC).uint(SYNC_STEP2).array(Y.encodeStateAsUpdate(doc, payload)).done());
          return;
        }
        // The first struct of an update names the typed character. A light receiver times the
        // update and drops it (see REPLICAS).
        if (step === SYNC_UPDATE) deliverUpdate(payload, doc.clientID, stats, t);
        if (step === SYNC_UPDATE && !replica) return;
        Y.applyUpdate(doc, payload, 'remote');
        if (step === SYNC_STEP2) synced();
      });
      await opened(ws);
      ws.send(frame(HP_AUTH).uint(0).string('token').done());
      ws.send(frame(HP_SYNC).uint(SYNC_STEP1).array(Y.encodeStateVector(doc)).done());
      await isSynced;
      if (index === 0 && text.length === 0) {
        await new Promise<void>((resolve) => {
          const before = acks.length;
          acks.push(null);
          doc.transact(() => text.insert(0, INITIAL_TEXT), 'local');
          const check = setInterval(() => {
            if (acks.length <= before) {
              clearInterval(check);
              resolve();
            }
          }, 5);
        });
      }
      return client;
    },
  };
}

// ---------------------------------------------------------------- Hocuspocus / Yjs (HocuspocusProvider)

/**
 * The room shape's typists: the stock HocuspocusProvider (awareness included) over a ws socket
 * that times each update from its header before the provider applies it, and counts Hocuspocus's
 * SyncStatus answers as acknowledgements of this client's keystrokes.
 */
async function providerDriver(config: ClientsConfig, stats: LoadStats): Promise<Driver> {
  const { HocuspocusProvider, HocuspocusProviderWebsocket } = await import('@hocuspocus/provider');
  const Counting = countingWebSocket(stats);
  return {
    async open(index, onAck) {
      const doc = new Y.Doc();
      const text = doc.getText('text');
      // Keystrokes awaiting their SyncStatus; counted once the provider has settled after joining.
      let unacked = 0;
      let typing = false;
      let client!: SimClient;
      class Instrumented extends Counting {
        constructor(...args: ConstructorParameters<typeof WebSocket>) {
          super(...args);
          this.on('message', (data: ArrayBuffer | Buffer) => {
            const t = now();
            const reader = new Reader(data instanceof ArrayBuffer ? new Uint8Array(data) : data);
            const type = reader.skipString().uint();
            if (type === HP_SYNC_STATUS && typing && unacked > 0) {
              unacked--;
              stats.commit(1, t);
              onAck(client);
            } else if (type === HP_SYNC && reader.uint() === SYNC_UPDATE) {
              deliverUpdate(reader.array(), doc.clientID, stats, t);
            }
          });
        }
      }
      const socket = new HocuspocusProviderWebsocket({ url: config.url, WebSocketPolyfill: Instrumented });
      const provider = new HocuspocusProvider({
        websocketProvider: socket,
        name: config.docId,
        document: doc,
        token: 'token',
      });
      provider.attach();
      // Joined: synced, and every update this client sent so far acknowledged.
      const settled = () =>
        new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (provider.isSynced && provider.unsyncedChanges === 0) {
              clearInterval(check);
              resolve();
            }
          }, 5);
        });
      await settled();
      if (index === 0 && text.length === 0) {
        text.insert(0, INITIAL_TEXT);
        await settled();
      }
      typing = true;
      client = {
        type(rand, t) {
          stampsByItem.set(`${doc.clientID}:${Y.getState(doc.store, doc.clientID)}`, t);
          unacked++;
          text.insert(Math.floor(rand * (text.length + 1)), charOf(rand));
        },
        get unacked() {
          return unacked;
        },
        fingerprint: () => text.toString(),
        close: () => {
          provider.destroy();
          socket.destroy();
        },
      };
      return client;
    },
  };
}

export async function createDriver(
  system: SystemName,
  config: ClientsConfig,
  stats: LoadStats,
): Promise<Driver> {
  switch (system) {
    case 'ws':
      return bareWsDriver(config, stats);
    case 'sharedb':
      return stockShareDbDriver(config, stats);
    case 'tandem-stock':
      return stockShareDbDriver(config, stats);
    case 'tandem-json':
      return tandemDriver(config, stats, 'json');
    case 'tandem-msgpack':
      return tandemDriver(config, stats, 'msgpack');
    case 'hocuspocus':
      return config.kind === 'load' && config.typists !== undefined
        ? providerDriver(config, stats)
        : hocuspocusDriver(config, stats);
  }
}

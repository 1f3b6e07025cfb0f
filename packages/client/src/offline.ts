/**
 * The persistent offline queue (ShareDB #470): a document's unacknowledged ops, with the version
 * and data they apply to, survive a page reload or process restart and are submitted on reconnect.
 * Ops keep the `src`/`seq` they were first sent with, so one that did reach the server before the
 * restart is recognised as a duplicate and committed exactly once.
 */

/** Where pending ops are kept. IndexedDB in browsers; anything async key-value in Node. */
export interface OfflineStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** A store in memory (tests, or to share between client instances of one process). */
export function memoryStore(map: Map<string, string> = new Map()): OfflineStore {
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => {
      map.set(key, value);
    },
    delete: async (key) => {
      map.delete(key);
    },
  };
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** A store in the browser's IndexedDB. @param name database name @default 'tandem-offline' */
export function indexedDbStore(name = 'tandem-offline'): OfflineStore {
  const STORE = 'pending';
  let db: Promise<IDBDatabase> | undefined;
  const open = () => {
    if (db === undefined) {
      const r = indexedDB.open(name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      db = request(r);
    }
    return db;
  };
  const store = async (mode: IDBTransactionMode) =>
    (await open()).transaction(STORE, mode).objectStore(STORE);
  return {
    get: async (key) => (await request((await store('readonly')).get(key))) as string | undefined,
    set: async (key, value) => {
      await request((await store('readwrite')).put(value, key));
    },
    delete: async (key) => {
      await request((await store('readwrite')).delete(key));
    },
  };
}

/** One pending op as persisted (ShareDB's client op shape). */
export interface PersistedOp {
  src?: string;
  seq?: number;
  op?: unknown;
  create?: { type: string; data: unknown };
  del?: boolean;
}

/** What is stored per document. */
export interface PersistedDoc {
  /** The server version the first pending op applies to. */
  v: number | null;
  /** Type URI or name. */
  type: string | null;
  /** Local data, pending ops applied. */
  data: unknown;
  ops: PersistedOp[];
}

interface ShareDbPendingOp extends PersistedOp {
  type?: unknown;
  callbacks: unknown[];
  sentAt?: number;
}

/** The ShareDB Doc fields the queue reads and restores. */
export interface QueueableDoc {
  version: number | null;
  type: { uri?: string; name?: string } | null;
  data: unknown;
  inflightOp: ShareDbPendingOp | null;
  pendingOps: ShareDbPendingOp[];
}

/**
 * Snapshot a doc's queue. ShareDB sets an op's `src` only after sending it the first time (it is
 * the connection id then), so an op with a `seq` but no `src` gets the current connection id.
 */
export function capture(doc: QueueableDoc, connectionId: string | null): PersistedDoc | undefined {
  const ops = doc.inflightOp === null ? [...doc.pendingOps] : [doc.inflightOp, ...doc.pendingOps];
  if (ops.length === 0) return undefined;
  return {
    v: doc.version,
    type: doc.type?.uri ?? doc.type?.name ?? null,
    data: doc.data,
    ops: ops.map(({ src, seq, op, create, del }) => ({
      src: src ?? (seq === undefined || seq === null ? undefined : (connectionId ?? undefined)),
      seq,
      op,
      create,
      del,
    })),
  };
}

/** Put a persisted queue back into a fresh ShareDB doc, before it is subscribed or fetched. */
export function restore(doc: QueueableDoc, saved: PersistedDoc, typeFor: (name: string) => unknown): void {
  doc.version = saved.v;
  doc.type = saved.type === null ? null : (typeFor(saved.type) as QueueableDoc['type']);
  doc.data = saved.data;
  doc.pendingOps = saved.ops.map((op) => {
    const restored: ShareDbPendingOp = { ...op, type: doc.type, callbacks: [] };
    // An op that was sent keeps its identity and must not be composed with later edits.
    if (op.seq !== undefined) restored.sentAt = 0;
    for (const key of ['src', 'seq', 'op', 'create', 'del'] as const) {
      if (restored[key] === undefined) delete restored[key];
    }
    return restored;
  });
}

/**
 * The I/O edge: reading and writing Tandem's own ShareDB documents through the backend, so every
 * server process sharing the store sees them, with ShareDB's versioning deciding races.
 */
import { type Doc, type JSONOp, replace, type as tandemType } from '@tandem/ot';
import { ErrorCode, fromShareDbError, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { TandemAgent } from './agent';

/** Agents created by @tandem/conflicts itself: the only writers of reserved collections. */
const internalAgents = new WeakSet<object>();

/** Let a server-side agent of another Tandem package (e.g. @tandem/history's record writers) in. */
export function trustAgent(agent: object): void {
  internalAgents.add(agent);
}

export function isInternalAgent(agent: unknown): boolean {
  return typeof agent === 'object' && agent !== null && internalAgents.has(agent);
}

export interface StoredDoc {
  v: number;
  /** Undefined when the document does not exist (never created, or deleted). */
  data: Doc | undefined;
}

type Callback<T> = (error: unknown, value: T) => void;

/** A snapshot as the store keeps it (`type` null: the document does not exist). */
export interface RawSnapshot {
  v: number;
  type: string | null;
  data: unknown;
}

/** A committed op as the store keeps it (ShareDB's form). */
export interface StoredOp {
  v: number;
  op?: JSONOp;
  create?: { type: string; data?: unknown };
  del?: boolean;
  /** Metadata, when read with `{ metadata: true }`. */
  m?: Record<string, unknown>;
  src?: string;
  seq?: number;
}

/**
 * ShareDB's callback API as promises: the one place Tandem's packages read its store and submit
 * through its backend (@tandem/history adds only the milestone store). Store failures are
 * STORAGE_UNAVAILABLE, missing ops NOT_FOUND (`reason: 'compacted'`), submit errors go through the
 * one ShareDB error map.
 */
export interface ShareDbCalls {
  snapshot(collection: string, id: string): Promise<RawSnapshot>;
  /** Several documents of one collection in one store read, in the order of `ids`. */
  snapshots(collection: string, ids: readonly string[]): Promise<RawSnapshot[]>;
  /** Ops `[from, to)` (`to` null: to the end) as the store returns them. */
  ops(
    collection: string,
    id: string,
    from: number,
    to: number | null,
    options?: { metadata?: boolean },
  ): Promise<StoredOp[]>;
  query(collection: string, query: Record<string, unknown>): Promise<RawSnapshot[]>;
  /** A server-side connection: its agent goes through every middleware like a socket's. */
  connect(): { agent: TandemAgent; close(): void };
  /** Submit a raw ShareDB op message (`{v?, op}` / `{v, create}`) as `agent`; the committed version. */
  submit(agent: object, collection: string, id: string, raw: object): Promise<number>;
}

interface DbLike {
  getSnapshot(c: string, id: string, f: null, o: null, cb: Callback<RawSnapshot>): void;
  getSnapshotBulk(
    c: string,
    ids: readonly string[],
    f: null,
    o: null,
    cb: Callback<Record<string, RawSnapshot>>,
  ): void;
  getOps(c: string, id: string, from: number, to: number | null, o: object, cb: Callback<StoredOp[]>): void;
  query(c: string, q: object, f: null, o: null, cb: Callback<RawSnapshot[]>): void;
}

interface BackendLike {
  db: DbLike;
  connect(): { agent: TandemAgent | null; close(): void };
  submit(
    agent: object,
    collection: string,
    id: string,
    op: object,
    options: object,
    cb: (error: unknown, ops?: unknown[], request?: { op: { v: number } }) => void,
  ): void;
}

/** MemoryDB's answer when the requested ops are not all stored (compacted away). */
const compacted = (cause?: unknown) =>
  new TandemError(ErrorCode.NOT_FOUND, 'ops are not stored (compacted?)', { reason: 'compacted' }, { cause });

const storeError = (error: unknown) =>
  error instanceof Error && error.message === 'Missing ops'
    ? compacted(error)
    : TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE);

export function shareDbCalls(sharedb: ShareDB): ShareDbCalls {
  const backend = sharedb as unknown as BackendLike;
  const read = <T>(call: (db: DbLike, cb: Callback<T>) => void) =>
    new Promise<T>((resolve, reject) => {
      call(backend.db, (error, value) => (error ? reject(storeError(error)) : resolve(value)));
    });
  return {
    snapshot: (collection, id) => read((db, cb) => db.getSnapshot(collection, id, null, null, cb)),
    snapshots: (collection, ids) =>
      ids.length === 0
        ? Promise.resolve([])
        : read<Record<string, RawSnapshot>>((db, cb) =>
            db.getSnapshotBulk(collection, ids, null, null, cb),
          ).then((found) => ids.map((id) => found[id] ?? { v: 0, type: null, data: undefined })),
    ops: (collection, id, from, to, options = {}) =>
      read((db, cb) => db.getOps(collection, id, from, to, options, cb)),
    query: (collection, query) => read((db, cb) => db.query(collection, query, null, null, cb)),
    connect() {
      const connection = backend.connect();
      if (connection.agent === null)
        throw new TandemError(ErrorCode.INTERNAL, 'ShareDB gave a connection without an agent');
      return connection as { agent: TandemAgent; close(): void };
    },
    submit: (agent, collection, id, raw) =>
      new Promise((resolve, reject) => {
        backend.submit(agent, collection, id, raw, {}, (error, _ops, request) =>
          error ? reject(fromShareDbError(error)) : resolve(request?.op.v ?? 0),
        );
      }),
  };
}

/** One backend, one trusted agent: read and write Tandem's records and read any document. */
export interface DocIO {
  read(collection: string, id: string): Promise<StoredDoc>;
  /** Several documents of one collection in one store read, in the order of `ids`. */
  readMany(collection: string, ids: readonly string[]): Promise<StoredDoc[]>;
  /**
   * The ops that took the document from version `from` to `to` (exclusive), in order; NOT_FOUND
   * (`reason: 'compacted'`) when the store no longer has them all.
   */
  ops(collection: string, id: string, from: number, to: number): Promise<StoredOp[]>;
  /**
   * Write from what is stored now: `next(current)` returns the new data for a missing document,
   * or the op for an existing one (null: nothing to do). Retries (re-reading) when another writer
   * won the race, up to `MAX_WRITE_ATTEMPTS`.
   */
  update<T>(
    collection: string,
    id: string,
    next: (current: StoredDoc) => { op?: JSONOp; create?: Doc; result: T },
  ): Promise<T>;
  /** Create a document known to be new (its id is unique): no read, no retry. */
  create(collection: string, id: string, data: Doc): Promise<void>;
  /** The data of the existing documents a store query matches (MemoryDB: every document). */
  query(collection: string, query: Record<string, unknown>): Promise<Doc[]>;
  /** Submit an op as a given author (a fresh agent carrying the principal), at the latest version. */
  submitAs(
    principal: { id: string; name?: string },
    collection: string,
    id: string,
    op: JSONOp,
  ): Promise<void>;
  close(): void;
}

/** Contention on one lock or record document is a handful of writers at most; beyond that, fail. */
const MAX_WRITE_ATTEMPTS = 20;

export function isRaceLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === ErrorCode.ALREADY_EXISTS || code === 'ERR_DOC_ALREADY_CREATED';
}

const stored = (s: RawSnapshot): StoredDoc => ({
  v: s.v,
  data: s.type === null ? undefined : (s.data as Doc),
});

export function createDocIO(backend: ShareDB): DocIO {
  const calls = shareDbCalls(backend);
  const connection = calls.connect();
  const agent = connection.agent;
  internalAgents.add(agent);

  const read = (collection: string, id: string) => calls.snapshot(collection, id).then(stored);

  return {
    read,
    readMany: (collection, ids) => calls.snapshots(collection, ids).then((all) => all.map(stored)),
    async ops(collection, id, from, to) {
      if (to <= from) return [];
      const ops = await calls.ops(collection, id, from, to);
      // Stores other than MemoryDB return fewer ops instead of failing.
      if (ops.length !== to - from || ops.some((op, i) => op.v !== from + i)) throw compacted();
      return ops;
    },
    create: (collection, id, data) =>
      calls.submit(agent, collection, id, { create: { type: tandemType.uri, data } }).then(() => undefined),
    query: (collection, query) =>
      calls
        .query(collection, query)
        .then((all) => all.filter((s) => s.type !== null).map((s) => s.data as Doc)),
    async update(collection, id, next) {
      for (let attempt = 1; ; attempt++) {
        const current = await read(collection, id);
        const step = next(current);
        try {
          if (step.create !== undefined) {
            await calls.submit(agent, collection, id, {
              v: current.v,
              create: { type: tandemType.uri, data: step.create },
            });
          } else if (step.op !== undefined && step.op !== null) {
            await calls.submit(agent, collection, id, { v: current.v, op: step.op });
          }
          return step.result;
        } catch (error) {
          if (!isRaceLost(error) || attempt >= MAX_WRITE_ATTEMPTS) throw TandemError.from(error);
          // Someone else wrote first: re-read and decide again.
        }
      }
    },
    async submitAs(principal, collection, id, op) {
      const own = calls.connect();
      own.agent.custom.principal = principal;
      try {
        await calls.submit(own.agent, collection, id, { op });
      } finally {
        own.close();
      }
    },
    close: () => connection.close(),
  };
}

/** The id of Tandem's per-document record (locks, conflicts) for `collection/docId`. */
export const docKey = (collection: string, docId: string): string =>
  `${encodeURIComponent(collection)}/${encodeURIComponent(docId)}`;

/** The op that replaces a whole document's data. */
export const replaceAll = (data: Doc, current: Doc | undefined): JSONOp =>
  replace([], data, (current ?? true) as Doc);

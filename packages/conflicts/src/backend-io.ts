/**
 * The I/O edge: reading and writing Tandem's own ShareDB documents through the backend, so every
 * server process sharing the store sees them, with ShareDB's versioning deciding races.
 */
import { type Doc, type JSONOp, replace, type as tandemType } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';

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

interface RawSnapshot {
  v: number;
  type: string | null;
  data: unknown;
}

/** A committed op as the store keeps it (ShareDB's form). */
export interface StoredOp {
  v: number;
  op?: JSONOp;
  create?: { type: string; data: unknown };
  del?: boolean;
}

/** One backend, one trusted agent: read and write documents. */
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

export function createDocIO(backend: ShareDB): DocIO {
  const connection = backend.connect() as unknown as { agent: object; close(): void };
  const agent = connection.agent;
  internalAgents.add(agent);

  const read = (collection: string, id: string) =>
    new Promise<StoredDoc>((resolve, reject) => {
      const db = backend.db as unknown as {
        getSnapshot(c: string, id: string, f: null, o: null, cb: Callback<RawSnapshot>): void;
      };
      db.getSnapshot(collection, id, null, null, (error, snapshot) => {
        if (error) return reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE));
        resolve({ v: snapshot.v, data: snapshot.type === null ? undefined : (snapshot.data as Doc) });
      });
    });

  const db = backend.db as unknown as {
    getSnapshotBulk(
      c: string,
      ids: readonly string[],
      f: null,
      o: null,
      cb: Callback<Record<string, RawSnapshot>>,
    ): void;
    getOps(c: string, id: string, from: number, to: number, o: object, cb: Callback<StoredOp[]>): void;
  };

  const submit = (by: object, collection: string, id: string, raw: object) =>
    new Promise<void>((resolve, reject) => {
      const submitRaw = backend.submit as unknown as (
        agent: object,
        c: string,
        id: string,
        op: object,
        options: object,
        cb: (error: unknown) => void,
      ) => void;
      submitRaw.call(backend, by, collection, id, raw, {}, (error) => (error ? reject(error) : resolve()));
    });

  return {
    read,
    readMany: (collection, ids) =>
      new Promise((resolve, reject) => {
        if (ids.length === 0) return resolve([]);
        db.getSnapshotBulk(collection, ids, null, null, (error, snapshots) => {
          if (error) return reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE));
          resolve(
            ids.map((id) => {
              const s = snapshots[id];
              return { v: s?.v ?? 0, data: s === undefined || s.type === null ? undefined : (s.data as Doc) };
            }),
          );
        });
      }),
    ops: (collection, id, from, to) =>
      new Promise((resolve, reject) => {
        if (to <= from) return resolve([]);
        db.getOps(collection, id, from, to, {}, (error, ops) => {
          // MemoryDB's answer when ops are missing; other stores return fewer (checked below).
          if (error && (error as Error).message !== 'Missing ops')
            return reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE));
          if (error || ops.length !== to - from || ops.some((op, i) => op.v !== from + i))
            return reject(
              new TandemError(ErrorCode.NOT_FOUND, 'ops are not stored (compacted?)', {
                reason: 'compacted',
              }),
            );
          resolve(ops);
        });
      }),
    create: (collection, id, data) =>
      submit(agent, collection, id, { create: { type: tandemType.uri, data } }).catch((error: unknown) => {
        throw TandemError.from(error);
      }),
    query: (collection, query) =>
      new Promise((resolve, reject) => {
        const db = backend.db as unknown as {
          query(c: string, q: object, f: null, o: null, cb: Callback<RawSnapshot[]>): void;
        };
        db.query(collection, query, null, null, (error, snapshots) => {
          if (error) return reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE));
          resolve(snapshots.filter((s) => s.type !== null).map((s) => s.data as Doc));
        });
      }),
    async update(collection, id, next) {
      for (let attempt = 1; ; attempt++) {
        const current = await read(collection, id);
        const step = next(current);
        try {
          if (step.create !== undefined) {
            await submit(agent, collection, id, {
              v: current.v,
              create: { type: tandemType.uri, data: step.create },
            });
          } else if (step.op !== undefined && step.op !== null) {
            await submit(agent, collection, id, { v: current.v, op: step.op });
          }
          return step.result;
        } catch (error) {
          if (!isRaceLost(error) || attempt >= MAX_WRITE_ATTEMPTS) throw TandemError.from(error);
          // Someone else wrote first: re-read and decide again.
        }
      }
    },
    async submitAs(principal, collection, id, op) {
      const own = backend.connect() as unknown as {
        agent: { custom: Record<string, unknown> };
        close(): void;
      };
      own.agent.custom.principal = principal;
      try {
        await submit(own.agent, collection, id, { op });
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

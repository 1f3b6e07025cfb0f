/** A real ShareDB backend with @tandem/conflicts installed, and promise-shaped client calls. */
import {
  type ConflictRecord,
  type ConflictsHandle,
  type ConflictsOptions,
  installConflicts,
} from '@tandem/conflicts';
import type { Doc as Data, JSONOp } from '@tandem/ot';
import ShareDB from 'sharedb';
import type { Connection, Doc } from 'sharedb/lib/client';

export interface Setup {
  backend: ShareDB;
  handle: ConflictsHandle;
  records: ConflictRecord[];
  /** A client connection whose agent carries the principal `id`. */
  connect(id: string): Connection;
}

// ShareDB logs rejected ops through its own console logger; the tests assert on them instead.
(ShareDB as unknown as { logger: { setMethods(m: object): void } }).logger.setMethods({
  info: () => {},
  warn: () => {},
  error: () => {},
});

export function setup(
  options: ConflictsOptions = {},
  db: unknown = new ShareDB.MemoryDB(),
  milestoneDb?: unknown,
): Setup {
  const backend = new ShareDB({
    db: db as ShareDB.DB,
    milestoneDb: milestoneDb as ShareDB.MilestoneDB | undefined,
  });
  const records: ConflictRecord[] = [];
  const handle = installConflicts(backend, {
    ...options,
    onConflict: async (r) => {
      records.push(r);
      await options.onConflict?.(r);
    },
  });
  return {
    backend,
    handle,
    records,
    connect(id) {
      const connection = backend.connect();
      (connection as unknown as { agent: { custom: Record<string, unknown> } }).agent.custom.principal = {
        id,
        name: id,
      };
      return connection;
    },
  };
}

const call = (fn: (cb: (err?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

export const create = (doc: Doc, data: Data) => call((cb) => doc.create(data, 'json1', cb));
export const fetch = (doc: Doc) => call((cb) => doc.fetch(cb));
export const submit = (doc: Doc, op: JSONOp) => call((cb) => doc.submitOp(op as never, {}, cb));

/**
 * Two clients on one document, both at the same version, neither subscribed: whatever `a` submits
 * is unseen by `b` until `b` submits, so `b`'s op is transformed over it on the server.
 */
export async function twoClients(s: Setup, data: Data, collection = 'notes', id = 'n1') {
  const ca = s.connect('alice');
  const cb = s.connect('bob');
  const a = ca.get(collection, id);
  const b = cb.get(collection, id);
  await create(a, data);
  await fetch(b);
  return { a, b, ca, cb };
}

/** Alice's op commits first; Bob's (written on the same version) is transformed over it. */
export async function concurrently(a: Doc, opA: JSONOp, b: Doc, opB: JSONOp): Promise<unknown> {
  await submit(a, opA);
  try {
    await submit(b, opB);
  } catch (error) {
    return error;
  } finally {
    await fetch(a);
    await fetch(b);
  }
  return undefined;
}

/** The server's snapshot, read without any client cache. */
export async function serverData(s: Setup, collection = 'notes', id = 'n1'): Promise<unknown> {
  const doc = s.backend.connect().get(collection, id);
  await fetch(doc);
  return doc.data;
}

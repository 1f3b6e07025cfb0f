/** `installConflicts(backend, options)`: wire classification, policies, locks and records into ShareDB. */
import { type Doc, registerTandemType, type TypeRegistry } from '@tandem/ot';
import { ErrorCode, type Logger, TandemError } from '@tandem/protocol';
import ShareDB from 'sharedb';
import { createDocIO, docKey, trustAgent } from './backend-io';
import { createLockManager, type LockManager, type LockOptions, resolveLockOptions } from './lock-manager';
import { LOCKS_COLLECTION, locksOf } from './locks';
import { installMiddleware } from './middleware';
import { compilePolicies, type PolicyConfig } from './policies';
import { isReservedCollection } from './reserved';
import { setField } from './settle';
import { type ConflictStore, createConflictStore, type ListQuery } from './store';
import type { ConflictRecord } from './types';
import { createVersionCache, type VersionCacheOptions } from './versions';

/** Where failures that have no caller to report to go (storing or delivering a record). */
export type ConflictsLogger = Pick<Logger, 'warn' | 'error'>;

export interface ConflictsOptions {
  /** Per-collection path rules. @default {} (every path `merge`) */
  policies?: PolicyConfig;
  /**
   * Lock lifetimes, caps and who owns a document (see LockOptions).
   * @default { defaultTtlMs: 30_000, maxTtlMs: 120_000, maxPerDocument: 100, maxPerOwner: 10 }, no document owners
   */
  locks?: LockOptions;
  /** Called once per record after it is stored, on the process that committed (or refused) the op. @default none */
  onConflict?: (record: ConflictRecord) => void | Promise<void>;
  /** @default drops everything */
  logger?: ConflictsLogger;
  /** Recent versions kept in memory for last-writer-wins / manual fields. @default { versions: 32, documents: 256 } */
  versionCache?: VersionCacheOptions;
  /** Clock for lock expiry and record times. @default Date.now */
  now?: () => number;
}

export interface ResolveRequest {
  collection: string;
  docId: string;
  /** The record id. */
  id: string;
  /** Keep the committed value, take the incoming one, or set another value. */
  choose: 'committed' | 'incoming' | { value: Doc };
  /** Who resolves; the op is submitted as this principal (locks and the server's hooks apply). */
  by: { id: string; name?: string };
}

export interface ConflictsHandle {
  locks: LockManager;
  /** Records of a document (`{ collection, docId }`) or of an author (`{ author }`), oldest first. */
  list(query: ListQuery): Promise<ConflictRecord[]>;
  /** Resolve an open manual conflict: submits an ordinary op setting the field, marks the record. */
  resolve(request: ResolveRequest): Promise<ConflictRecord>;
  /**
   * Trust a server-side agent to read and write reserved (`_tandem_*`) collections, which every
   * other agent is refused. For Tandem's own packages: pass as @tandem/history's `trustAgent`.
   */
  trustAgent(agent: object): void;
  /** Wait until every record produced so far is stored and delivered. */
  flush(): Promise<void>;
  /** Stop classifying (the middleware stays registered but passes everything through), flush. */
  close(): Promise<void>;
}

const silent: ConflictsLogger = { warn: () => {}, error: () => {} };

function ensureType(): void {
  registerTandemType((ShareDB as unknown as { types: TypeRegistry }).types);
}

export function installConflicts(backend: ShareDB, options: ConflictsOptions = {}): ConflictsHandle {
  const policies = compilePolicies(options.policies, isReservedCollection);
  const lockOptions = resolveLockOptions(options.locks);
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silent;
  ensureType();
  const io = createDocIO(backend);
  const store: ConflictStore = createConflictStore(io);
  const locks = createLockManager(io, lockOptions, now);
  const pending = new Set<Promise<void>>();
  const versions = createVersionCache(options.versionCache);
  let closed = false;

  const deliver = async (records: ConflictRecord[]): Promise<void> => {
    try {
      await store.add(records);
    } catch (error) {
      logger.error('could not store conflict records', {
        error: String(error),
        ids: records.map((r) => r.id),
      });
    }
    if (options.onConflict === undefined) return;
    for (const record of records) {
      try {
        await options.onConflict(record);
      } catch (error) {
        logger.warn('onConflict failed', { error: String(error), id: record.id });
      }
    }
  };

  installMiddleware(backend, {
    policies,
    now,
    isClosed: () => closed,
    readLocks: (collection, docId) =>
      io.read(LOCKS_COLLECTION, docKey(collection, docId)).then((d) => locksOf(d.data, now())),
    isDocumentOwner: async (principal, collection, docId) =>
      (await lockOptions.isDocumentOwner(principal, collection, docId)) === true,
    readAt: (collection, docId, version) =>
      new Promise((resolve, reject) => {
        const raw = backend as unknown as {
          fetchSnapshot(
            agent: null,
            c: string,
            id: string,
            v: number,
            cb: (e: unknown, s: { data: Doc | undefined }) => void,
          ): void;
        };
        raw.fetchSnapshot(null, collection, docId, version, (error, snapshot) =>
          error ? reject(TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE)) : resolve(snapshot.data),
        );
      }),
    remember: (collection, docId, version, data) =>
      versions.remember(docKey(collection, docId), version, data),
    recall: (collection, docId, version) => versions.get(docKey(collection, docId), version),
    publish: (records) => {
      const p = deliver(records);
      pending.add(p);
      p.finally(() => pending.delete(p));
    },
  });

  const flush = async (): Promise<void> => {
    while (pending.size > 0) await Promise.all([...pending]);
  };

  return {
    locks,
    list: (query) => store.list(query),
    async resolve({ collection, docId, id, choose, by }) {
      const record = await store.get(collection, docId, id);
      if (record === undefined)
        throw new TandemError(ErrorCode.NOT_FOUND, `conflict ${id} not found`, { id });
      if (record.status !== 'open' || record.field === undefined) {
        throw new TandemError(ErrorCode.ALREADY_EXISTS, `conflict ${id} is already resolved`, { id });
      }
      const value =
        choose === 'committed'
          ? record.committedValue
          : choose === 'incoming'
            ? record.incomingValue
            : choose.value;
      const current = await io.read(collection, docId);
      const op = setField(current.data, record.field, value);
      if (op === undefined) {
        throw new TandemError(
          ErrorCode.NOT_FOUND,
          `the field of conflict ${id} no longer has a parent to live in`,
          {
            id,
            path: record.field,
          },
        );
      }
      if (op !== null) await io.submitAs(by, collection, docId, op);
      const resolved: ConflictRecord = {
        ...record,
        resolved: true,
        status: 'resolved',
        resolution: 'chosen',
        choice: typeof choose === 'string' ? choose : 'value',
        resolvedBy: by.id,
        resolvedAt: now(),
      };
      await store.put(resolved);
      return resolved;
    },
    trustAgent,
    flush,
    async close() {
      closed = true;
      await flush();
      io.close();
    },
  };
}

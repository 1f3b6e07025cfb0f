/**
 * The lock store: one reserved ShareDB document per locked document (`_tandem_locks`, its locks by
 * id), so every server process sharing the store honours the same locks. Writes are
 * compare-and-swap on the document's version: the middleware refuses a lock write that ShareDB had
 * to transform over a concurrent one (creating the document included), the writer re-reads and
 * decides again, so of two processes racing for overlapping paths exactly one wins.
 *
 * Within a process, calls on one document queue up and are decided in batches: the first call
 * writes at once, and whatever arrives while a write is in flight is decided together against one
 * read and written as one op. A burst of N calls costs a few writes instead of N writes racing
 * each other (and retrying) for the same version.
 */
import { randomUUID } from 'node:crypto';
import type { Doc } from '@tandem/ot';
import { ErrorCode, type Result, TandemError, unwrap } from '@tandem/protocol';
import { type DocIO, docKey } from './backend-io';
import {
  decideLocks,
  LOCKS_COLLECTION,
  type Lock,
  type LockCall,
  type LockLimits,
  type LockOutcome,
  type LockPrincipal,
  type LockRequest,
  lockMapOf,
  lockOp,
  locksOf,
} from './locks';

export interface LockOptions {
  /** Lock lifetime when `acquire` names none. @default 30_000 (30 s: renew while editing) */
  defaultTtlMs?: number;
  /**
   * Longest lifetime accepted. A lock outlives its socket only when its process dies (a closed
   * socket releases its locks), so this bounds how long a crashed server or an abusive editor can
   * keep a field closed; a client editing for longer renews. @default 120_000 (2 min)
   */
  maxTtlMs?: number;
  /**
   * Live locks on one document; past it `acquire` fails with TOO_LARGE. Every write of the lock
   * document and every op's lock check costs its size. @default 100
   */
  maxPerDocument?: number;
  /**
   * Live locks one holder has on one document; past it `acquire` fails with TOO_LARGE, so one user
   * cannot use up the document's share. @default 10
   */
  maxPerOwner?: number;
  /**
   * Whether `principal` owns the document. A document owner is never locked out: others' locks do
   * not bind its ops, its acquire takes over overlapping locks, it may release anyone's lock there,
   * and only it may lock the whole document (the root path). Asked per lock call, and per op only
   * when a lock would refuse that op. @default nobody (@tandem/server: its `authorize` hook's
   * answer for action `admin`)
   */
  isDocumentOwner?(principal: LockPrincipal, collection: string, docId: string): boolean | Promise<boolean>;
}

export type ResolvedLockOptions = Required<LockOptions>;

const LOCK_OPTIONS = new Set([
  'defaultTtlMs',
  'maxTtlMs',
  'maxPerDocument',
  'maxPerOwner',
  'isDocumentOwner',
]);

function invalid(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option locks.${option}: ${reason}`, {
    option: `locks.${option}`,
    reason,
  });
}

/** Defaults filled in; INVALID_CONFIG for unknown keys, non-positive counts, a default over the max. */
export function resolveLockOptions(options: LockOptions = {}): ResolvedLockOptions {
  for (const key of Object.keys(options)) if (!LOCK_OPTIONS.has(key)) throw invalid(key, 'unknown option');
  const count = (key: keyof LockOptions, fallback: number): number => {
    const n = options[key] ?? fallback;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      throw invalid(key, 'must be a positive integer');
    return n;
  };
  const resolved: ResolvedLockOptions = {
    defaultTtlMs: count('defaultTtlMs', 30_000),
    maxTtlMs: count('maxTtlMs', 120_000),
    maxPerDocument: count('maxPerDocument', 100),
    maxPerOwner: count('maxPerOwner', 10),
    isDocumentOwner: options.isDocumentOwner ?? (() => false),
  };
  if (typeof resolved.isDocumentOwner !== 'function') throw invalid('isDocumentOwner', 'must be a function');
  if (resolved.defaultTtlMs > resolved.maxTtlMs) throw invalid('defaultTtlMs', 'must not exceed maxTtlMs');
  return resolved;
}

export interface LockManager {
  /**
   * Acquire (or renew, for the same holder and path). LOCKED when someone else holds an
   * overlapping lock (unless the caller owns the document: it takes over), FORBIDDEN for the root
   * unless the caller owns the document, TOO_LARGE past a cap.
   */
  acquire(req: LockRequest): Promise<Lock>;
  tryAcquire(req: LockRequest): Promise<Result<Lock>>;
  /** Extend a lock held by its owner; LOCKED if it expired and someone else took the path. */
  renew(lock: Lock, ttlMs?: number): Promise<Lock>;
  /**
   * Release one lock (no-op when already gone). With `by`, only its holder or an owner of the
   * document may (FORBIDDEN otherwise); without, the caller is trusted (the host).
   */
  release(lock: Pick<Lock, 'id' | 'collection' | 'docId'>, by?: LockPrincipal): Promise<void>;
  /** Release every lock this process acquired for an owner id or a session id (call on disconnect). */
  releaseOwner(ownerOrSessionId: string): Promise<void>;
  /** Live locks on a document, soonest to expire first. */
  list(collection: string, docId: string): Promise<Lock[]>;
}

interface Waiting {
  call: LockCall;
  done(outcome: LockOutcome): void;
  fail(error: unknown): void;
}

interface Queue {
  collection: string;
  docId: string;
  waiting: Waiting[];
}

export function createLockManager(io: DocIO, options: ResolvedLockOptions, now: () => number): LockManager {
  const limits: LockLimits = { maxPerDocument: options.maxPerDocument, maxPerOwner: options.maxPerOwner };
  /** Locks acquired through this process, so a disconnect here releases them. */
  const acquired = new Map<string, Lock>();
  let pruneAt = 1024;
  /** Calls waiting for the next write of each lock document (present while one is being written). */
  const queues = new Map<string, Queue>();

  const remember = (lock: Lock): void => {
    acquired.set(lock.id, lock);
    if (acquired.size < pruneAt) return;
    // Expired locks were never released here; forget them now and then (amortised O(1) per acquire).
    const t = now();
    for (const [id, l] of acquired) if (l.expiresAt <= t) acquired.delete(id);
    pruneAt = Math.max(1024, acquired.size * 2);
  };

  const ttlOf = (ttlMs: number | undefined): number => {
    const ttl = ttlMs ?? options.defaultTtlMs;
    if (!(ttl > 0) || ttl > options.maxTtlMs) {
      throw new TandemError(ErrorCode.INVALID_CONFIG, `lock ttlMs must be in (0, ${options.maxTtlMs}]`, {
        ttlMs: ttl,
      });
    }
    return ttl;
  };

  const ownerOf = async (principal: LockPrincipal, collection: string, docId: string) =>
    (await options.isDocumentOwner(principal, collection, docId)) === true;

  /** Decide `calls` against the stored locks and write the result as one compare-and-swap op. */
  const write = (collection: string, docId: string, calls: LockCall[]) =>
    io.update(LOCKS_COLLECTION, docKey(collection, docId), (current) => {
      const { locks, outcomes } = decideLocks(Object.values(lockMapOf(current.data)), calls, now(), limits);
      if (current.data !== undefined) return { op: lockOp(current.data, locks), result: outcomes };
      if (locks.length === 0) return { result: outcomes };
      const create = { locks: Object.fromEntries(locks.map((l) => [l.id, l])) } as unknown as Doc;
      return { create, result: outcomes };
    });

  /** Write what waits on one document, batch after batch, until nothing does. */
  const drain = async (key: string, queue: Queue): Promise<void> => {
    while (queue.waiting.length > 0) {
      const batch = queue.waiting;
      queue.waiting = [];
      try {
        const outcomes = await write(
          queue.collection,
          queue.docId,
          batch.map((w) => w.call),
        );
        for (const [i, w] of batch.entries()) w.done(outcomes[i]);
      } catch (error) {
        for (const w of batch) w.fail(error);
      }
    }
    queues.delete(key);
  };

  const enqueue = (collection: string, docId: string, call: LockCall): Promise<LockOutcome> =>
    new Promise((done, fail) => {
      const key = docKey(collection, docId);
      const queue = queues.get(key);
      if (queue !== undefined) return void queue.waiting.push({ call, done, fail });
      const fresh: Queue = { collection, docId, waiting: [{ call, done, fail }] };
      queues.set(key, fresh);
      void drain(key, fresh);
    });

  const tryAcquire = async (req: LockRequest): Promise<Result<Lock>> => {
    const ttlMs = ttlOf(req.ttlMs);
    const documentOwner = await ownerOf(req.principal ?? { id: req.owner }, req.collection, req.docId);
    const outcome = await enqueue(req.collection, req.docId, {
      kind: 'acquire',
      request: req,
      ttlMs,
      id: randomUUID(),
      documentOwner,
    });
    if (outcome.ok) remember(outcome.value as Lock);
    return outcome as Result<Lock>;
  };

  const release = async (lock: Pick<Lock, 'id' | 'collection' | 'docId'>, by?: LockPrincipal) => {
    const caller =
      by === undefined
        ? undefined
        : { id: by.id, documentOwner: await ownerOf(by, lock.collection, lock.docId) };
    unwrap(await enqueue(lock.collection, lock.docId, { kind: 'release', id: lock.id, by: caller }));
    acquired.delete(lock.id);
  };

  return {
    acquire: async (req) => unwrap(await tryAcquire(req)),
    tryAcquire,
    renew: async (lock, ttlMs) => {
      const { collection, docId, path, owner, sessionId } = lock;
      return unwrap(
        await tryAcquire({ collection, docId, path, owner, sessionId, ttlMs: ttlMs ?? options.defaultTtlMs }),
      );
    },
    release,
    releaseOwner: async (ownerOrSessionId) => {
      const mine = [...acquired.values()].filter(
        (l) => l.owner === ownerOrSessionId || l.sessionId === ownerOrSessionId,
      );
      await Promise.all(mine.map((l) => release(l)));
    },
    list: async (collection, docId) =>
      locksOf((await io.read(LOCKS_COLLECTION, docKey(collection, docId))).data, now()),
  };
}

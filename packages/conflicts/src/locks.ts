/**
 * Path locks. The rules are pure functions over a document's lock list; `createLockManager` keeps
 * that list in a reserved ShareDB collection (one document per locked document) so every server
 * process sharing the store honours it. Writes are compare-and-swap on the document version: the
 * middleware refuses a lock write that was transformed over a concurrent one, so of two processes
 * racing for one path exactly one wins.
 */
import { randomUUID } from 'node:crypto';
import type { Doc, JSONOp, Path } from '@tandem/ot';
import { ErrorCode, err, ok, type Result, TandemError, unwrap } from '@tandem/protocol';
import { type DocIO, docKey, replaceAll } from './backend-io';
import { formatPath, overlapsPath, samePath, touchedPaths } from './paths';

export const LOCKS_COLLECTION = '_tandem_locks';

export interface Lock {
  id: string;
  collection: string;
  docId: string;
  path: Path;
  /** Principal id of the holder. */
  owner: string;
  /** The holder's session, so a disconnect can release exactly its locks. */
  sessionId?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface LockRequest {
  collection: string;
  docId: string;
  path: Path;
  owner: string;
  sessionId?: string;
  /** @default the manager's `defaultTtlMs` */
  ttlMs?: number;
}

interface LockDoc {
  locks: Lock[];
}

export function liveLocks(locks: readonly Lock[], now: number): Lock[] {
  return locks.filter((l) => l.expiresAt > now);
}

/** The first live lock held by someone other than `author` that one of `paths` touches. */
export function blockingLock(locks: readonly Lock[], paths: readonly Path[], author: string, now: number) {
  return locks.find(
    (l) => l.expiresAt > now && l.owner !== author && paths.some((p) => overlapsPath(p, l.path)),
  );
}

/** The paths an op touches; a whole-document create or delete touches the root. */
export function opPaths(op: JSONOp | undefined): Path[] {
  return op === undefined ? [[]] : touchedPaths(op);
}

export function lockedError(lock: Lock): TandemError {
  return new TandemError(
    ErrorCode.LOCKED,
    `${formatPath(lock.path)} is locked by ${lock.owner} until ${new Date(lock.expiresAt).toISOString()}`,
    { path: lock.path, owner: lock.owner, expiresAt: lock.expiresAt },
  );
}

/** Acquire on a lock list: renew the owner's lock on the same path, refuse an overlapping one. */
export function acquireIn(locks: readonly Lock[], req: LockRequest, ttlMs: number, now: number, id: string) {
  const live = liveLocks(locks, now);
  const held = live.find((l) => l.owner !== req.owner && overlapsPath(l.path, req.path));
  if (held !== undefined) return err(lockedError(held));
  const mine = live.find((l) => l.owner === req.owner && samePath(l.path, req.path));
  const lock: Lock = {
    id: mine?.id ?? id,
    collection: req.collection,
    docId: req.docId,
    path: req.path,
    owner: req.owner,
    expiresAt: now + ttlMs,
  };
  if (req.sessionId !== undefined) lock.sessionId = req.sessionId;
  return ok({ locks: [...live.filter((l) => l !== mine), lock], lock });
}

export interface LockOptions {
  /** Lock lifetime when `acquire` names none. @default 30_000 (30 s: renew while editing) */
  defaultTtlMs?: number;
  /** Longest lifetime accepted, so a forgotten lock cannot block a field for long. @default 600_000 */
  maxTtlMs?: number;
}

export interface LockManager {
  /** Acquire (or renew, for the same owner and path); LOCKED when someone else holds an overlapping lock. */
  acquire(req: LockRequest): Promise<Lock>;
  tryAcquire(req: LockRequest): Promise<Result<Lock>>;
  /** Extend a lock held by its owner; LOCKED if it expired and someone else took the path. */
  renew(lock: Lock, ttlMs?: number): Promise<Lock>;
  /** Release one lock (no-op when already gone). */
  release(lock: Pick<Lock, 'id' | 'collection' | 'docId'>): Promise<void>;
  /** Release every lock this process acquired for an owner id or a session id (call on disconnect). */
  releaseOwner(ownerOrSessionId: string): Promise<void>;
  /** Live locks on a document. */
  list(collection: string, docId: string): Promise<Lock[]>;
}

const locksOf = (data: Doc | undefined): Lock[] => (data as LockDoc | undefined)?.locks ?? [];

export function createLockManager(io: DocIO, options: LockOptions, now: () => number): LockManager {
  const defaultTtlMs = options.defaultTtlMs ?? 30_000;
  const maxTtlMs = options.maxTtlMs ?? 600_000;
  /** Locks acquired through this process, so a disconnect here releases them. */
  const acquired = new Map<string, Lock>();

  const ttlOf = (ttlMs: number | undefined): number => {
    const ttl = ttlMs ?? defaultTtlMs;
    if (!(ttl > 0) || ttl > maxTtlMs) {
      throw new TandemError(ErrorCode.INVALID_CONFIG, `lock ttlMs must be in (0, ${maxTtlMs}]`, {
        ttlMs: ttl,
      });
    }
    return ttl;
  };

  const write = (_collection: string, _docId: string, locks: Lock[], current: Doc | undefined) => {
    const data = { locks } as unknown as Doc;
    return current === undefined ? { create: data } : { op: replaceAll(data, current) };
  };

  const tryAcquire = async (req: LockRequest): Promise<Result<Lock>> => {
    const ttl = ttlOf(req.ttlMs);
    const id = randomUUID();
    const result = await io.update(LOCKS_COLLECTION, docKey(req.collection, req.docId), (current) => {
      const outcome = acquireIn(locksOf(current.data), req, ttl, now(), id);
      if (!outcome.ok) return { result: outcome as Result<Lock> };
      return {
        ...write(req.collection, req.docId, outcome.value.locks, current.data),
        result: ok(outcome.value.lock),
      };
    });
    if (result.ok) acquired.set(result.value.id, result.value);
    return result;
  };

  const release = async (lock: Pick<Lock, 'id' | 'collection' | 'docId'>): Promise<void> => {
    acquired.delete(lock.id);
    await io.update(LOCKS_COLLECTION, docKey(lock.collection, lock.docId), (current) => {
      const locks = locksOf(current.data);
      const kept = liveLocks(locks, now()).filter((l) => l.id !== lock.id);
      if (current.data === undefined || kept.length === locks.length) return { result: undefined };
      return { ...write(lock.collection, lock.docId, kept, current.data), result: undefined };
    });
  };

  return {
    acquire: async (req) => unwrap(await tryAcquire(req)),
    tryAcquire,
    renew: async (lock, ttlMs) => {
      const req: LockRequest = { ...lock, ttlMs: ttlMs ?? defaultTtlMs };
      return unwrap(await tryAcquire(req));
    },
    release,
    releaseOwner: async (ownerOrSessionId) => {
      const mine = [...acquired.values()].filter(
        (l) => l.owner === ownerOrSessionId || l.sessionId === ownerOrSessionId,
      );
      await Promise.all(mine.map(release));
    },
    list: async (collection, docId) =>
      liveLocks(locksOf((await io.read(LOCKS_COLLECTION, docKey(collection, docId))).data), now()),
  };
}

/**
 * Path locks, the rules: pure functions over one document's locks. `decideLocks` decides lock
 * calls in arrival order (so a batch of calls is decided exactly as if they came one by one);
 * `lockOp` is the json1 op from the stored locks to the decided ones, touching only the entries
 * that changed, so a write costs what it changes, not the size of the list. The store and the
 * batching are lock-manager.ts.
 */
import type { Doc, JSONOp, Path } from '@tandem/ot';
import { ErrorCode, err, ok, type Result, TandemError } from '@tandem/protocol';
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

/** Who asks: the principal the server authenticated (opaque here; its `id` is the lock holder). */
export interface LockPrincipal {
  id: string;
  [extra: string]: unknown;
}

export interface LockRequest {
  collection: string;
  docId: string;
  path: Path;
  owner: string;
  sessionId?: string;
  /** @default the manager's `defaultTtlMs` */
  ttlMs?: number;
  /** The caller's full principal, for `isDocumentOwner`. @default `{ id: owner }` */
  principal?: LockPrincipal;
}

/** Caps on live locks: the lock list's size bounds what every write and every op's check costs. */
export interface LockLimits {
  /** Live locks on one document. */
  maxPerDocument: number;
  /** Live locks one holder has on one document (so one user cannot use up the document's). */
  maxPerOwner: number;
}

/**
 * One lock call. `documentOwner`: the caller owns the document (see `LockOptions.isDocumentOwner`):
 * may lock the root, takes over others' overlapping locks, may release anyone's.
 */
export type LockCall =
  | { kind: 'acquire'; request: LockRequest; ttlMs: number; id: string; documentOwner: boolean }
  | { kind: 'release'; id: string; by?: { id: string; documentOwner: boolean } };

/** What a call got: the lock acquired (undefined for a release), or why not. */
export type LockOutcome = Result<Lock | undefined>;

/** The stored form: live and expired locks by id (expired ones are dropped by the next write). */
export type LockMap = Record<string, Lock>;

/** The locks stored in a lock document (an older store kept them as a list). */
export function lockMapOf(data: Doc | undefined): LockMap {
  const locks = (data as { locks?: LockMap | Lock[] } | undefined)?.locks;
  if (locks === undefined || locks === null) return {};
  if (!Array.isArray(locks)) return locks;
  return Object.fromEntries(locks.map((l) => [l.id, l]));
}

export function liveLocks(locks: readonly Lock[], now: number): Lock[] {
  return locks.filter((l) => l.expiresAt > now);
}

/** The live locks of a lock document, soonest to expire first. */
export function locksOf(data: Doc | undefined, now: number): Lock[] {
  return liveLocks(Object.values(lockMapOf(data)), now).sort(
    (a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1),
  );
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

function tooMany(limit: number, what: 'locks' | 'locks per owner', ref: LockRequest): TandemError {
  const where = `${ref.collection}/${ref.docId}`;
  return new TandemError(
    ErrorCode.TOO_LARGE,
    what === 'locks'
      ? `${where} already has ${limit} live locks`
      : `${ref.owner} already holds ${limit} live locks on ${where}`,
    { limit, what, collection: ref.collection, id: ref.docId },
  );
}

function forbidden(message: string, reason: string, collection: string, id: string): TandemError {
  return new TandemError(ErrorCode.FORBIDDEN, message, { action: 'lock', reason, collection, id });
}

/** One acquire on the live locks (in place). */
function acquire(
  locks: Map<string, Lock>,
  call: Extract<LockCall, { kind: 'acquire' }>,
  now: number,
  limits: LockLimits,
): LockOutcome {
  const { request: req, documentOwner } = call;
  // The root covers the whole document: locking it locks everyone else out of everything.
  if (req.path.length === 0 && !documentOwner) {
    return err(
      forbidden('only an owner of the document may lock all of it', 'root', req.collection, req.docId),
    );
  }
  const others = [...locks.values()].filter((l) => l.owner !== req.owner && overlapsPath(l.path, req.path));
  if (others.length > 0 && !documentOwner) return err(lockedError(others[0]));
  let mine: Lock | undefined;
  let held = 0;
  for (const l of locks.values()) {
    if (l.owner !== req.owner) continue;
    held++;
    if (samePath(l.path, req.path)) mine = l;
  }
  if (mine === undefined && held >= limits.maxPerOwner)
    return err(tooMany(limits.maxPerOwner, 'locks per owner', req));
  if (mine === undefined && locks.size - others.length >= limits.maxPerDocument)
    return err(tooMany(limits.maxPerDocument, 'locks', req));
  // A document owner is never locked out: its lock takes over the overlapping ones.
  for (const l of others) locks.delete(l.id);
  const lock: Lock = {
    id: mine?.id ?? call.id,
    collection: req.collection,
    docId: req.docId,
    path: req.path,
    owner: req.owner,
    expiresAt: now + call.ttlMs,
  };
  const sessionId = req.sessionId ?? mine?.sessionId;
  if (sessionId !== undefined) lock.sessionId = sessionId;
  locks.set(lock.id, lock);
  return ok(lock);
}

function release(locks: Map<string, Lock>, call: Extract<LockCall, { kind: 'release' }>): LockOutcome {
  const lock = locks.get(call.id);
  if (lock === undefined) return ok(undefined);
  if (call.by !== undefined && call.by.id !== lock.owner && !call.by.documentOwner) {
    return err(
      forbidden(
        'a lock is released by its holder or an owner of the document',
        'not-holder',
        lock.collection,
        lock.docId,
      ),
    );
  }
  locks.delete(call.id);
  return ok(undefined);
}

/**
 * Decide `calls` in order on a document's locks: each sees the locks as the calls before it left
 * them. Expired locks are dropped. Refused calls change nothing.
 */
export function decideLocks(
  stored: readonly Lock[],
  calls: readonly LockCall[],
  now: number,
  limits: LockLimits,
): { locks: Lock[]; outcomes: LockOutcome[] } {
  const locks = new Map(liveLocks(stored, now).map((l) => [l.id, l]));
  const outcomes = calls.map((call) =>
    call.kind === 'acquire' ? acquire(locks, call, now, limits) : release(locks, call),
  );
  return { locks: [...locks.values()], outcomes };
}

/**
 * The op from the stored lock document to `next`: removes, inserts and replaces of the entries
 * that changed (keys in json1's order). Null when nothing changed.
 */
export function lockOp(data: Doc | undefined, next: readonly Lock[]): JSONOp {
  const stored = (data as { locks?: unknown } | undefined)?.locks;
  const after: LockMap = Object.fromEntries(next.map((l) => [l.id, l]));
  if (Array.isArray(stored)) return ['locks', { r: true, i: after as unknown as Doc }];
  const before = lockMapOf(data);
  const edits: [string, object][] = [];
  for (const id of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = before[id];
    const now = after[id];
    if (now === undefined) edits.push([id, { r: true }]);
    else if (was === undefined) edits.push([id, { i: now }]);
    // Same id, same holder and path: a renewal changes only these.
    else if (was.expiresAt !== now.expiresAt || was.sessionId !== now.sessionId)
      edits.push([id, { r: true, i: now }]);
  }
  if (edits.length === 0) return null;
  edits.sort(([a], [b]) => (a < b ? -1 : 1));
  if (edits.length === 1) return ['locks', ...edits[0]] as JSONOp;
  return ['locks', ...edits] as unknown as JSONOp;
}

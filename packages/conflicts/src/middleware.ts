/**
 * The ShareDB middleware: classify and enforce at `apply`, persist and emit after the write.
 *
 * ShareDB facts this relies on: `submit` runs once per request, `apply` and `commit` re-run on every
 * retry; by `apply`, `request.op` is already transformed and `request.ops` holds every concurrent
 * op transformed over so far (across retries, without their `m`). So the pre-transform op is cloned
 * at `submit`, and `apply` recomputes everything from that clone and state kept on the request.
 */
import { randomUUID } from 'node:crypto';
import type { Doc, JSONOp } from '@tandem/ot';
import { AUTHOR_FIELD, cloneJson, ErrorCode, type OpAuthor, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { TandemAgent } from './agent';
import { isInternalAgent } from './backend-io';
import { type Collision, type ConcurrentOp, classify } from './classify';
import { blockingLock, LOCKS_COLLECTION, type Lock, type LockPrincipal, lockedError, opPaths } from './locks';
import { formatPath, overlapsPath } from './paths';
import { needsBase, type Policies } from './policies';
import { collisionRecord, lockRecord, type RecordContext } from './records';
import { isReservedCollection } from './reserved';
import { type FieldOutcome, plan, settle } from './settle';
import type { ConflictRecord } from './types';

type Next = (error?: unknown) => void;

type Agent = TandemAgent & { clientId: string };

/** The parts of ShareDB's SubmitRequest used here. */
interface SubmitRequest {
  collection: string;
  id: string;
  agent: Agent;
  op: { v: number; src?: string; op?: JSONOp; create?: unknown; del?: boolean };
  ops: { v: number; src?: string; op?: JSONOp; [AUTHOR_FIELD]?: { id: string } }[];
  snapshot: { v: number; data: Doc | undefined };
  custom: Record<string, unknown>;
  $fixup(op: JSONOp): void;
}

/** Per-request state; kept on `request.custom` so retries find it. */
interface RequestState {
  original: JSONOp;
  transformed: JSONOp;
  processed: number;
  collisions: Collision[];
  baseVersion: number | undefined;
  base: { data: Doc | undefined } | undefined;
  fixedUp: boolean;
  /** Records of the latest attempt, persisted once the op is written. */
  records: ConflictRecord[];
  /** The document's live locks, read at submit. */
  locks: Lock[];
  /** The lock read while it has not answered (`apply` waits for it). */
  locksRead: Promise<void> | undefined;
  /** Whether the author owns the document (not bound by others' locks); asked once, when a lock would refuse. */
  documentOwner: boolean | undefined;
}

const STATE = 'tandemConflicts';

/** What the middleware needs from the rest of the package (the edges are injected). */
export interface MiddlewareDeps {
  policies: Policies;
  now: () => number;
  isClosed: () => boolean;
  readLocks(collection: string, docId: string): Promise<Lock[]>;
  isDocumentOwner(principal: LockPrincipal, collection: string, docId: string): Promise<boolean>;
  readAt(collection: string, docId: string, version: number): Promise<Doc | undefined>;
  /** Called with the pre-apply snapshot of every op on a collection whose rules need base versions. */
  remember(collection: string, docId: string, version: number, data: Doc | undefined): void;
  /** A base version already known in memory. */
  recall(collection: string, docId: string, version: number): { data: Doc | undefined } | undefined;
  /** Persist and emit; never throws (failures go to the logger). */
  publish(records: ConflictRecord[]): void;
}

/** Principal id when the server set one, else the ShareDB client id. */
export function authorOf(agent: Agent | undefined): string {
  return agent?.custom?.principal?.id ?? agent?.clientId ?? 'unknown';
}

function stateOf(request: SubmitRequest): RequestState | undefined {
  return request.custom[STATE] as RequestState | undefined;
}

function forbidden(collection: string): TandemError {
  return new TandemError(ErrorCode.FORBIDDEN, `collection ${collection} is reserved to Tandem`, {
    collection,
  });
}

export function installMiddleware(backend: ShareDB, deps: MiddlewareDeps): void {
  const use = backend.use.bind(backend) as (action: string, fn: (request: any, next: Next) => void) => void;

  // submit: ordinary clients never write reserved collections; keep the op as its author wrote it
  // and start reading the document's locks, alongside ShareDB's snapshot read rather than before it
  // (one store round trip per submit instead of two in a row). On a networked store the read,
  // issued first, has usually answered by `apply`, whose wait sits inside the snapshot-to-commit
  // window (a long one would make this op lose more commit races on hot documents). On MemoryDB
  // both answer in the same tick and `apply` waits one promise step.
  use('submit', (request: SubmitRequest, next) => {
    if (isReservedCollection(request.collection)) {
      // Enforced even after close: Tandem's own data never becomes writable by clients.
      return next(isInternalAgent(request.agent) ? undefined : forbidden(request.collection));
    }
    if (deps.isClosed() || request.op.create !== undefined) return next();
    const state: RequestState = {
      original: request.op.op === undefined ? null : cloneJson(request.op.op),
      transformed: null,
      processed: 0,
      collisions: [],
      baseVersion: undefined,
      base: undefined,
      fixedUp: false,
      records: [],
      locks: [],
      locksRead: undefined,
      documentOwner: undefined,
    };
    state.transformed = state.original;
    request.custom[STATE] = state;
    const read = deps.readLocks(request.collection, request.id).then((locks) => {
      state.locks = locks;
      state.locksRead = undefined;
    });
    state.locksRead = read;
    // A failed read refuses the op at `apply`; until then it must not count as unhandled.
    read.catch(() => {});
    next();
  });

  // readSnapshots: reserved documents are read through the handle only.
  use('readSnapshots', (request: any, next) => {
    if (!isReservedCollection(request.collection) || isInternalAgent(request.agent)) return next();
    for (const snapshot of request.snapshots)
      request.rejectSnapshotRead(snapshot, forbidden(request.collection));
    next();
  });

  // apply: enforce locks, classify, apply policies. Re-runs on retry: recompute from the state.
  // Synchronous unless a last-writer-wins / manual field needs the op's base version (fetched once).
  use('apply', (request: SubmitRequest, next) => {
    if (isReservedCollection(request.collection)) {
      // Lock writes are compare-and-swap: one transformed over a concurrent write lost the race.
      const raced = request.collection === LOCKS_COLLECTION && request.ops.length > 0;
      return next(raced ? new TandemError(ErrorCode.ALREADY_EXISTS, 'lock changed concurrently') : undefined);
    }
    const state = stateOf(request);
    if (deps.isClosed() || state === undefined) return next();
    const step = (): void => {
      let pending: Promise<void> | undefined;
      try {
        pending = applyStep(request, state, deps);
      } catch (error) {
        next(TandemError.from(error));
        return;
      }
      if (pending === undefined) next();
      else
        pending.then(
          () => next(),
          (error: unknown) => next(TandemError.from(error)),
        );
    };
    if (state.locksRead === undefined) step();
    else state.locksRead.then(step, (error: unknown) => next(TandemError.from(error)));
  });

  // commit: stamp the author on the op (unless the server did) so later transforms can name it.
  use('commit', (request: SubmitRequest & { op: { [AUTHOR_FIELD]?: OpAuthor } }, next) => {
    const principal = request.agent?.custom?.principal;
    if (
      principal !== undefined &&
      request.op[AUTHOR_FIELD] === undefined &&
      !isReservedCollection(request.collection)
    ) {
      request.op[AUTHOR_FIELD] = { id: principal.id, name: principal.name ?? principal.id };
    }
    next();
  });

  // afterWrite: the op is durable; its records can be stored and delivered.
  use('afterWrite', (request: SubmitRequest, next) => {
    const state = stateOf(request);
    if (state !== undefined && state.records.length > 0) deps.publish(state.records);
    next();
  });
}

function concurrentOf(request: SubmitRequest, from: number): ConcurrentOp[] {
  const out: ConcurrentOp[] = [];
  for (const o of request.ops.slice(from)) {
    if (o.op === undefined) continue;
    out.push({ op: o.op, version: o.v, author: o[AUTHOR_FIELD]?.id ?? o.src ?? 'unknown' });
  }
  return out;
}

/** Returns a promise only when it has to wait for the base version. */
function applyStep(
  request: SubmitRequest,
  state: RequestState,
  deps: MiddlewareDeps,
): Promise<void> | undefined {
  const author = authorOf(request.agent);
  state.baseVersion ??= request.snapshot.v - request.ops.length;
  if (needsBase(deps.policies, request.collection)) {
    deps.remember(request.collection, request.id, request.snapshot.v, request.snapshot.data);
  }
  const baseVersion = state.baseVersion;
  const ctx: RecordContext = {
    collection: request.collection,
    docId: request.id,
    author,
    version: request.snapshot.v,
    baseVersion,
    now: deps.now(),
    newId: randomUUID,
  };

  if (state.processed < request.ops.length) {
    const step = classify(state.transformed, concurrentOf(request, state.processed));
    state.transformed = step.op;
    state.collisions.push(...step.collisions);
    state.processed = request.ops.length;
  }
  // A previous attempt composed a fixup into the op and ShareDB transformed that; start clean.
  if (state.fixedUp) {
    request.op.op = state.transformed;
    state.fixedUp = false;
  }
  state.records = [];

  if (state.locks.length > 0 && state.documentOwner !== true) {
    const paths = opPaths(request.op.op);
    const lock = blockingLock(state.locks, paths, author, deps.now());
    const principal = request.agent?.custom?.principal;
    if (lock !== undefined && state.documentOwner === undefined && principal !== undefined) {
      // Document owners are never locked out. Asked only now, on the way to a refusal; then this
      // step runs again (it is idempotent: ShareDB re-runs it on every retry anyway).
      return deps.isDocumentOwner(principal, request.collection, request.id).then((owner) => {
        state.documentOwner = owner;
        return applyStep(request, state, deps);
      });
    }
    if (lock !== undefined) {
      const path = paths.find((p) => overlapsPath(p, lock.path)) ?? [];
      deps.publish([lockRecord(ctx, lock, request.op.op ?? null, path)]);
      throw lockedError(lock);
    }
  }

  if (state.collisions.length === 0) return undefined;
  const decided = plan(deps.policies, request.collection, state.collisions);

  if (decided.rejected !== undefined) {
    const records = decided.decisions.map((d) => collisionRecord(ctx, d, undefined, true));
    deps.publish(records);
    const first = records[decided.decisions.indexOf(decided.rejected)];
    throw new TandemError(
      ErrorCode.CONFLICT_REJECTED,
      `${first.kind} at ${formatPath(first.path)} with a concurrent edit by ${first.other.author} (rule ${first.rule})`,
      {
        conflictId: first.id,
        kind: first.kind,
        path: first.path,
        rule: first.rule,
        version: first.op.version,
      },
    );
  }

  const finish = (fields: Map<string, FieldOutcome>) => {
    state.records = decided.decisions.map((d) =>
      collisionRecord(ctx, d, fields.get(formatPath(d.match.field)), false),
    );
  };
  if (!decided.needsBase) return void finish(new Map());

  const settleWith = (base: { data: Doc | undefined }) => {
    state.base = base;
    const settled = settle({
      snapshot: request.snapshot.data,
      transformed: state.transformed,
      original: state.original,
      base: base.data,
      decisions: decided.decisions,
    });
    if (settled.fixup !== null) {
      request.$fixup(settled.fixup);
      state.fixedUp = true;
    }
    finish(settled.fields);
  };
  state.base ??= deps.recall(request.collection, request.id, baseVersion);
  if (state.base !== undefined) return void settleWith(state.base);
  return deps.readAt(request.collection, request.id, baseVersion).then((data) => settleWith({ data }));
}

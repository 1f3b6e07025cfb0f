/**
 * The history calls clients make over the server's Tandem message namespace
 * (`{ a: 'tandem', t: 'history', rid, method, args: [params] }`). One closed list of methods;
 * params are validated here, and every document a call reads or writes goes through the server's
 * `authorize` first (a merge writes the fork's source, found through its lineage).
 */
import type { Path } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { defaultForkRef } from './fork';
import type { History } from './history';
import type { Actor, DocRef } from './types';

export type AccessAction = 'read' | 'write';

/** Each method and the access it needs on the document named in its params. */
export const HISTORY_METHODS = {
  page: 'read',
  snapshotAt: 'read',
  snapshotAtTime: 'read',
  listVersions: 'read',
  getVersion: 'read',
  versionSnapshot: 'read',
  verify: 'read',
  diff: 'read',
  blame: 'read',
  createVersion: 'write',
  revert: 'write',
  undoOp: 'write',
  undoLast: 'write',
  fork: 'read',
  merge: 'read',
} as const satisfies Record<string, AccessAction>;

export type HistoryMethod = keyof typeof HISTORY_METHODS;

export interface HistoryCall {
  method: string;
  args: unknown[];
}

export interface CallContext {
  actor: Actor;
  /** Resolve when `actor` may do `action` on `ref`; reject (FORBIDDEN) otherwise. */
  authorize(ref: DocRef, action: AccessAction): Promise<void>;
}

type Params = Record<string, unknown>;

function bad(reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad history call: ${reason}`, { reason });
}

function str(p: Params, key: string, optional = false): string | undefined {
  const v = p[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') throw bad(`${key} must be a string`);
  return v;
}

function int(p: Params, key: string, optional = false): number | undefined {
  const v = p[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${key} must be a number`);
  return v;
}

function refOf(p: Params, collectionKey = 'collection', idKey = 'id'): DocRef {
  return { collection: str(p, collectionKey) as string, id: str(p, idKey) as string };
}

function isMethod(method: string): method is HistoryMethod {
  return Object.hasOwn(HISTORY_METHODS, method);
}

/** Run one client history call. Unknown methods and malformed params are INVALID_MESSAGE. */
export async function handleHistoryCall(
  history: History,
  call: HistoryCall,
  context: CallContext,
): Promise<unknown> {
  if (!isMethod(call.method)) throw bad(`unknown method '${call.method}'`);
  const p = call.args?.[0];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('args[0] must be an object');
  const params = p as Params;
  const ref = refOf(params);
  await context.authorize(ref, HISTORY_METHODS[call.method]);
  const { actor } = context;
  switch (call.method) {
    case 'page':
      return history.page(ref, {
        before: int(params, 'before', true),
        limit: int(params, 'limit', true),
        author: str(params, 'author', true),
        since: int(params, 'since', true),
        until: int(params, 'until', true),
      });
    case 'snapshotAt':
      return history.snapshotAt(ref, int(params, 'version') as number);
    case 'snapshotAtTime':
      return history.snapshotAtTime(ref, int(params, 'ts') as number);
    case 'listVersions':
      return history.listVersions(ref);
    case 'getVersion':
      return history.getVersion(ref, str(params, 'label') as string);
    case 'versionSnapshot':
      return history.versionSnapshot(ref, str(params, 'label') as string);
    case 'verify':
      return history.verify(ref, str(params, 'label', true));
    case 'diff':
      return history.diff(ref, int(params, 'from') as number, int(params, 'to') as number);
    case 'blame': {
      const path = params.path;
      if (!Array.isArray(path) || !path.every((k) => typeof k === 'string' || typeof k === 'number')) {
        throw bad('path must be an array of keys');
      }
      return history.blame(ref, path as Path, int(params, 'version', true));
    }
    case 'createVersion':
      return history.createVersion(ref, actor, {
        label: str(params, 'label') as string,
        description: str(params, 'description', true),
        version: int(params, 'version', true),
      });
    case 'revert':
      return history.revert(ref, actor, int(params, 'version') as number, {
        message: str(params, 'message', true),
      });
    case 'undoOp':
      return history.undoOp(ref, actor, int(params, 'version') as number);
    case 'undoLast':
      // Undoing someone else's op is a write like any other; the default is the caller's own.
      return history.undoLast(ref, actor, str(params, 'author', true));
    case 'fork': {
      const target =
        params.targetCollection === undefined ? undefined : refOf(params, 'targetCollection', 'targetId');
      const forkTarget = target ?? defaultForkRef(ref);
      await context.authorize(forkTarget, 'write');
      return history.fork(ref, actor, { version: int(params, 'version', true), target: forkTarget });
    }
    case 'merge': {
      const lineage = await history.lineage(ref);
      if (lineage === undefined) {
        throw new TandemError(ErrorCode.NOT_FOUND, `${ref.collection}/${ref.id} is not a fork`, {
          collection: ref.collection,
          id: ref.id,
        });
      }
      await context.authorize(lineage.source, 'write');
      return history.merge(ref, actor);
    }
  }
}

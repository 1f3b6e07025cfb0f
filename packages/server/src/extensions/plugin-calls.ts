/**
 * Tandem calls served by the plugins: history calls (@tandem/history's `handleHistoryCall`) and path
 * locks (@tandem/conflicts' lock manager). Every document named goes through the same access check
 * as ShareDB's reads and writes; the caller acts as its authenticated principal and session.
 */
import type { Lock } from '@tandem/conflicts';
import { handleHistoryCall } from '@tandem/history';
import {
  ErrorCode,
  type HistoryCallMessage,
  type LockInfo,
  type LockMessage,
  TandemError,
} from '@tandem/protocol';
import type { Principal } from '../hooks';
import type { AccessCheck } from '../security/access';
import { userInfo } from '../security/principal';
import type { Connection } from '../transport/connection';
import type { Plugins } from './plugins';

function principalOf(connection: Connection): Principal {
  if (connection.principal === undefined)
    throw new TandemError(ErrorCode.UNAUTHORIZED, 'the session is not authenticated yet');
  return connection.principal;
}

function badLock(reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad lock call: ${reason}`, { reason });
}

/**
 * Every lock is stored in its document's lock record, rewritten on each lock write: a path is at
 * most as deep as a document may be (validation's default depth) and a few KiB long.
 */
const MAX_LOCK_PATH_KEYS = 64;
const MAX_LOCK_PATH_CHARS = 4096;

function isPath(value: unknown): value is (string | number)[] {
  return (
    Array.isArray(value) &&
    value.length <= MAX_LOCK_PATH_KEYS &&
    value.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isInteger(k) && k >= 0)) &&
    JSON.stringify(value).length <= MAX_LOCK_PATH_CHARS
  );
}

function lockInfo(lock: Lock): LockInfo {
  return {
    id: lock.id,
    collection: lock.collection,
    docId: lock.docId,
    path: lock.path,
    owner: lock.owner,
    expiresAt: lock.expiresAt,
  };
}

export function createPluginCalls(plugins: Promise<Plugins>, access: AccessCheck) {
  async function history(connection: Connection, message: HistoryCallMessage): Promise<unknown> {
    const { history } = await plugins;
    if (history === undefined)
      throw new TandemError(ErrorCode.NOT_FOUND, 'history is disabled on this server');
    const principal = principalOf(connection);
    return handleHistoryCall(
      history,
      { method: String(message.method), args: Array.isArray(message.args) ? message.args : [] },
      {
        // Reverts, undos, forks and merges are committed as this user (the whole principal, so the
        // `authorize` hook sees what it sees on this socket), from this session.
        actor: { id: principal.id, name: userInfo(principal).name, sessionId: connection.id, principal },
        // History reads are their own action (a role may read a document but not its past).
        authorize: (ref, action) =>
          access(principal, action === 'read' ? 'history' : action, ref.collection, ref.id),
      },
    );
  }

  async function lock(connection: Connection, message: LockMessage): Promise<LockInfo | undefined> {
    const { conflicts } = await plugins;
    const principal = principalOf(connection);
    const { collection, id } = message;
    if (typeof collection !== 'string' || typeof id !== 'string')
      throw badLock('collection and id must be strings');
    // Locking stops others writing: it takes the right to write.
    await access(principal, 'write', collection, id);
    if (message.action === 'acquire') {
      if (!isPath(message.path))
        throw badLock(
          `path must be an array of at most ${MAX_LOCK_PATH_KEYS} keys (strings, list indexes), ${MAX_LOCK_PATH_CHARS} characters in all`,
        );
      const ttlMs = message.ttlMs;
      if (ttlMs !== undefined && (typeof ttlMs !== 'number' || !(ttlMs > 0)))
        throw badLock('ttlMs must be a positive number');
      const acquired = await conflicts.locks
        .acquire({
          collection,
          docId: id,
          path: message.path,
          owner: principal.id,
          // For the lock policy: whether this user owns the document.
          principal,
          // Released when this socket closes (see tandem.ts), not when the user's other tabs do.
          sessionId: connection.id,
          ttlMs,
        })
        .catch((error: unknown) => {
          // The lock manager calls a lifetime over its maximum a config error; here it is the caller's.
          if (error instanceof TandemError && error.code === ErrorCode.INVALID_CONFIG)
            throw badLock(error.message);
          throw error;
        });
      return lockInfo(acquired);
    }
    if (message.action === 'release') {
      if (typeof message.lockId !== 'string') throw badLock('lockId must be a string');
      // Its holder or an owner of the document (FORBIDDEN otherwise); gone already: nothing to do.
      await conflicts.locks.release({ id: message.lockId, collection, docId: id }, principal);
      return undefined;
    }
    throw badLock("action must be 'acquire' or 'release'");
  }

  return { history, lock };
}

export type PluginCalls = ReturnType<typeof createPluginCalls>;

/**
 * Sessions: pending → active → expired | revoked, stored in the reserved `_tandem_sessions`
 * collection so every process sharing the store sees the same records. A session spans the sockets
 * (and reconnects) of one sign-in: its id is the principal's `sessionId` (tokens carry it as `sid`),
 * or the connection id when the host's principal has none. Ending a session is announced to every
 * process, and each closes its own sockets of that session (the sessions extension, extension.ts).
 */
import { compose, type Doc, insert, type JSONOp, set, type as tandemType } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { Principal } from '../../hooks';

export const SESSIONS_COLLECTION = '_tandem_sessions';

export type SessionState = 'pending' | 'active' | 'expired' | 'revoked';

export interface SessionRecord {
  id: string;
  userId: string;
  state: SessionState;
  createdAt: number;
  /** Last admission (connect or auth refresh). */
  lastSeenAt: number;
  /** After this the session is expired (checked at admission and every heartbeat). */
  expiresAt: number;
  /** When it was revoked or found expired. */
  endedAt: number | null;
  /** Why it ended (`expired`, or the reason given to revoke). */
  reason: string | null;
}

export interface SessionsOptions {
  /** Session lifetime. A working day plus margin: users sign in once a day. @default 86_400_000 (24 h) */
  ttlMs?: number;
  /** Extend `expiresAt` to now + ttl on every admission (connect, auth refresh). @default false */
  sliding?: boolean;
}

export type RevokeTarget = string | { userId: string };

export interface SessionFilter {
  userId?: string;
  state?: SessionState;
}

/** The host's view: `tandem.sessions`. */
export interface Sessions {
  get(id: string): Promise<SessionRecord | undefined>;
  /** Sessions of one user, or all; optionally in one state. Oldest first. */
  list(filter?: SessionFilter): Promise<SessionRecord[]>;
  /**
   * End a session, or every live session of a user: records become `revoked`, and their sockets on
   * every process are closed with SESSION_ENDED (`details.reason`). Resolves with the sessions revoked.
   */
  revoke(target: RevokeTarget, reason?: string): Promise<SessionRecord[]>;
}

/** What the server uses around connections. */
export interface SessionManager extends Sessions {
  /** The session id a principal's connection belongs to. */
  idFor(principal: Principal, connectionId: string): string;
  /** Create (pending) or resume a session; rejects with SESSION_ENDED when it ended. */
  admit(principal: Principal, sessionId: string): Promise<SessionRecord>;
  /** The socket is serving: pending → active. */
  activate(sessionId: string): Promise<void>;
  /** Mark expired and announce it. */
  expire(sessionId: string): Promise<void>;
}

export function resolveSessionsOptions(options: SessionsOptions | undefined): Required<SessionsOptions> {
  const ttlMs = options?.ttlMs ?? 86_400_000;
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TandemError(
      ErrorCode.INVALID_CONFIG,
      'invalid option sessions.ttlMs: must be a positive number',
      {
        option: 'sessions.ttlMs',
      },
    );
  }
  return { ttlMs, sliding: options?.sliding === true };
}

const USER_INDEX = (userId: string) => `@user/${encodeURIComponent(userId)}`;
/** Every session id → user id, for listing by state across users. */
const ALL_INDEX = '@all';
const LIVE: ReadonlySet<SessionState> = new Set(['pending', 'active']);

export function ended(reason: string, sessionId: string): TandemError {
  return new TandemError(ErrorCode.SESSION_ENDED, `session ${reason}`, { reason, sessionId });
}

type ShareDoc = {
  data: unknown;
  type: unknown;
  fetch(cb: (e?: unknown) => void): void;
  create(data: unknown, type: string, cb: (e?: unknown) => void): void;
  submitOp(op: unknown, cb: (e?: unknown) => void): void;
  destroy(): void;
};

const promise = (run: (cb: (e?: unknown) => void) => void) =>
  new Promise<void>((resolve, reject) => run((e) => (e ? reject(e) : resolve())));

/**
 * @param backend the ShareDB backend; `trust` lets its server-side agent write the reserved collection
 * @param announce publishes the ended session ids (and, for a user's revocation, the user id) to every process
 */
export function createSessionManager(
  backend: ShareDB,
  trust: (agent: object) => void,
  options: Required<SessionsOptions>,
  announce: (sessionIds: string[], reason: string, userId?: string) => Promise<void>,
  now: () => number = Date.now,
): SessionManager {
  const connection = backend.connect() as unknown as { agent: object; get(c: string, id: string): ShareDoc };
  trust(connection.agent);

  /** Fresh data of one record document (documents are not kept: sessions are many). */
  const read = async <T>(id: string): Promise<T | undefined> => {
    const doc = connection.get(SESSIONS_COLLECTION, id);
    try {
      await promise((cb) => doc.fetch(cb));
      return doc.type === null || doc.type === undefined ? undefined : (doc.data as T);
    } finally {
      doc.destroy();
    }
  };

  /**
   * Create the document, or apply `op(current)` to it. ShareDB transforms our op over concurrent
   * ones (writers on other processes), and a create race falls back to an op.
   */
  const write = async (id: string, create: Doc, op: (current: Doc) => JSONOp): Promise<void> => {
    const doc = connection.get(SESSIONS_COLLECTION, id);
    try {
      await promise((cb) => doc.fetch(cb));
      if (doc.type === null || doc.type === undefined) {
        try {
          await promise((cb) => doc.create(create, tandemType.uri, cb));
          return;
        } catch (error) {
          if ((error as { code?: string }).code !== 'ERR_DOC_ALREADY_CREATED') throw error;
          await promise((cb) => doc.fetch(cb));
        }
      }
      const change = op(doc.data as Doc);
      if (change !== null) await promise((cb) => doc.submitOp(change, cb));
    } catch (error) {
      throw TandemError.from(error, ErrorCode.STORAGE_UNAVAILABLE);
    } finally {
      doc.destroy();
    }
  };

  const index = (key: string, sessionId: string, value: string) =>
    write(key, { sessions: { [sessionId]: value } }, (current) => {
      const sessions = (current as { sessions?: Record<string, string> }).sessions ?? {};
      return sessionId in sessions ? null : insert(['sessions', sessionId], value);
    });

  /** Set fields of a record (by replacement: concurrent writers of one field, last one wins). */
  const update = (record: SessionRecord, fields: Partial<SessionRecord>) =>
    write(record.id, { ...record, ...fields } as unknown as Doc, (current) => {
      let op: JSONOp = null;
      const stored = current as unknown as Record<string, Doc>;
      for (const [key, value] of Object.entries(fields)) {
        op = compose(op, set([key], value as Doc, stored[key]));
      }
      return op;
    });

  /** The stored record, with an expiry that passed applied (and persisted + announced). */
  const current = async (id: string): Promise<SessionRecord | undefined> => {
    const record = await read<SessionRecord>(id);
    if (record !== undefined && LIVE.has(record.state) && record.expiresAt <= now()) {
      await expire(id, record);
      return { ...record, state: 'expired', endedAt: now(), reason: 'expired' };
    }
    return record;
  };

  const expire = async (id: string, known?: SessionRecord): Promise<void> => {
    const record = known ?? (await read<SessionRecord>(id));
    if (record === undefined || !LIVE.has(record.state)) return;
    await update(record, { state: 'expired', endedAt: now(), reason: 'expired' });
    await announce([id], 'expired');
  };

  const list = async (filter: SessionFilter = {}): Promise<SessionRecord[]> => {
    const ids = Object.keys(
      (
        await read<{ sessions: Record<string, string> }>(
          filter.userId === undefined ? ALL_INDEX : USER_INDEX(filter.userId),
        )
      )?.sessions ?? {},
    );
    const records = await Promise.all(ids.map(current));
    return records
      .filter(
        (r): r is SessionRecord =>
          r !== undefined && (filter.state === undefined || r.state === filter.state),
      )
      .sort((a, b) => a.createdAt - b.createdAt);
  };

  return {
    idFor: (principal, connectionId) =>
      typeof principal.sessionId === 'string' && principal.sessionId !== ''
        ? principal.sessionId
        : connectionId,

    async admit(principal, sessionId) {
      const record = await current(sessionId);
      const at = now();
      if (record === undefined) {
        const created: SessionRecord = {
          id: sessionId,
          userId: principal.id,
          state: 'pending',
          createdAt: at,
          lastSeenAt: at,
          expiresAt: at + options.ttlMs,
          endedAt: null,
          reason: null,
        };
        await write(sessionId, created as unknown as Doc, () => null);
        await Promise.all([
          index(USER_INDEX(principal.id), sessionId, '1'),
          index(ALL_INDEX, sessionId, principal.id),
        ]);
        return created;
      }
      if (!LIVE.has(record.state)) throw ended(record.reason ?? record.state, sessionId);
      // A session id belongs to one user: a token naming someone else's session gets nothing.
      if (record.userId !== principal.id) throw ended('revoked', sessionId);
      const fields: Partial<SessionRecord> = { lastSeenAt: at };
      if (options.sliding) fields.expiresAt = at + options.ttlMs;
      await update(record, fields);
      return { ...record, ...fields };
    },

    async activate(sessionId) {
      const record = await read<SessionRecord>(sessionId);
      if (record?.state === 'pending') await update(record, { state: 'active' });
    },

    expire: (sessionId) => expire(sessionId),
    get: current,
    list,

    async revoke(target, reason = 'revoked') {
      const records =
        typeof target === 'string'
          ? [await current(target)].filter((r): r is SessionRecord => r !== undefined)
          : await list({ userId: target.userId });
      const live = records.filter((r) => LIVE.has(r.state));
      const at = now();
      await Promise.all(live.map((r) => update(r, { state: 'revoked', endedAt: at, reason })));
      // Announced even when nothing was stored as live: a socket admitted a moment ago still closes.
      if (typeof target === 'string') await announce([target], reason);
      else
        await announce(
          live.map((r) => r.id),
          reason,
          target.userId,
        );
      return live.map((r) => ({ ...r, state: 'revoked' as const, endedAt: at, reason }));
    },
  };
}

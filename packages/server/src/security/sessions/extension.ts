/**
 * Sessions as a built-in extension: an ended session is refused at the upgrade, a principal's
 * session is admitted before its socket is served and on each token refresh (created, resumed or
 * refused), activated once served, and ended by the heartbeat when it expires. Ending a session is
 * published to this extension on every process, and each closes its own sockets of it. The host's
 * `tandem.sessions` is `handle()`: revocations are audited and sent as `session.revoked` webhooks.
 */
import type { Extension, ExtensionConnection, ExtensionContext } from '../../extensions/extension';
import type { Audit } from '../audit';
import { createSessionManager, ended, type SessionManager, type Sessions } from './records';

/** How many ended sessions `connected` remembers (a revocation racing a connect is milliseconds). */
const MAX_ENDED_LATELY = 10_000;

/** What a socket's session is, as far as the heartbeat needs it. */
interface LiveSession {
  id: string;
  expiresAt: number;
}

/** Published when sessions end: their sockets close on whichever process holds them. */
interface EndedSessions {
  sessionIds: string[];
  /** Every session of this user (a user's revocation). */
  userId?: string;
  reason: string;
}

function isEndedSessions(data: unknown): data is EndedSessions {
  const m = data as Partial<EndedSessions> | null;
  return Array.isArray(m?.sessionIds) && typeof m.reason === 'string';
}

export interface SessionsServer {
  audit: Audit;
  /** Lets the records' server-side agent write the reserved collection (conflicts' guard). */
  trust(agent: object): void;
}

export interface SessionsExtension extends Extension {
  /** The host's view (`tandem.sessions`), once installed. */
  handle(): Sessions;
}

export function sessionsExtension(server: SessionsServer): SessionsExtension {
  let context: ExtensionContext | undefined;
  let manager: SessionManager | undefined;
  /** The session each admitted socket belongs to (principals with a `sessionId` only). */
  const live = new WeakMap<ExtensionConnection, LiveSession>();
  /**
   * Sessions ended on any process lately, with why: a socket admitted before the end but served
   * after it (another extension's `admit` still running) is not among the served sockets `end`
   * closes, so `connected` checks here. Bounded: the oldest are forgotten first.
   */
  const endedLately = new Map<string, string>();

  const records = (): SessionManager => {
    if (manager === undefined) throw new Error('sessions are not installed yet');
    return manager;
  };
  const warn = (what: string) => (error: unknown) =>
    context?.logger.warn(`could not ${what} a session`, { error: String(error) });

  /** Close this process's sockets of ended sessions (a session id, a connection id, or a user). */
  const end = ({ sessionIds, reason, userId }: EndedSessions): void => {
    const wanted = new Set(sessionIds);
    for (const id of sessionIds) {
      endedLately.delete(id);
      endedLately.set(id, reason);
    }
    for (const id of endedLately.keys()) {
      if (endedLately.size <= MAX_ENDED_LATELY) break;
      endedLately.delete(id);
    }
    for (const connection of context?.connections() ?? []) {
      const sessionId = live.get(connection)?.id ?? connection.connectionId;
      if (wanted.has(sessionId) || wanted.has(connection.connectionId) || connection.principal.id === userId)
        connection.fail(ended(reason, sessionId));
    }
  };

  const handle: Sessions = {
    get: (id) => records().get(id),
    list: (filter) => records().list(filter),
    async revoke(target, reason) {
      const revoked = await records().revoke(target, reason);
      for (const record of revoked) {
        server.audit.record('session_revoked', ended(record.reason ?? 'revoked', record.id), {
          userId: record.userId,
        });
        context?.webhook('session.revoked', {
          sessionId: record.id,
          userId: record.userId,
          reason: record.reason,
          revokedAt: record.endedAt,
        });
      }
      return revoked;
    },
  };

  return {
    name: 'sessions',
    install(ctx) {
      context = ctx;
      manager = createSessionManager(
        ctx.backend,
        server.trust,
        ctx.options.sessions,
        (sessionIds, reason, userId) =>
          ctx.publish({
            sessionIds,
            reason,
            ...(userId === undefined ? {} : { userId }),
          } satisfies EndedSessions),
      );
    },
    // An ended session is refused at the upgrade, before a socket exists.
    async authenticated(principal) {
      if (typeof principal.sessionId !== 'string') return;
      const record = await records().get(principal.sessionId);
      if (record !== undefined && (record.state === 'revoked' || record.state === 'expired'))
        throw ended(record.reason ?? record.state, record.id);
    },
    async admit(connection, principal) {
      if (typeof principal.sessionId !== 'string') return;
      const record = await records().admit(principal, principal.sessionId);
      live.set(connection, { id: record.id, expiresAt: record.expiresAt });
    },
    connected(connection) {
      const session = live.get(connection);
      if (session === undefined) return;
      const endedWhy = endedLately.get(session.id);
      if (endedWhy !== undefined) {
        live.delete(connection);
        connection.fail(ended(endedWhy, session.id));
        return;
      }
      records().activate(session.id).catch(warn('activate'));
    },
    heartbeat(connection, now) {
      const session = live.get(connection);
      if (session === undefined || session.expiresAt > now) return;
      live.delete(connection);
      records().expire(session.id).catch(warn('expire'));
      connection.fail(ended('expired', session.id));
    },
    event(data) {
      if (isEndedSessions(data)) end(data);
    },
    handle: () => handle,
  };
}

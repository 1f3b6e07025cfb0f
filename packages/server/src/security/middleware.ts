/**
 * ShareDB middleware that connects the hooks, the principal, authorship and presence to the engine.
 * Each step is one named action; the principal rides on `agent.custom.principal`, so the host's
 * own middleware (added through `tandem.backend.use`) sees it too.
 */
import { isReservedCollection } from '@tandem/conflicts';
import { ErrorCode, type OpAuthor, type PresenceValue, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import { installLiveAccess, trackAgent } from '../extensions/live-access';
import type { AccessAction } from '../hooks';
import type { Logger } from '../logger';
import type { HookRunner } from '../run-hook';
import { slimAgent } from '../sharedb/agent';
import { connectionOf, principalOf } from '../sharedb/agent-custom';
import { AgentStream } from '../transport/connection';
import { authorOf } from '../transport/frames';
import { channelDoc } from '../transport/shapes';
import { createAccessCheck } from './access';
import { newClientId } from './client-ids';
import { userInfo } from './principal';
import { filterQueries, setReader } from './read-filter';

type Next = (error?: unknown) => void;

function done(next: Next, promise: Promise<unknown>): void {
  promise.then(
    () => next(),
    (error: unknown) => next(TandemError.from(error)),
  );
}

export function installMiddleware(backend: ShareDB, hooks: HookRunner, logger?: Logger): void {
  const use = backend.use.bind(backend) as (action: string, fn: (context: any, next: Next) => void) => void;

  // connect: bind the socket's session (principal, connection) to its agent.
  use('connect', (context, next) => {
    if (context.stream instanceof AgentStream) {
      // Before anything writes to the agent: `custom` is one of the maps slimmed while empty.
      slimAgent(context.agent);
      context.agent.custom.connection = context.stream.connection;
      context.agent.custom.principal = context.stream.connection.principal;
      // The id ShareDB hands the client (its ops' `src`): unguessable (security/client-ids.ts).
      context.agent.clientId = newClientId();
      // The session @tandem/history stamps on ops and @tandem/conflicts ties locks to.
      context.agent.custom.sessionId = context.stream.connection.id;
      // From here on (not only once `listen` returns) the connection knows its agent: trackAgent's
      // close listener finds it there.
      context.stream.connection.agent = context.agent;
      trackAgent(backend, context.agent, context.stream);
    }
    next();
  });

  const check = createAccessCheck(hooks);
  const authorize = async (
    agent: unknown,
    action: AccessAction,
    collection: string,
    id: string,
    op?: unknown,
  ) => {
    const principal = principalOf(agent);
    // Server-side agents (backend.connect) have no principal and are trusted.
    if (principal !== undefined) await check(principal, action, collection, id, op);
  };

  // submit: may this principal create, change (at these paths) or delete this document?
  use('submit', (context, next) => {
    if (!hooks.has('authorize')) return next();
    const op = context.op as { create?: unknown; del?: unknown };
    const action: AccessAction =
      op.create !== undefined ? 'create' : op.del !== undefined ? 'delete' : 'write';
    done(next, authorize(context.agent, action, context.collection, context.id, context.op));
  });

  /** The ids of `collection` this agent may read, in order. */
  const readable = async (agent: unknown, collection: string, ids: readonly string[]) => {
    const allowed = await Promise.all(
      ids.map((id) =>
        authorize(agent, 'read', collection, id).then(
          () => true,
          () => false,
        ),
      ),
    );
    return ids.filter((_, i) => allowed[i]);
  };

  // receive: every message as ShareDB will act on it (transport/shapes.ts rebuilt it): Tandem's
  // reserved collections closed, and the reads that skip ShareDB's
  // `readSnapshots` authorized here — ops fetched from a version (`f`/`s` with `v`, bulk with
  // versions), snapshots of past versions (`nf`, `nt`), the documents a query resubscribe names in
  // `r` (ShareDB fetches them and their ops, whatever the query matches) and presence channels.
  use('receive', (context, next) => {
    const principal = principalOf(context.agent);
    const data = context.data as Record<string, unknown> | null;
    // Server-side agents (backend.connect) have no principal and are trusted.
    if (principal === undefined || typeof data !== 'object' || data === null) return next();
    const refused = reservedRefusal(data);
    if (refused !== undefined) return next(refused);
    if (!hooks.has('authorize')) return next();
    // Ops and everything else pass synchronously: only these reads wait for the hook.
    const pending = checkReceived(context.agent, data);
    if (pending === undefined) return next();
    done(next, pending);
  });

  const checkReceived = (agent: unknown, data: Record<string, unknown>): Promise<unknown> | undefined => {
    const { a, c, d } = data as { a: string; c: string; d: string };
    switch (a) {
      case 'f':
      case 's':
        // Without a version ShareDB reads the snapshot through `readSnapshots`.
        return data.v === null ? undefined : authorize(agent, 'read', c, d);
      case 'bf':
      case 'bs':
        // Ids alone are snapshot reads (`readSnapshots`, refused one by one); versions are op reads.
        return Array.isArray(data.b)
          ? undefined
          : Promise.all(Object.keys(data.b as object).map((id) => authorize(agent, 'read', c, id)));
      case 'qf':
      case 'qs':
        return Array.isArray(data.r) ? keepReadableResults(agent, c, data) : undefined;
      case 'nf':
        return authorize(agent, data.v === null ? 'read' : 'history', c, d);
      case 'nt':
        return authorize(agent, data.ts === null ? 'read' : 'history', c, d);
      case 'ps':
      case 'pr': {
        const doc = channelDoc(data.ch as string);
        return doc === undefined
          ? Promise.reject(notADocumentChannel(data.ch as string))
          : authorize(agent, 'read', doc.collection, doc.id);
      }
      default:
        return undefined;
    }
  };

  /** A query resubscribe's known results: ShareDB fetches each (and its ops); keep the readable. */
  const keepReadableResults = async (agent: unknown, collection: string, data: Record<string, unknown>) => {
    const entries = data.r as [string, number | null][];
    const keep = new Set(
      await readable(
        agent,
        collection,
        entries.map(([id]) => id),
      ),
    );
    data.r = entries.filter(([id]) => keep.has(id));
  };

  // query: results hold only documents this principal may read (also when the query is polled
  // again for a subscription), rather than refusing the whole query over one of them.
  use('query', (context, next) => {
    if (!hooks.has('authorize') || principalOf(context.agent) === undefined) return next();
    if (!isRecord(context.options)) {
      return next(new TandemError(ErrorCode.INVALID_MESSAGE, 'query options must be an object'));
    }
    const agent = context.agent;
    const collection = context.collection as string;
    setReader(context.options, (ids) => readable(agent, collection, ids));
    next();
  });
  if (hooks.has('authorize')) backend.db = filterQueries(backend.db);

  // Live subscriptions are re-authorized when the host says roles changed (live-access.ts).
  installLiveAccess(
    backend,
    (agent, collection, id) => authorize(agent, 'read', collection, id),
    (error) => logger?.warn('access refresh failed', { error: String(error) }),
  );

  // readSnapshots: may this principal read each document? Refused ones are rejected one by one.
  use('readSnapshots', (context, next) => {
    if (!hooks.has('authorize') || principalOf(context.agent) === undefined) return next();
    const checks = (context.snapshots as { id: string }[]).map((snapshot) =>
      authorize(context.agent, 'read', context.collection, snapshot.id).catch((error: unknown) => {
        context.rejectSnapshotRead(snapshot, TandemError.from(error, ErrorCode.FORBIDDEN));
      }),
    );
    done(next, Promise.all(checks));
  });

  // commit: validate the resulting snapshot, then stamp the author on the op (stored with it and,
  // unlike `op.m`, kept when ShareDB publishes it).
  use('commit', (context, next) => {
    const principal = principalOf(context.agent);
    const stamp = () => {
      if (principal !== undefined) {
        const author: OpAuthor = { id: principal.id, name: userInfo(principal).name };
        context.op.au = author;
      }
    };
    if (!hooks.has('validate') || principal === undefined) {
      stamp();
      return next();
    }
    const payload = {
      principal,
      collection: context.collection,
      id: context.id,
      op: context.op,
      snapshot: context.snapshot.data,
      version: context.op.v,
    };
    done(next, hooks.call('validate', payload, ErrorCode.SCHEMA_VIOLATION).then(stamp));
  });

  // afterWrite: the op is durable; tell the host.
  use('afterWrite', (context, next) => {
    hooks.notify('onCommit', {
      principal: principalOf(context.agent),
      collection: context.collection,
      id: context.id,
      op: context.op,
      version: context.op.v,
      snapshot: context.snapshot?.data,
    });
    next();
  });

  // op: remember who wrote an op on its way out, keyed by its payload (see transport/frames.ts).
  use('op', (context, next) => {
    const op = context.op as { op?: object; create?: object; au?: OpAuthor };
    const key = op.op ?? op.create;
    if (op.au !== undefined && key !== undefined) authorOf.set(key, op.au);
    next();
  });

  // receivePresence: the server, not the client, says who a cursor belongs to. Leaving (`p: null`)
  // is published on the document's channel too, so it is authorized like any presence, unless it
  // ends a presence that was allowed there: when a socket's presence subscription ends (it closed,
  // or refreshAccess cut it), ShareDB publishes the leave with the very request it last published.
  const allowedPresence = new WeakSet<object>();
  use('receivePresence', (context, next) => {
    const presence = context.presence as { p: unknown; c: string; d: string };
    const principal = principalOf(context.agent);
    if (principal === undefined || (presence.p === null && allowedPresence.has(presence))) return next();
    if (presence.p !== null) {
      const value = sanitisePresence(presence.p);
      if (value === undefined) {
        return next(new TandemError(ErrorCode.INVALID_MESSAGE, 'malformed presence', { reason: 'presence' }));
      }
      value.user = userInfo(principal);
      const rtt = connectionOf(context.agent)?.rtt;
      if (rtt !== undefined) value.rtt = rtt;
      presence.p = value;
    }
    if (!hooks.has('authorize')) {
      allowedPresence.add(presence);
      return next();
    }
    done(
      next,
      authorize(context.agent, 'presence', presence.c, presence.d).then(() => allowedPresence.add(presence)),
    );
  });
}

/** Tandem's own records (sessions, versions, locks, conflicts) are read and written through the server only. */
function reservedRefusal(data: Record<string, unknown>): TandemError | undefined {
  const collection =
    typeof data.c === 'string'
      ? data.c
      : typeof data.ch === 'string'
        ? channelDoc(data.ch)?.collection
        : undefined;
  if (collection === undefined || !isReservedCollection(collection)) return undefined;
  return new TandemError(ErrorCode.FORBIDDEN, `${collection} is not open to clients`, { collection });
}

function notADocumentChannel(channel: string): TandemError {
  return new TandemError(ErrorCode.FORBIDDEN, 'presence channels are those of documents (collection.id)', {
    channel,
    reason: 'channel',
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const STATUSES = new Set(['online', 'away', 'editing', 'commenting', 'idle']);
/** Longest thread id a typing indicator may name. */
const MAX_TYPING_THREAD = 128;

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Keep only the fields Tandem defines, with the right shapes; undefined when unusable. */
function sanitisePresence(raw: unknown): PresenceValue | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const p = raw as Record<string, unknown>;
  if (!Array.isArray(p.path) || !p.path.every((k) => typeof k === 'string' || typeof k === 'number'))
    return undefined;
  const value: PresenceValue = {
    path: p.path as (string | number)[],
    status:
      typeof p.status === 'string' && STATUSES.has(p.status)
        ? (p.status as PresenceValue['status'])
        : 'online',
    user: { id: '', name: '', colour: '' },
  };
  if (p.offset !== undefined) {
    if (!isOffset(p.offset)) return undefined;
    value.offset = p.offset;
  }
  if (p.typing !== undefined) {
    const threadId = isRecord(p.typing) ? p.typing.threadId : null;
    if (threadId === undefined) value.typing = {};
    else if (typeof threadId === 'string' && threadId.length <= MAX_TYPING_THREAD)
      value.typing = { threadId };
    else return undefined;
  }
  if (p.selections !== undefined) {
    if (!Array.isArray(p.selections) || p.selections.length > 100) return undefined;
    const selections = p.selections as { anchor?: unknown; head?: unknown }[];
    if (
      !selections.every((s) => typeof s === 'object' && s !== null && isOffset(s.anchor) && isOffset(s.head))
    ) {
      return undefined;
    }
    value.selections = selections.map((s) => ({ anchor: s.anchor as number, head: s.head as number }));
  }
  return value;
}

/**
 * ShareDB middleware that connects the hooks, the principal, authorship and presence to the engine.
 * Each step is one named action; the principal rides on `agent.custom.principal`, so the host's
 * own middleware (added through `tandem.backend.use`) sees it too.
 */
import { ErrorCode, type OpAuthor, type PresenceValue, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import { createAccessCheck } from './access';
import { AgentStream, type Connection } from './connection';
import { authorOf } from './fanout';
import type { AccessAction, Principal } from './hooks';
import { userInfo } from './principal';
import type { HookRunner } from './run-hook';

type Next = (error?: unknown) => void;

interface AgentLike {
  custom: { principal?: Principal; connection?: Connection };
}

function principalOf(agent: unknown): Principal | undefined {
  return (agent as AgentLike | undefined)?.custom?.principal;
}

function connectionOf(agent: unknown): Connection | undefined {
  return (agent as AgentLike | undefined)?.custom?.connection;
}

function done(next: Next, promise: Promise<unknown>): void {
  promise.then(
    () => next(),
    (error: unknown) => next(TandemError.from(error)),
  );
}

export function installMiddleware(backend: ShareDB, hooks: HookRunner): void {
  const use = backend.use.bind(backend) as (action: string, fn: (context: any, next: Next) => void) => void;

  // connect: bind the socket's session (principal, connection) to its agent.
  use('connect', (context, next) => {
    if (context.stream instanceof AgentStream) {
      context.agent.custom.connection = context.stream.connection;
      context.agent.custom.principal = context.stream.connection.principal;
      // The session @tandem/history stamps on ops and @tandem/conflicts ties locks to.
      context.agent.custom.sessionId = context.stream.connection.id;
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

  // receive: a presence subscription shows who is where in a document: it takes the right to read it.
  use('receive', (context, next) => {
    const data = context.data as { a?: unknown; ch?: unknown };
    if (data?.a !== 'ps' || !hooks.has('authorize') || typeof data.ch !== 'string') return next();
    // ShareDB's presence channel of a document is `collection.id`.
    const dot = data.ch.indexOf('.');
    if (dot < 0) return next();
    done(next, authorize(context.agent, 'read', data.ch.slice(0, dot), data.ch.slice(dot + 1)));
  });

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

  // op: remember who wrote an op on its way out, keyed by its payload (see fanout.ts).
  use('op', (context, next) => {
    const op = context.op as { op?: object; create?: object; au?: OpAuthor };
    const key = op.op ?? op.create;
    if (op.au !== undefined && key !== undefined) authorOf.set(key, op.au);
    next();
  });

  // receivePresence: the server, not the client, says who a cursor belongs to.
  use('receivePresence', (context, next) => {
    const presence = context.presence as { p: unknown };
    const principal = principalOf(context.agent);
    if (presence.p === null || principal === undefined) return next();
    const value = sanitisePresence(presence.p);
    if (value === undefined) {
      return next(new TandemError(ErrorCode.INVALID_MESSAGE, 'malformed presence', { reason: 'presence' }));
    }
    value.user = userInfo(principal);
    const rtt = connectionOf(context.agent)?.rtt;
    if (rtt !== undefined) value.rtt = rtt;
    presence.p = value;
    if (!hooks.has('authorize')) return next();
    const { c, d } = context.presence as { c: string; d: string };
    done(next, authorize(context.agent, 'presence', c, d));
  });
}

const STATUSES = new Set(['online', 'away', 'editing', 'idle']);

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

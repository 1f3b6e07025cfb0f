/**
 * Authorship stamping: the `commit` middleware that writes author, session, time and the client's
 * message/intent into `op.m`, and decides milestone snapshots.
 *
 * Why `commit`: ShareDB sets `op.m = { ts }` before `apply`, stores `m` with the op in `db.commit`,
 * then sets `op.m = undefined` before publishing and before `afterWrite`. So `commit` is the last
 * step where what we write is persisted. The op's author reaches other clients separately (the
 * server stamps `op.au`, which ShareDB publishes).
 *
 * Client intent travels in the submit message's `x.source` (a stock ShareDB client sends it when
 * `doc.submitSource = true` and the op is submitted with `{ source: { message, intent } }`).
 */
import type { OpAuthor } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { ResolvedHistoryOptions } from './options';

type Next = (error?: unknown) => void;

interface PrincipalLike {
  id?: unknown;
  name?: unknown;
}

/** The part of ShareDB's SubmitRequest the middleware touches. */
interface CommitContext {
  agent: { clientId?: string; custom?: { principal?: PrincipalLike; sessionId?: unknown } } | null;
  op: { m?: Record<string, unknown> };
  extra?: { source?: unknown } | null;
  snapshot: { v: number };
  saveMilestoneSnapshot: boolean | null;
}

/** Author of the request: the authenticated principal, else the agent's client id. */
export function authorOf(agent: CommitContext['agent']): OpAuthor | undefined {
  const principal = agent?.custom?.principal;
  if (principal !== undefined && typeof principal.id === 'string') {
    return { id: principal.id, name: typeof principal.name === 'string' ? principal.name : principal.id };
  }
  if (typeof agent?.clientId === 'string') return { id: agent.clientId, name: agent.clientId };
  return undefined;
}

function text(value: unknown, max: number): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, max) : undefined;
}

/** Only the fields history defines are copied from the client's source; it cannot forge author or ts. */
export function stamp(context: CommitContext, options: ResolvedHistoryOptions): void {
  if (context.op.m === undefined) context.op.m = {};
  const m = context.op.m;
  const author = authorOf(context.agent);
  if (author !== undefined) m.author = author;
  const session = context.agent?.custom?.sessionId;
  m.session = typeof session === 'string' ? session : context.agent?.clientId;
  const source = context.extra?.source;
  if (typeof source === 'object' && source !== null) {
    const s = source as Record<string, unknown>;
    const message = text(s.message, options.maxMessageLength);
    const intent = text(s.intent, options.maxMessageLength);
    if (message !== undefined) m.message = message;
    if (intent !== undefined) m.intent = intent;
    if (Number.isInteger(s.undoes)) m.undoes = s.undoes;
    if (Number.isInteger(s.revertTo)) m.revertTo = s.revertTo;
  }
  // snapshot.v is already the version after this op; retries re-run commit and recompute it.
  context.saveMilestoneSnapshot = context.snapshot.v % options.milestoneInterval === 0;
}

export function installAuthorship(backend: ShareDB, options: ResolvedHistoryOptions): void {
  const use = backend.use.bind(backend) as (
    action: string,
    fn: (context: CommitContext, next: Next) => void,
  ) => void;
  use('commit', (context, next) => {
    stamp(context, options);
    next();
  });
}

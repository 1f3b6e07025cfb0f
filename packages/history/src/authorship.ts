/**
 * Authorship stamping: the `commit` middleware that writes author, session, time and intent into
 * `op.m`, and decides milestone snapshots.
 *
 * Why `commit`: ShareDB sets `op.m = { ts }` before `apply`, stores `m` with the op in `db.commit`,
 * then sets `op.m = undefined` before publishing and before `afterWrite`. So `commit` is the last
 * step where what we write is persisted. The op's author reaches other clients separately (the
 * server stamps `op.au`, which ShareDB publishes).
 *
 * Two sources, never mixed:
 * - History's own submits (revert, undo, fork, merge) carry a `ServerStamp`, kept by the agent that
 *   submits in a map only this package holds: the intent and the versions it refers to
 *   (`undoes`, `revertTo`), which undo and browse trust.
 * - A client may say why it made an edit in the submit message's `x.source` (a stock ShareDB client
 *   sends it when `doc.submitSource = true` and the op is submitted with `{ source: { message,
 *   intent } }`). Only `message` and `intent` are kept, as plain text of bounded length, stored
 *   next to the author the server stamped; an intent naming one of history's own is dropped.
 */
import type { TandemAgent } from '@tandem/conflicts';
import type { OpAuthor } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { ResolvedHistoryOptions } from './options';

type Next = (error?: unknown) => void;

/** Intents history writes itself; clients cannot claim them. */
export const SERVER_INTENTS = ['revert', 'undo', 'fork', 'merge'] as const;
export type ServerIntent = (typeof SERVER_INTENTS)[number];

/** What one of history's own submits stamps on its op (never read from a client). */
export interface ServerStamp {
  intent: ServerIntent;
  message?: string;
  /** For undo ops: the version of the op they undo. */
  undoes?: number;
  /** For reverts: the version the document was reverted to. */
  revertTo?: number;
}

/** The stamps of history's own submits, by the submitting agent. */
export type ServerStamps = WeakMap<object, ServerStamp>;

/** The part of ShareDB's SubmitRequest the middleware touches. */
interface CommitContext {
  agent: (Omit<TandemAgent, 'custom'> & { custom?: TandemAgent['custom'] }) | null;
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

/**
 * C0/C1 controls (but tab and newline) and bidirectional overrides/isolates/marks: text that can
 * make a message render as something else than it says.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Plain text of at most `max` code points (lone surrogates replaced), or undefined when empty. */
export function plainText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clean = value.replace(LONE_SURROGATE, '\uFFFD').replace(UNSAFE, '').trim();
  if (clean === '') return undefined;
  let end = 0;
  for (let count = 0; count < max && end < clean.length; count++) {
    end += (clean.codePointAt(end) as number) > 0xffff ? 2 : 1;
  }
  return clean.slice(0, end);
}

function isServerIntent(intent: string): boolean {
  return (SERVER_INTENTS as readonly string[]).includes(intent.toLowerCase());
}

export function stamp(context: CommitContext, options: ResolvedHistoryOptions, stamps: ServerStamps): void {
  if (context.op.m === undefined) context.op.m = {};
  const m = context.op.m;
  const author = authorOf(context.agent);
  if (author !== undefined) m.author = author;
  const session = context.agent?.custom?.sessionId;
  m.session = typeof session === 'string' ? session : context.agent?.clientId;
  const own = context.agent === null ? undefined : stamps.get(context.agent);
  const source = context.extra?.source;
  const s = (own ?? (typeof source === 'object' && source !== null ? source : {})) as Record<string, unknown>;
  const message = plainText(s.message, options.maxMessageLength);
  const intent = plainText(s.intent, options.maxMessageLength);
  if (message !== undefined) m.message = message;
  if (own !== undefined) {
    m.intent = own.intent;
    if (own.undoes !== undefined) m.undoes = own.undoes;
    if (own.revertTo !== undefined) m.revertTo = own.revertTo;
  } else if (intent !== undefined && !isServerIntent(intent)) {
    m.intent = intent;
  }
  // snapshot.v is already the version after this op; retries re-run commit and recompute it.
  context.saveMilestoneSnapshot = context.snapshot.v % options.milestoneInterval === 0;
}

export function installAuthorship(
  backend: ShareDB,
  options: ResolvedHistoryOptions,
  stamps: ServerStamps,
): void {
  const use = backend.use.bind(backend) as (
    action: string,
    fn: (context: CommitContext, next: Next) => void,
  ) => void;
  use('commit', (context, next) => {
    stamp(context, options, stamps);
    next();
  });
}

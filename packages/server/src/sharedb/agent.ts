/**
 * The fan-out fast path and the agent's maps, as patches of ShareDB's Agent (the fence: every
 * override of a private Agent method lives here; see fence.ts).
 */

import { ErrorCode, isTandemError, type TandemError } from '@tandem/protocol';
import type { PublishedOp } from '../transport/frames';
import { toReplyError } from './errors';
import { fastMapKind } from './fast-map';
import { type SubscriptionStream, subscribeToDocStream } from './subscription-stream';

/**
 * The op lists ShareDB hands to `Agent._sendOps` in submit replies (see `installSubmitReplies`).
 * Fetch replies are not marked: a client that dropped an op as out of order fetches it, and must
 * get it.
 */
const submitReplies = new WeakSet<object>();

interface SubmitRequestEnd {
  index: string;
  id: string;
  projection?: unknown;
  ops?: PublishedOp[];
  agent: { _sendOps(collection: string, id: string, ops: PublishedOp[]): void };
}

/**
 * A submit's reply carries the ops the submitted one was transformed over, then the ack: mark those
 * lists (at `afterWrite`) so `sendMissingOps` may skip what the subscription already delivered.
 *
 * ShareDB acks an op resent after a reconnect that was already committed (its ack was lost with the
 * old socket) with the version it was committed at, but without the ops it had been transformed
 * over; the client, still at the version it sent, logs "Invalid version from server" and fetches.
 * Those ops are sent here first (at `submitRequestEnd`, just before the ack), as for any submit.
 * Not with a projection: ShareDB sanitizes submit replies for those, and its behaviour is kept.
 */
export function installSubmitReplies(backend: {
  use(action: 'afterWrite', fn: (request: { ops?: object }, next: () => void) => void): unknown;
  on(event: 'submitRequestEnd', listener: (error: unknown, request: SubmitRequestEnd) => void): unknown;
}): void {
  backend.use('afterWrite', (request, next) => {
    if (request.ops !== undefined) submitReplies.add(request.ops);
    next();
  });
  backend.on('submitRequestEnd', (error, request) => {
    if ((error as { code?: unknown } | undefined)?.code !== 'ERR_OP_ALREADY_SUBMITTED') return;
    const ops = request.ops;
    if (ops === undefined || ops.length === 0 || request.projection) return;
    submitReplies.add(ops);
    request.agent._sendOps(request.index, request.id, ops);
  });
}

/** Where the fast path hands an op: the connection behind the agent's stream (an AgentStream). */
export interface OpTarget {
  deliverOp(collection: string, id: string, op: PublishedOp): void;
}

/**
 * Ops a client was told failed with STORAGE_UNAVAILABLE, by `src:seq`: the store may have committed
 * them all the same (the failure was in the answer, not the write). ShareDB never sends a client its
 * own ops (the ack stands for them), so one of these that turns out committed (filled from the store,
 * or published when its author resends it) must reach its author like anyone else's op: a stock
 * ShareDB client rolled it back, and would otherwise find the next op a version ahead and fetch;
 * a Tandem client holding it takes it as its ack. Kept on the agent only after such a failure, at
 * most UNSURE_MAX (the oldest forgotten: then a stock client falls back to ShareDB's fetch).
 */
interface UnsureOps {
  tandemUnsure?: Set<string>;
  _src(): string;
}

const UNSURE_MAX = 64;

function rememberUnsure(agent: UnsureOps, request: Record<string, unknown>): void {
  agent.tandemUnsure ??= new Set();
  const unsure = agent.tandemUnsure;
  unsure.add(`${String(request.src ?? agent._src())}:${String(request.seq)}`);
  if (unsure.size > UNSURE_MAX) unsure.delete(unsure.values().next().value as string);
}

/** ShareDB's test, except for an op of this client's that it was told had failed. */
function isOwnOpUnlessUnsure(this: FastAgent, collection: string, op: PublishedOp): boolean {
  const unsure = this.tandemUnsure;
  if (unsure !== undefined && unsure.size > 0) {
    const key = `${String(op.src)}:${String(op.seq)}`;
    if (unsure.delete(key)) return false;
  }
  return shareDb(this)._isOwnOp.call(this, collection, op);
}

interface FastAgent extends UnsureOps {
  backend: { projections: Record<string, unknown>; middleware: Record<string, unknown[] | undefined> };
  stream: { connection: OpTarget };
  subscribedDocs: Record<string, Record<string, SubscriptionStream | undefined> | undefined>;
  _onOp(collection: string, id: string, op: PublishedOp, from?: SubscriptionStream): void;
  _isOwnOp(collection: string, op: PublishedOp): boolean;
  _sendOps(collection: string, id: string, ops: PublishedOp[]): void;
  _subscribeToStream: typeof subscribeToDocStream;
}

/** ShareDB's own methods: the Agent prototype's (the instance's are replaced below). */
const shareDb = (agent: FastAgent): FastAgent => Object.getPrototypeOf(agent);

/**
 * `from` is the doc subscription the op came through (undefined when a query subscription hands it
 * over): only those ops arrive in order (pubsub/ordered-delivery.ts), so only they extend the run a
 * submit reply may skip.
 */
function fastOnOp(
  this: FastAgent,
  collection: string,
  id: string,
  op: PublishedOp,
  from?: SubscriptionStream,
): void {
  if (this._isOwnOp(collection, op)) return;
  const backend = this.backend;
  if (backend.projections[collection] !== undefined || (backend.middleware.op?.length ?? 0) > 1) {
    shareDb(this)._onOp.call(this, collection, id, op);
    return;
  }
  if (from !== undefined && this.subscribedDocs[collection]?.[id] === from) {
    if (from.tandemTo !== undefined && op.v === from.tandemTo + 1) from.tandemTo = op.v;
    else from.tandemFrom = from.tandemTo = op.v;
  }
  this.stream.connection.deliverOp(collection, id, op);
}

function sendMissingOps(this: FastAgent, collection: string, id: string, ops: PublishedOp[]): void {
  const sendOps = shareDb(this)._sendOps;
  const stream = this.subscribedDocs[collection]?.[id];
  const from = stream?.tandemFrom;
  const to = stream?.tandemTo;
  if (from === undefined || to === undefined || !submitReplies.has(ops)) {
    sendOps.call(this, collection, id, ops);
    return;
  }
  const missing = ops.filter((op) => op.v < from || op.v > to);
  if (missing.length > 0) sendOps.call(this, collection, id, missing);
}

/**
 * The per-subscriber hot path. ShareDB's `Agent._onOp` defers every op per subscriber (a closure on
 * the next tick), copies it, runs the `op` middleware chain and builds a message — for each of N
 * subscribers. When nothing can change an op per agent (no projection on the collection, no `op`
 * middleware besides Tandem's own), none of that can differ between subscribers, so the op goes
 * straight to the socket's outbox as the shared frame: a WeakMap lookup and an array push.
 * Otherwise ShareDB's path runs unchanged.
 *
 * A submit's reply also carries every op the submitted one was transformed over (ShareDB sends them
 * so the client has them before the ack): O(room) ops per submit in a busy room, read back from
 * storage as copies the frame cache does not know. Those in the latest contiguous run this socket's
 * doc subscription delivered are already ahead of the ack in the same FIFO outbox and are skipped;
 * the rest (held behind a gap, not arrived yet) go with the reply, ahead of the ack, and arrive
 * later as duplicates the client ignores. The subscription delivers in version order
 * (pubsub/ordered-delivery.ts), so the client never dropped an op of that run as out of order.
 *
 * Ops it delivers skip `Agent.send`, so the backend's `'send'` event does not fire for them (documented
 * in the README).
 *
 * The replacements are shared functions, not closures per agent (idle memory per connection).
 */
export function installFastOpDelivery(agent: FastAgent): void {
  agent._onOp = fastOnOp;
  agent._isOwnOp = isOwnOpUnlessUnsure;
  agent._sendOps = sendMissingOps;
  agent._subscribeToStream = subscribeToDocStream;
}

/** The maps a fresh agent is built with, slimmed below (the fence checks each exists). */
export const AGENT_MAPS = [
  'subscribedDocs',
  'subscribedQueries',
  'subscribedPresences',
  'presenceSubscriptionSeq',
  'presenceRequests',
  'latestDocVersionStreams',
  'latestDocVersions',
  'protocol',
  'custom',
] as const;

/** A kind per map: V8 then sizes each by what it holds (see fastMapKind). */
const agentMapOf = Object.fromEntries(AGENT_MAPS.map((name) => [name, fastMapKind()])) as Record<
  (typeof AGENT_MAPS)[number],
  () => Record<string, unknown>
>;

/**
 * Swap a fresh agent's empty maps for fast ones (idle memory per connection). Run in the `connect`
 * middleware, before `custom` is written.
 */
export function slimAgent(agent: Record<string, unknown>): void {
  for (const name of AGENT_MAPS) {
    const map = agent[name];
    if (typeof map === 'object' && map !== null && Object.keys(map).length === 0) {
      agent[name] = agentMapOf[name]();
    }
  }
}

/** The connection behind an agent's stream, as error replies need it (transport/connection.ts). */
interface ReplyingConnection {
  wire(error: TandemError): TandemError;
  requestFailed(error: TandemError, request: Record<string, unknown>): void;
}

/** Field of a ShareDB error reply that carries the TandemError's details (stock clients ignore it). */
export const ERROR_DETAILS_FIELD = 'ed';

interface ReplyingAgent extends UnsureOps {
  stream: { connection: ReplyingConnection };
  _reply(request: Record<string, unknown>, error: unknown, message?: unknown): void;
}

function replyWithDetails(
  this: ReplyingAgent,
  request: Record<string, unknown>,
  shareError: unknown,
  message?: unknown,
): void {
  let error = toReplyError(shareError);
  if (isTandemError(error)) {
    const connection = this.stream.connection;
    const sent = connection.wire(error);
    if (sent.details !== undefined) request[ERROR_DETAILS_FIELD] = sent.details;
    connection.requestFailed(sent, request);
    if (request.a === 'op' && sent.code === ErrorCode.STORAGE_UNAVAILABLE) rememberUnsure(this, request);
    error = sent;
  }
  // ShareDB's own reply, from the Agent prototype (the instance's is this function).
  Object.getPrototypeOf(this)._reply.call(this, request, error, message);
}

/**
 * ShareDB replies to a failed request with `{ code, message }` only; the details a client needs
 * (the failing schema path, a limit, `retryAfterMs`) ride next to it in `ed`. A shared function,
 * not a closure per agent (idle memory per connection).
 */
export function carryErrorDetails(agent: ReplyingAgent): void {
  agent._reply = replyWithDetails;
}

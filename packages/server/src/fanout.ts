/**
 * Fan-out: encode each op once per codec and hand the same bytes to every subscribed socket, and
 * coalesce what a socket is owed into one frame per tick.
 *
 * ShareDB builds a fresh `{a:'op', …}` message per subscriber, but every copy shares the op's inner
 * `op` (or `create`) object, and a presence broadcast is the very same object for every subscriber.
 * Those objects key a WeakMap per wire format, so the second and later subscribers get a cached
 * frame: one WeakMap lookup, no encoding, no allocation. The cache dies with the op.
 */
import { AUTHOR_FIELD, type Codec, type Frame, type OpAuthor } from '@tandem/protocol';
import { fastMapKind } from './fast-map';
import { type SubscriptionStream, subscribeToDocStream } from './op-stream';
import { aliasOf } from './security/client-ids';

/**
 * A cached frame and the fields it was encoded from. The key object alone is not enough: projections
 * may deliver one op under several collection names, and ShareDB mutates a presence request in
 * place when its owner disconnects (`p = null`, `seq++`), so these are compared on every hit.
 */
interface CachedFrame {
  c: unknown;
  v: unknown;
  seq: unknown;
  p: unknown;
  /** The sender's id as encoded: its own, or the alias everyone else gets. */
  src: unknown;
  frame: Frame;
}

function matches(hit: CachedFrame, message: Record<string, unknown>, src: unknown): boolean {
  return (
    hit.c === message.c &&
    hit.v === message.v &&
    hit.seq === message.seq &&
    hit.p === message.p &&
    hit.src === src
  );
}

const cacheByFormat = {
  json: new WeakMap<object, CachedFrame>(),
  msgpack: new WeakMap<object, CachedFrame>(),
};

/** Author of each op in flight, keyed like the frame cache (set by the `op` middleware). */
export const authorOf = new WeakMap<object, OpAuthor>();

/** The object that identifies a message's payload across subscribers, or undefined when none does. */
function payloadKey(message: Record<string, unknown>): object | undefined {
  if (message.a === 'op') {
    const key = message.op ?? message.create;
    return typeof key === 'object' && key !== null ? key : undefined;
  }
  // Presence broadcasts reach every agent as the same object.
  if (message.a === 'p' && message.error === undefined) return message;
  return undefined;
}

export interface EncodeStats {
  encodeCacheHits: number;
}

/**
 * The `src` a message carries to a client whose own id is `own`: an op or presence of another
 * client names it by its alias (security/client-ids.ts); acks and the client's own stay as they are.
 */
export function wireSrc(message: Record<string, unknown>, own: string | undefined): unknown {
  const src = message.src;
  if (typeof src !== 'string' || src === own) return src;
  if (message.a === 'p' || (message.a === 'op' && ('op' in message || message.create || message.del)))
    return aliasOf(src);
  return src;
}

/**
 * Encode a ShareDB message for `codec` with `src` as given (see `wireSrc`), reusing the frame other
 * subscribers already got. The message itself is not changed: ShareDB hands one presence object to
 * every agent.
 */
export function encodeShared(
  codec: Codec,
  message: Record<string, unknown>,
  stats: EncodeStats,
  src: unknown = message.src,
): Frame {
  const key = payloadKey(message);
  // Another client's presence id is namespaced by its sender's alias: presence ids are the
  // client's own choice, and one user's must never stand for another's cursor.
  const wire =
    src === message.src
      ? message
      : message.a === 'p'
        ? { ...message, src, id: `${src as string}:${message.id as string}` }
        : { ...message, src };
  if (key === undefined) return codec.encode(wire);
  const cache = cacheByFormat[codec.name];
  const hit = cache.get(key);
  if (hit !== undefined && matches(hit, message, src)) {
    stats.encodeCacheHits++;
    return hit.frame;
  }
  if (message.a === 'op') {
    const author = authorOf.get(key);
    if (author !== undefined) wire[AUTHOR_FIELD] = author;
  }
  const frame = codec.encode(wire);
  cache.set(key, { c: message.c, v: message.v, seq: message.seq, p: message.p, src, frame });
  return frame;
}

interface OpCacheEntry {
  c: string;
  frame: Frame;
}

const opFrames = { json: new WeakMap<object, OpCacheEntry>(), msgpack: new WeakMap<object, OpCacheEntry>() };

/** A committed op as ShareDB publishes it (one object shared by every subscriber of this process). */
export interface PublishedOp {
  v: number;
  src?: string;
  seq?: number;
  op?: unknown;
  create?: unknown;
  del?: boolean;
  au?: OpAuthor;
}

/**
 * The frame for a published op, encoded on first use and then shared. Built like ShareDB's
 * `Agent._sendOp`, plus the author; its sender never gets it this way, so it names the sender by
 * alias.
 */
export function sharedOpFrame(
  codec: Codec,
  collection: string,
  id: string,
  op: PublishedOp,
  stats: EncodeStats,
): Frame {
  const cache = opFrames[codec.name];
  const hit = cache.get(op);
  if (hit !== undefined && hit.c === collection) {
    stats.encodeCacheHits++;
    return hit.frame;
  }
  const message: Record<string, unknown> = {
    a: 'op',
    c: collection,
    d: id,
    v: op.v,
    src: op.src === undefined ? undefined : aliasOf(op.src),
    seq: op.seq,
  };
  if ('op' in op) message.op = op.op;
  if (op.create) message.create = op.create;
  if (op.del) message.del = true;
  if (op.au !== undefined) message[AUTHOR_FIELD] = op.au;
  const frame = codec.encode(message);
  cache.set(op, { c: collection, frame });
  return frame;
}

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

interface FastAgent {
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
 * The replacements are shared functions, not closures per agent (idle memory per connection).
 */
export function installFastOpDelivery(agent: FastAgent): void {
  agent._onOp = fastOnOp;
  agent._sendOps = sendMissingOps;
  agent._subscribeToStream = subscribeToDocStream;
}

/**
 * Batch frames shared between sockets. In a room every subscriber is usually owed the same frames
 * in the same order within a tick; the last batch built per codec is reused when the next socket's
 * outbox holds the very same frames (compared by reference: no allocation, no copy).
 */
export class BatchCache {
  private readonly last = new Map<Codec, { parts: Frame[]; frame: Frame }>();

  batch(codec: Codec, outbox: readonly Frame[], stats: EncodeStats): Frame {
    const previous = this.last.get(codec);
    if (previous !== undefined && sameFrames(previous.parts, outbox)) {
      stats.encodeCacheHits++;
      return previous.frame;
    }
    const frame = codec.batch(outbox);
    this.last.set(codec, { parts: outbox.slice(), frame });
    return frame;
  }

  /** Forget batches at the end of a tick so their memory is released. */
  clear(): void {
    this.last.clear();
  }
}

function sameFrames(a: readonly Frame[], b: readonly Frame[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Something that owes its socket frames and can write them all in one go. */
export interface Flushable {
  flush(): void;
}

/**
 * One flush per event-loop turn for all dirty connections: a single setImmediate instead of a
 * timer or closure per socket, so coalescing costs nothing per subscriber. It never waits while
 * frames are owed: whatever arrived while the last flush (or the turn's other work) ran is written
 * in the next flush, at the end of the turn. The batch grows with the load by itself, and the CPU
 * is never idle while ops are queued (pacing flushes by their own length, as an earlier version
 * did, left the server at 56–86 % CPU with ops waiting: issue #15).
 *
 * The turn itself is bounded in time. ShareDB runs a whole burst of submits (storage, transform,
 * commit, pub/sub) as one chain of nextTick callbacks and promise jobs, and Node runs no
 * setImmediate until that chain ends: waiting for the turn would hold every ack and op of the burst
 * back until the last submit of it committed (500 clients: nothing acknowledged for seconds). So
 * frames queued for longer than `maxDelayMs` (and than twice the last flush, which for hundreds of
 * sockets is itself milliseconds of writes) are flushed from inside the chain.
 */
export class FlushScheduler {
  readonly batches = new BatchCache();
  private dirty: Flushable[] = [];
  private spare: Flushable[] = [];
  private scheduled = false;
  /** When the oldest unflushed frame was queued (performance.now()). */
  private since = 0;
  private queuedSinceCheck = 0;
  /** How long the last flush took: an early flush waits at least twice that (writes stay ≤ ⅓ of the time). */
  private lastFlushMs = 0;

  constructor(private readonly maxDelayMs = 50) {}

  private readonly run = (): void => {
    this.scheduled = false;
    this.flushDirty();
  };

  private flushDirty(): void {
    const started = performance.now();
    const batch = this.dirty;
    this.dirty = this.spare;
    for (let i = 0; i < batch.length; i++) batch[i].flush();
    batch.length = 0;
    this.batches.clear();
    this.spare = batch;
    this.lastFlushMs = performance.now() - started;
  }

  mark(target: Flushable): void {
    if (this.dirty.length === 0) this.since = performance.now();
    this.dirty.push(target);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /**
   * Called for every frame queued. Every 64th looks at the clock (cheap enough per subscriber) and
   * flushes now when the turn has run too long; the pending setImmediate still flushes the rest.
   */
  queued(): void {
    if (++this.queuedSinceCheck < 64) return;
    this.queuedSinceCheck = 0;
    const waited = performance.now() - this.since;
    if (this.dirty.length > 0 && waited > this.maxDelayMs && waited > 2 * this.lastFlushMs) this.flushDirty();
  }
}

const AGENT_MAPS = [
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

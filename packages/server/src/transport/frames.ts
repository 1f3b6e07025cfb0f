/**
 * Frames shared between subscribers: encode each op once per codec and hand the same bytes to every
 * subscribed socket.
 *
 * ShareDB builds a fresh `{a:'op', …}` message per subscriber, but every copy shares the op's inner
 * `op` (or `create`) object, and a presence broadcast is the very same object for every subscriber.
 * Those objects key a WeakMap per wire format, so the second and later subscribers get a cached
 * frame: one WeakMap lookup, no encoding, no allocation. The cache dies with the op.
 */
import { AUTHOR_FIELD, type Codec, type Frame, type OpAuthor } from '@tandem/protocol';
import { aliasOf } from '../security/client-ids';

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

/** The message ShareDB's `Agent._sendOp` builds for a published op, plus its author; `src` as given. */
export function opMessage(collection: string, id: string, op: PublishedOp, src: string | undefined) {
  const message: Record<string, unknown> = { a: 'op', c: collection, d: id, v: op.v, src, seq: op.seq };
  if ('op' in op) message.op = op.op;
  if (op.create) message.create = op.create;
  if (op.del) message.del = true;
  if (op.au !== undefined) message[AUTHOR_FIELD] = op.au;
  return message;
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
  const frame = codec.encode(
    opMessage(collection, id, op, op.src === undefined ? undefined : aliasOf(op.src)),
  );
  cache.set(op, { c: collection, frame });
  return frame;
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

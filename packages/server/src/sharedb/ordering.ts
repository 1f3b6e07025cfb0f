/**
 * Ordered delivery (pubsub/ordered-delivery.ts) wired into ShareDB: the pub/sub's stream delivery
 * and the backend's subscribe calls are patched here, in the fence.
 */
import type { OrderedDelivery, StreamsByChannel } from '../pubsub/ordered-delivery';
import type { SubscriptionStream } from './subscription-stream';

/** ShareDB's Backend as far as subscribing goes. */
interface SubscribingBackend {
  projections: Record<string, { target: string } | undefined>;
  subscribe(...args: unknown[]): void;
  subscribeBulk(...args: unknown[]): void;
}

/** The pub/sub methods ordering takes over. */
interface OrderablePubSub extends StreamsByChannel {
  _emit(channel: string, data: unknown): void;
  _removeStream(channel: string, stream: SubscriptionStream): void;
}

type SubscribeCallback = (
  error: unknown,
  stream?: SubscriptionStream,
  snapshot?: { v: number },
  ops?: { v: number }[],
) => void;

type SubscribeBulkCallback = (
  error: unknown,
  streams?: Record<string, SubscriptionStream>,
  snapshots?: Record<string, { v: number }> | null,
  ops?: Record<string, { v: number }[]>,
) => void;

/** The version a subscriber is at after its subscribe: its snapshot's, or past the last op sent. */
function versionAfter(version: unknown, snapshot?: { v: number } | null, ops?: { v: number }[]): number {
  if (snapshot != null) return snapshot.v;
  if (ops !== undefined && ops.length > 0) return ops[ops.length - 1].v + 1;
  return typeof version === 'number' ? version : -1;
}

/**
 * Hand a pub/sub's data to its streams through `delivery`. ShareDB touch (fenced here): the
 * pub/sub's `_emit` and `_removeStream` are wrapped.
 */
export function orderPubSub(pubsub: unknown, delivery: OrderedDelivery): void {
  const ps = pubsub as OrderablePubSub;
  ps._emit = (channel, data) => delivery.emit(channel, data);
  const removeStream = ps._removeStream;
  ps._removeStream = function (this: OrderablePubSub, channel, stream) {
    removeStream.call(this, channel, stream);
    if (this.streams[channel] === undefined) delivery.removed(channel);
  };
}

/**
 * Tell `delivery` where each new doc subscription starts. ShareDB touch (fenced here): the public
 * `backend.subscribe` / `subscribeBulk` are wrapped to report each stream's version before the
 * agent sees the stream.
 */
export function reportSubscribeVersions(backend: SubscribingBackend, delivery: OrderedDelivery): void {
  const subscribe = backend.subscribe;
  backend.subscribe = function (this: SubscribingBackend, agent, index, id, version, options, callback) {
    if (typeof options === 'function') return this.subscribe(agent, index, id, version, null, options);
    const collection = this.projections[index as string]?.target ?? (index as string);
    const done = callback as SubscribeCallback;
    subscribe.call(this, agent, index, id, version, options, ((error, stream, snapshot, ops) => {
      if (!error && stream !== undefined) {
        delivery.start(stream, collection, id as string, versionAfter(version, snapshot, ops));
      }
      done(error, stream, snapshot, ops);
    }) satisfies SubscribeCallback);
  };

  const subscribeBulk = backend.subscribeBulk;
  backend.subscribeBulk = function (this: SubscribingBackend, agent, index, versions, callback) {
    const collection = this.projections[index as string]?.target ?? (index as string);
    const done = callback as SubscribeBulkCallback;
    subscribeBulk.call(this, agent, index, versions, ((error, streams, snapshots, ops) => {
      if (!error && streams !== undefined) {
        for (const id in streams) {
          const from = Array.isArray(versions) ? null : (versions as Record<string, unknown>)[id];
          delivery.start(streams[id], collection, id, versionAfter(from, snapshots?.[id], ops?.[id]));
        }
      }
      done(error, streams, snapshots, ops);
    }) satisfies SubscribeBulkCallback);
  };
}

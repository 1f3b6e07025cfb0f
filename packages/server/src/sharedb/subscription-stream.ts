/**
 * The stream pub/sub hands each subscriber (a doc, presence or query subscription of one agent).
 *
 * ShareDB's OpStream is a Node Readable in object mode: with its state, listener map, the
 * pub/sub's `once('close')` wrapper and the agent's two listener closures it costs ~700 bytes per
 * subscription, most of a subscribed idle socket's memory beyond the socket itself, and every
 * published op went through `Readable.push` once per subscriber. Its consumers (ShareDB's agent,
 * query emitter and pub/sub, and Tandem's channels) only ever use `on('data' | 'end')`, `destroy`,
 * `pushData`, `id` and `open`, so this is that contract and no more, with Readable's ordering:
 * data pushed before anyone reads (during a subscribe's fetch) is kept and delivered on the next
 * tick after the first 'data' listener, before anything pushed later; `destroy` stops new data,
 * delivers what was kept, then emits 'end' on a later tick (ShareDB's agent relies on that to
 * drop the subscription), and 'close' at once.
 */
import ShareDB from 'sharedb';
import { fastMapKind } from './fast-map';

/** An agent's subscriptions in one collection (usually one or a few documents). */
const docStreamMap = fastMapKind();

type Listener = (this: SubscriptionStream, data?: unknown) => void;
type StreamEvent = 'data' | 'end' | 'close';

/** The part of ShareDB's PubSub that owns streams. */
interface PubSubInternals {
  streams: Record<string, Record<string, SubscriptionStream> | undefined>;
  streamsCount: number;
  nextStreamId: number;
  _removeStream(channel: string, stream: SubscriptionStream): void;
  _createStream(channel: string): SubscriptionStream;
}

/** The agent a doc subscription delivers to directly (see `subscribeToDocStream`). */
interface DocSubscriber {
  closed?: boolean;
  subscribedDocs: Record<string, Record<string, SubscriptionStream> | undefined>;
  /** ShareDB's takes three arguments; Tandem's fast path (fanout.ts) also the stream it came from. */
  _onOp(collection: string, id: string, op: unknown, stream?: SubscriptionStream): void;
}

function call(
  listeners: Listener | Listener[] | undefined,
  stream: SubscriptionStream,
  data?: unknown,
): void {
  if (listeners === undefined) return;
  if (typeof listeners === 'function') listeners.call(stream, data);
  else for (const listener of listeners.slice()) listener.call(stream, data);
}

function add(listeners: Listener | Listener[] | undefined, listener: Listener): Listener | Listener[] {
  if (listeners === undefined) return listener;
  return typeof listeners === 'function' ? [listeners, listener] : [...listeners, listener];
}

export class SubscriptionStream {
  id: number | null = null;
  open = true;
  private onData: Listener | Listener[] | undefined = undefined;
  private onEnd: Listener | Listener[] | undefined = undefined;
  private onClose: Listener | Listener[] | undefined = undefined;
  /** Data pushed while nobody reads yet, or before the kept data was delivered. */
  private kept: unknown[] | undefined = undefined;
  private draining = false;
  private ended = false;
  /** Set when the subscribing agent is served directly, without listener closures. */
  agent: DocSubscriber | undefined = undefined;
  collection = '';
  docId = '';
  /** First and last version of the latest contiguous run of ops fanout.ts delivered on its fast path. */
  tandemFrom: number | undefined = undefined;
  tandemTo: number | undefined = undefined;
  /**
   * The version of the document's next op this subscription needs, once its subscribe said where it
   * starts (pubsub/ordered-delivery.ts); -1: not a doc subscription, or not started yet.
   */
  next = -1;

  constructor(
    private readonly pubsub: PubSubInternals | undefined,
    readonly channel: string,
  ) {}

  pushData(data: unknown): void {
    if (!this.open) return;
    if (this.kept === undefined && this.onData !== undefined) call(this.onData, this, data);
    else if (this.kept === undefined) this.kept = [data];
    else this.kept.push(data);
  }

  /** Take what was pushed while nobody read yet (ordered delivery re-sorts it when the stream starts). */
  takeKept(): unknown[] | undefined {
    const kept = this.kept;
    this.kept = undefined;
    return kept;
  }

  on(event: StreamEvent, listener: Listener): this {
    if (event === 'data') {
      this.onData = add(this.onData, listener);
      this.scheduleDrain();
    } else if (event === 'end') this.onEnd = add(this.onEnd, listener);
    else if (event === 'close') this.onClose = add(this.onClose, listener);
    else throw new TypeError(`subscription streams emit data, end and close, not ${String(event)}`);
    return this;
  }

  destroy(): void {
    if (!this.open) return;
    this.open = false;
    this.pubsub?._removeStream(this.channel, this);
    // Like a Readable ended while nobody reads: 'end' waits for a reader.
    if (this.onData !== undefined) this.scheduleDrain();
    call(this.onClose, this);
  }

  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    process.nextTick(drain, this);
  }

  /** Deliver kept data in order, then 'end' once destroyed (on the next tick, as a Readable does). */
  drain(): void {
    this.draining = false;
    const kept = this.kept;
    if (kept !== undefined) {
      // Data pushed by a listener meanwhile is appended to `kept` and delivered in this loop, in order.
      for (let i = 0; i < kept.length; i++) call(this.onData, this, kept[i]);
      this.kept = undefined;
    }
    if (!this.open && !this.ended && this.kept === undefined) {
      this.ended = true;
      call(this.onEnd, this);
    }
  }

  /**
   * Serve one agent's doc subscription with shared functions instead of ShareDB's two closures per
   * subscription: ops go to `agent._onOp`, and the end drops the subscription from the agent's map.
   */
  deliverTo(agent: DocSubscriber, collection: string, id: string): void {
    this.agent = agent;
    this.collection = collection;
    this.docId = id;
    this.on('data', toAgent);
    this.on('end', leaveAgent);
  }
}

function drain(stream: SubscriptionStream): void {
  stream.drain();
}

function toAgent(this: SubscriptionStream, data: unknown): void {
  const error = (data as { error?: unknown }).error;
  // As ShareDB's agent does: subscription errors are not the client's fault; log them and go on.
  if (error !== undefined)
    ShareDB.logger.error('Doc subscription stream error', this.collection, this.docId, error);
  else this.agent?._onOp(this.collection, this.docId, data, this);
}

function leaveAgent(this: SubscriptionStream): void {
  const docs = this.agent?.subscribedDocs;
  const streams = docs?.[this.collection];
  if (docs === undefined || streams === undefined || streams[this.docId] !== this) return;
  delete streams[this.docId];
  for (const _ in streams) return;
  delete docs[this.collection];
}

/** ShareDB's `PubSub._createStream`, making SubscriptionStreams (installed per pub/sub instance). */
function createStream(this: PubSubInternals, channel: string): SubscriptionStream {
  const stream = new SubscriptionStream(this, channel);
  this.streamsCount++;
  let map = this.streams[channel];
  if (map === undefined) {
    map = Object.create(null) as Record<string, SubscriptionStream>;
    this.streams[channel] = map;
  }
  stream.id = this.nextStreamId++;
  map[stream.id] = stream;
  return stream;
}

export function installSubscriptionStreams(pubsub: unknown): void {
  (pubsub as PubSubInternals)._createStream = createStream;
}

/**
 * An agent's `_subscribeToStream` (ShareDB's, minus the closures): registers the stream in the
 * agent's `subscribedDocs` and serves the agent directly. A shared function, set per agent.
 */
export function subscribeToDocStream(
  this: DocSubscriber,
  collection: string,
  id: string,
  stream: SubscriptionStream,
): void {
  if (this.closed) {
    stream.destroy();
    return;
  }
  const docs = this.subscribedDocs;
  let streams = docs[collection];
  if (streams === undefined) {
    streams = docStreamMap() as Record<string, SubscriptionStream>;
    docs[collection] = streams;
  }
  const previous = streams[id];
  if (previous !== undefined) previous.destroy();
  streams[id] = stream;
  stream.deliverTo(this, collection, id);
}

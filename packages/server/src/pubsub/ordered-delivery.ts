/**
 * Each document subscription gets the document's ops in version order, exactly once, on one
 * process or many (invariant 5).
 *
 * Across processes, a document's ops reach a process in publish order, not commit order: two
 * processes commit v5 and v6 and v6's publish overtakes v5's; an op committed by a process that
 * died before publishing never arrives; a channel that was briefly unsubscribed (a Redis reconnect,
 * a repair) missed what was published meanwhile. A ShareDB client drops an op ahead of its version
 * (and fetches), and Tandem's submit reply skips what the subscription already delivered
 * (fanout.ts), so both need every op, in order.
 *
 * So each doc subscription stream knows the version it needs next (`stream.next`, from its
 * subscribe: the snapshot's version, or the end of the ops it was sent), and an op goes to the
 * streams that need exactly it. Ops ahead of a gap are held once per document and process, not per
 * stream; a gap that does not close within `gapMs` is filled from the store (`getOps`), as is
 * everything after a channel may have missed messages (`catchUp`). Ops a stream already has are
 * dropped. Per subscription this costs one number; in order, no map is touched.
 */
import { backoffDelay } from '@tandem/protocol';
import type { Logger } from '../logger';
import type { SubscriptionStream } from '../sharedb/subscription-stream';

/** A committed op as ShareDB publishes it (and as the store returns it, plus `c`/`d`). */
export interface ChannelOp {
  c: string;
  d: string;
  v: number;
}

/** Ops `from` ≤ v < `to` (`to` null: to the end) of a document, from the store. */
export type ReadOps = (
  collection: string,
  id: string,
  from: number,
  to: number | null,
) => Promise<ChannelOp[]>;

export interface DeliveryCounts {
  /** Ops that arrived ahead of a gap and were held. */
  held: number;
  /** Reads of missing ops from the store (gap not closed in time, or a catch-up). */
  fills: number;
  /** Ops those reads returned. */
  filledOps: number;
  /** Ops every subscriber already had (re-published, or filled and then published). */
  duplicates: number;
  /** Store reads that failed (retried with backoff). */
  fillErrors: number;
}

/** The pub/sub's streams by channel and id (ShareDB's PubSub `streams`). */
export interface StreamsByChannel {
  streams: Record<string, Record<string, SubscriptionStream> | undefined>;
}

/** How long a gap may stay open before the store is asked. Cross-process reorderings close in ~1 ms. */
const GAP_MS = 50;
/** Longest wait between retries of a failing store read. */
const MAX_RETRY_MS = 5_000;

class DocOrder {
  /** Ops ahead of some stream's `next`, by version. */
  readonly held = new Map<number, ChannelOp>();
  timer: ReturnType<typeof setTimeout> | undefined;
  reading = false;
  /** Read everything from the oldest `next` to the end once the read in flight is done. */
  catchUp = false;
  failures = 0;

  constructor(
    readonly channel: string,
    readonly collection: string,
    readonly id: string,
  ) {}

  /** Whether `data` is an op of this document (doc channels carry nothing else, but check). */
  owns(data: unknown): data is ChannelOp {
    const op = data as Partial<ChannelOp> | null;
    return typeof op?.v === 'number' && op.d === this.id && op.c === this.collection;
  }
}

export class OrderedDelivery {
  readonly counts: DeliveryCounts = { held: 0, fills: 0, filledOps: 0, duplicates: 0, fillErrors: 0 };
  /** Documents with started streams on this process, by channel. */
  private readonly docs = new Map<string, DocOrder>();

  constructor(
    private readonly pubsub: StreamsByChannel,
    private readonly readOps: ReadOps,
    private readonly logger: Logger,
    private readonly gapMs = GAP_MS,
  ) {}

  /** What the pub/sub hands its streams (its `_emit`). */
  emit(channel: string, data: unknown): void {
    const streams = this.pubsub.streams[channel];
    if (streams === undefined) return;
    const doc = this.docs.get(channel);
    if (doc?.owns(data)) {
      this.arrive(doc, data, streams);
      return;
    }
    for (const key in streams) streams[key].pushData(data);
  }

  /**
   * A doc subscription's stream now has every op before `version` (its snapshot's version, or the
   * end of the ops its subscribe sent): from here on it gets ops in order. What was pushed to it
   * while its subscribe read the store is put in order first.
   */
  start(stream: SubscriptionStream, collection: string, id: string, version: number): void {
    if (!stream.open || version < 0) return;
    const channel = stream.channel;
    let doc = this.docs.get(channel);
    if (doc === undefined) {
      doc = new DocOrder(channel, collection, id);
      this.docs.set(channel, doc);
    }
    stream.next = version;
    const kept = stream.takeKept();
    if (kept !== undefined) {
      for (const data of kept) {
        if (!doc.owns(data)) stream.pushData(data);
        else if (data.v >= version && !doc.held.has(data.v)) doc.held.set(data.v, data);
      }
    }
    this.release(doc, stream);
    const streams = this.pubsub.streams[channel];
    if (streams !== undefined) this.settle(doc, streams);
  }

  /** The channel has no streams left on this process. */
  removed(channel: string): void {
    const doc = this.docs.get(channel);
    if (doc === undefined) return;
    clearTimeout(doc.timer);
    this.docs.delete(channel);
  }

  /** These channels may have missed messages: read what their streams lack from the store. */
  catchUp(channels: Iterable<string>): void {
    for (const channel of channels) {
      const doc = this.docs.get(channel);
      if (doc === undefined) continue;
      doc.catchUp = true;
      if (!doc.reading) this.read(doc);
    }
  }

  private arrive(doc: DocOrder, op: ChannelOp, streams: Record<string, SubscriptionStream>): void {
    const v = op.v;
    let ahead = false;
    let taken = false;
    for (const key in streams) {
      const stream = streams[key];
      const next = stream.next;
      if (next < 0 || v === next) {
        // Not started yet (its subscribe is reading the store): kept, and put in order by `start`.
        stream.pushData(op);
        taken = true;
        if (next < 0) continue;
        stream.next = v + 1;
        if (doc.held.size > 0) this.release(doc, stream);
      } else if (v > next) ahead = true;
    }
    if (ahead && !doc.held.has(v)) {
      doc.held.set(v, op);
      this.counts.held++;
    } else if (!ahead && !taken) this.counts.duplicates++;
    if (doc.held.size > 0) this.settle(doc, streams);
  }

  /** Hand a stream the held ops it can take now. */
  private release(doc: DocOrder, stream: SubscriptionStream): void {
    for (let op = doc.held.get(stream.next); op !== undefined; op = doc.held.get(stream.next)) {
      stream.pushData(op);
      stream.next++;
    }
  }

  /**
   * Drop held ops every started stream is past; if some are still held, a stream waits for an op
   * before them (a gap): give it `gapMs` to arrive, then read it.
   */
  private settle(doc: DocOrder, streams: Record<string, SubscriptionStream>): void {
    const oldest = oldestNext(streams);
    for (const v of doc.held.keys()) if (v < oldest) doc.held.delete(v);
    if (doc.held.size === 0) {
      clearTimeout(doc.timer);
      doc.timer = undefined;
      doc.failures = 0;
      return;
    }
    if (doc.timer === undefined && !doc.reading) {
      doc.timer = setTimeout(() => this.read(doc), this.gapMs);
      doc.timer.unref?.();
    }
  }

  /** One store read per document at a time: the gap (up to the newest held op), or to the end. */
  private read(doc: DocOrder): void {
    clearTimeout(doc.timer);
    doc.timer = undefined;
    const streams = this.pubsub.streams[doc.channel];
    if (streams === undefined || this.docs.get(doc.channel) !== doc) return;
    const from = oldestNext(streams);
    if (from === Number.POSITIVE_INFINITY) return;
    const catchUp = doc.catchUp;
    doc.catchUp = false;
    let to: number | null = null;
    if (!catchUp) {
      to = from;
      for (const v of doc.held.keys()) if (v > to) to = v;
      if (to === from) return;
    }
    doc.reading = true;
    this.counts.fills++;
    this.readOps(doc.collection, doc.id, from, to).then(
      (ops) => {
        doc.reading = false;
        doc.failures = 0;
        const now = this.pubsub.streams[doc.channel];
        if (now === undefined || this.docs.get(doc.channel) !== doc) return;
        this.counts.filledOps += ops.length;
        for (const op of ops) this.arrive(doc, op, now);
        if (doc.catchUp) this.read(doc);
        else this.settle(doc, now);
      },
      (error: unknown) => {
        doc.reading = false;
        doc.catchUp ||= catchUp;
        this.counts.fillErrors++;
        const wait = backoffDelay(++doc.failures, this.gapMs, MAX_RETRY_MS);
        this.logger.warn('could not read missing ops; retrying', {
          collection: doc.collection,
          id: doc.id,
          error: String(error),
          retryInMs: wait,
        });
        if (this.docs.get(doc.channel) !== doc) return;
        doc.timer = setTimeout(() => this.read(doc), wait);
        doc.timer.unref?.();
      },
    );
  }
}

/** The oldest version a started stream of the channel needs (Infinity: none started). */
function oldestNext(streams: Record<string, SubscriptionStream>): number {
  let oldest = Number.POSITIVE_INFINITY;
  for (const key in streams) {
    const next = streams[key].next;
    if (next >= 0 && next < oldest) oldest = next;
  }
  return oldest;
}

import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ChannelOp, OrderedDelivery, type ReadOps } from '../src/pubsub/ordered-delivery';
import { SubscriptionStream } from '../src/sharedb/subscription-stream';

const quiet = () => {};
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
const CHANNEL = 'notes.a';

const op = (v: number): ChannelOp & { from: string } => ({ c: 'notes', d: 'a', v, from: 'pubsub' });

/** A pub/sub's stream map, a store of ops 0..n-1, and ordered delivery over both. */
function setup(storeVersion = 100) {
  const pubsub = {
    streams: {} as Record<string, Record<string, SubscriptionStream> | undefined>,
    _removeStream(channel: string, stream: SubscriptionStream) {
      const map = pubsub.streams[channel];
      if (map === undefined) return;
      delete map[stream.id as number];
      if (Object.keys(map).length === 0) delete pubsub.streams[channel];
    },
  };
  let nextId = 1;
  const reads: { from: number; to: number | null }[] = [];
  let failReads = 0;
  const readOps: ReadOps = async (collection, id, from, to) => {
    reads.push({ from, to });
    if (failReads > 0) {
      failReads--;
      throw new Error('store down');
    }
    const end = to ?? storeVersion;
    return Array.from({ length: Math.max(0, end - from) }, (_, i) => ({
      c: collection,
      d: id,
      v: from + i,
      from: 'store',
    }));
  };
  const delivery = new OrderedDelivery(pubsub, readOps, logger, 50);
  /** A subscriber: its stream, and the versions it was handed, in order. */
  const subscriber = (channel = CHANNEL) => {
    const stream = new SubscriptionStream(pubsub as never, channel);
    stream.id = nextId++;
    pubsub.streams[channel] ??= {};
    (pubsub.streams[channel] as Record<string, SubscriptionStream>)[stream.id] = stream;
    const got: number[] = [];
    const sources: string[] = [];
    return {
      stream,
      got,
      sources,
      /** Its subscribe says where it starts; it reads from then on (as ShareDB's agent does). */
      start(version: number) {
        delivery.start(stream, 'notes', 'a', version);
        stream.on('data', (data) => {
          got.push((data as ChannelOp).v);
          sources.push((data as { from: string }).from);
        });
      },
    };
  };
  const tick = () => new Promise((resolve) => process.nextTick(resolve));
  return {
    delivery,
    subscriber,
    reads,
    tick,
    failNextReads: (n: number) => {
      failReads = n;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ordered delivery (each doc subscription gets ops in version order, once)', () => {
  it('in order: each op goes straight through, nothing held, nothing read', async () => {
    const { delivery, subscriber, reads, tick } = setup();
    const s = subscriber();
    s.start(3);
    await tick();
    for (const v of [3, 4, 5]) delivery.emit(CHANNEL, op(v));
    expect(s.got).toEqual([3, 4, 5]);
    expect(delivery.counts).toMatchObject({ held: 0, fills: 0, duplicates: 0 });
    expect(reads).toEqual([]);
  });

  it('an op ahead of a gap is held until the gap closes; a re-sent op is dropped', async () => {
    const { delivery, subscriber, reads, tick } = setup();
    const s = subscriber();
    s.start(3);
    await tick();
    delivery.emit(CHANNEL, op(4));
    delivery.emit(CHANNEL, op(5));
    expect(s.got).toEqual([]);
    delivery.emit(CHANNEL, op(3));
    expect(s.got).toEqual([3, 4, 5]);
    delivery.emit(CHANNEL, op(4));
    expect(s.got).toEqual([3, 4, 5]);
    expect(delivery.counts).toMatchObject({ held: 2, duplicates: 1, fills: 0 });
    expect(reads).toEqual([]);
  });

  it('a gap still open after 50 ms is filled from the store (the op never published: its process died)', async () => {
    vi.useFakeTimers();
    const { delivery, subscriber, reads, tick } = setup();
    const s = subscriber();
    s.start(3);
    await tick();
    delivery.emit(CHANNEL, op(6));
    await vi.advanceTimersByTimeAsync(49);
    expect(reads).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toEqual([{ from: 3, to: 6 }]);
    expect(s.got).toEqual([3, 4, 5, 6]);
    expect(s.sources).toEqual(['store', 'store', 'store', 'pubsub']);
    // The late publishes are duplicates now.
    for (const v of [3, 4, 5]) delivery.emit(CHANNEL, op(v));
    delivery.emit(CHANNEL, op(7));
    expect(s.got).toEqual([3, 4, 5, 6, 7]);
    expect(delivery.counts).toMatchObject({ fills: 1, filledOps: 3, duplicates: 3 });
  });

  it('subscribers at different versions each get what they need, in order; ahead ops are held once', async () => {
    const { delivery, subscriber, tick } = setup();
    const a = subscriber();
    const b = subscriber();
    a.start(3);
    b.start(5);
    await tick();
    delivery.emit(CHANNEL, op(5));
    expect(b.got).toEqual([5]);
    expect(a.got).toEqual([]);
    delivery.emit(CHANNEL, op(3));
    delivery.emit(CHANNEL, op(4));
    expect(a.got).toEqual([3, 4, 5]);
    expect(b.got).toEqual([5]);
    delivery.emit(CHANNEL, op(6));
    expect(a.got).toEqual([3, 4, 5, 6]);
    expect(b.got).toEqual([5, 6]);
    expect(delivery.counts.held).toBe(1);
  });

  it('ops pushed while a subscribe reads the store are put in order when it starts; older ones dropped', async () => {
    const { delivery, subscriber, tick } = setup();
    const s = subscriber();
    for (const v of [7, 4, 6, 5, 3]) delivery.emit(CHANNEL, op(v));
    s.start(4); // its snapshot is at version 4: op 3 is in it
    await tick();
    expect(s.got).toEqual([4, 5, 6, 7]);
    delivery.emit(CHANNEL, op(8));
    expect(s.got).toEqual([4, 5, 6, 7, 8]);
  });

  it('a stream that never starts (not a doc subscription) gets everything as it comes', async () => {
    const { delivery, subscriber, tick } = setup();
    const raw = subscriber();
    raw.stream.on('data', (data) => raw.got.push((data as ChannelOp).v));
    const started = subscriber();
    started.start(1);
    await tick();
    for (const v of [2, 1]) delivery.emit(CHANNEL, op(v));
    delivery.emit(CHANNEL, { not: 'an op' });
    expect(raw.got).toEqual([2, 1, undefined]);
    expect(started.got).toEqual([1, 2, undefined]); // not an op of the document: passed as it comes
  });

  it('catchUp (a channel that may have missed messages) reads from the oldest subscriber to the end', async () => {
    vi.useFakeTimers();
    const { delivery, subscriber, reads, tick } = setup(9);
    const a = subscriber();
    const b = subscriber();
    a.start(5);
    b.start(7);
    await tick();
    delivery.catchUp([CHANNEL, 'other.channel']);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads).toEqual([{ from: 5, to: null }]);
    expect(a.got).toEqual([5, 6, 7, 8]);
    expect(b.got).toEqual([7, 8]);
  });

  it('a failing store read is retried with backoff; a channel left meanwhile is forgotten', async () => {
    vi.useFakeTimers();
    const { delivery, subscriber, reads, tick, failNextReads } = setup();
    const s = subscriber();
    s.start(1);
    await tick();
    failNextReads(2);
    delivery.emit(CHANNEL, op(3));
    await vi.advanceTimersByTimeAsync(50); // first read fails
    await vi.advanceTimersByTimeAsync(100); // the retry (50–100 ms later, jittered) fails
    expect(reads).toHaveLength(2);
    expect(delivery.counts.fillErrors).toBe(2);
    await vi.advanceTimersByTimeAsync(200); // then one 100–200 ms later succeeds
    expect(reads).toHaveLength(3);
    expect(s.got).toEqual([1, 2, 3]);
    s.stream.destroy();
    delivery.removed(CHANNEL);
    delivery.emit(CHANNEL, op(9));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(reads).toHaveLength(3);
  });
});

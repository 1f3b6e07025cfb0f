import ShareDB from 'sharedb';
import { describe, expect, it } from 'vitest';
import {
  installSubscriptionStreams,
  type SubscriptionStream,
  subscribeToDocStream,
} from '../src/sharedb/subscription-stream';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** ShareDB's in-process pub/sub (what a backend without one gets). */
type MemoryPubSub = ShareDB['pubsub'];

function subscribe(pubsub: MemoryPubSub, channel: string): Promise<SubscriptionStream> {
  return new Promise((resolve, reject) =>
    pubsub.subscribe(channel, (error: unknown, stream: unknown) =>
      error ? reject(error) : resolve(stream as SubscriptionStream),
    ),
  );
}

function memoryPubSub(): MemoryPubSub & { streamsCount: number } {
  const pubsub = new ShareDB().pubsub;
  installSubscriptionStreams(pubsub);
  return pubsub as MemoryPubSub & { streamsCount: number };
}

describe('SubscriptionStream (what pub/sub hands each subscriber)', () => {
  it('keeps data pushed before anyone reads and delivers it on a later tick, before later data', async () => {
    const stream = await subscribe(memoryPubSub(), 'a');
    const seen: unknown[] = [];
    stream.pushData(1);
    stream.pushData(2);
    stream.on('data', (d) => seen.push(d));
    stream.pushData(3);
    expect(seen).toEqual([]); // not inside `on`: as a Readable, after the subscriber finished its setup
    await tick();
    stream.pushData(4);
    expect(seen).toEqual([1, 2, 3, 4]);
  });

  it('destroy: leaves the pub/sub, closes at once, ignores new data, ends after what was kept', async () => {
    const pubsub = memoryPubSub();
    const stream = await subscribe(pubsub, 'b');
    const events: string[] = [];
    stream.pushData('kept');
    stream.on('data', (d) => events.push(`data ${String(d)}`));
    stream.on('end', () => events.push('end'));
    stream.on('close', () => events.push('close'));
    expect(pubsub.streamsCount).toBe(1);
    stream.destroy();
    stream.pushData('late');
    pubsub.publish(['b'], { published: true }, () => {});
    expect(pubsub.streamsCount).toBe(0);
    expect(events).toEqual(['close']);
    await tick();
    expect(events).toEqual(['close', 'data kept', 'end']);
    stream.destroy();
    await tick();
    expect(events).toEqual(['close', 'data kept', 'end']);
  });

  it('a stream destroyed before anyone reads ends only once read', async () => {
    const stream = await subscribe(memoryPubSub(), 'c');
    let ended = false;
    stream.on('end', () => {
      ended = true;
    });
    stream.destroy();
    await tick();
    expect(ended).toBe(false);
    stream.on('data', () => {});
    await tick();
    expect(ended).toBe(true);
  });

  it('serves an agent directly and drops the subscription from its map when it ends', async () => {
    const pubsub = memoryPubSub();
    const ops: unknown[] = [];
    const agent = {
      subscribedDocs: {} as Record<string, Record<string, SubscriptionStream> | undefined>,
      _onOp: (collection: string, id: string, op: unknown) => ops.push([collection, id, op]),
    };
    const first = await subscribe(pubsub, 'docs.one');
    subscribeToDocStream.call(agent, 'docs', 'one', first);
    pubsub.publish(['docs.one'], { v: 1 }, () => {});
    await tick();
    expect(ops).toEqual([['docs', 'one', { v: 1 }]]);
    // Subscribing again replaces (and destroys) the previous stream; its end leaves the new one.
    const second = await subscribe(pubsub, 'docs.one');
    subscribeToDocStream.call(agent, 'docs', 'one', second);
    await tick();
    expect(agent.subscribedDocs.docs?.one).toBe(second);
    pubsub.publish(['docs.one'], { v: 2 }, () => {});
    await tick();
    expect(ops).toHaveLength(2);
    second.destroy();
    await tick();
    expect(agent.subscribedDocs.docs).toBeUndefined();
  });

  it('refuses events it does not emit, rather than silently never calling them', async () => {
    const stream = await subscribe(memoryPubSub(), 'd');
    expect(() => stream.on('readable' as never, () => {})).toThrow(TypeError);
  });
});

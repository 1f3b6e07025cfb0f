/**
 * ShareDB's own pub/sub conformance suite (shipped in the sharedb package) against the pub/subs as
 * Tandem sets them up: in-process, and Tandem's Redis pub/sub (src/pubsub/redis.ts, on
 * 127.0.0.1:6379), both handing out Tandem's SubscriptionStream instead of ShareDB's OpStream
 * (src/op-stream.ts). It relies on mocha's `this`, so it runs under mocha: `pnpm run test:conformance`.
 */
const runPubSubSuite = require('sharedb/test/pubsub');
const MemoryPubSub = require('sharedb/lib/pubsub/memory');
const { expect } = require('chai');
const {
  installSubscriptionStreams,
  SubscriptionStream,
} = require('../../src/sharedb/subscription-stream.ts');
const { createClient } = require('redis');
const { RedisPubSub } = require('../../src/pubsub/redis.ts');
const { OrderedDelivery } = require('../../src/pubsub/ordered-delivery.ts');
const { orderPubSub } = require('../../src/sharedb/ordering.ts');

const quiet = () => {};
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };

/** As backend.ts sets a pub/sub up: SubscriptionStreams, data handed out through ordered delivery. */
function tandemPubSub(pubsub) {
  installSubscriptionStreams(pubsub);
  orderPubSub(pubsub, new OrderedDelivery(pubsub, async () => [], logger));
  return pubsub;
}

describe('in-process pub/sub with SubscriptionStreams', () => {
  runPubSubSuite((callback) => callback(null, tandemPubSub(new MemoryPubSub())));
  it('hands out SubscriptionStreams', (done) => {
    tandemPubSub(new MemoryPubSub()).subscribe('x', (err, stream) => {
      expect(stream).instanceOf(SubscriptionStream);
      done(err);
    });
  });
});

describe("Tandem's Redis pub/sub (127.0.0.1:6379) with SubscriptionStreams", () => {
  let n = 0;
  runPubSubSuite((callback) =>
    callback(
      null,
      tandemPubSub(
        new RedisPubSub({
          url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
          prefix: `tandem-conf-${process.pid}-${n++}`,
          logger,
          createClient,
        }),
      ),
    ),
  );
});

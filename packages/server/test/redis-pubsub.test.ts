import { attach } from '@tandem/server';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisPubSub } from '../src/pubsub/redis';
import { installSubscriptionStreams, type SubscriptionStream } from '../src/sharedb/subscription-stream';
import { until } from './helpers';
import { privateRedis } from './private-redis';
import { REDIS_URL } from './redis-url';
import { type RedisProxy, redisProxy } from './tcp-proxy';

const REDIS = REDIS_URL;
const quiet = () => {};
const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
let run = 0;
const prefix = () => `tandem-ps-${process.pid}-${Date.now()}-${run++}`;

function pubsubAt(url: string, channelPrefix: string): RedisPubSub {
  const pubsub = new RedisPubSub({ url, prefix: channelPrefix, logger, checkIntervalMs: 0, createClient });
  installSubscriptionStreams(pubsub);
  return pubsub;
}

function subscribe(pubsub: RedisPubSub, channel: string): Promise<SubscriptionStream> {
  return new Promise((resolve, reject) =>
    pubsub.subscribe(channel, (error, stream) =>
      error ? reject(error) : resolve(stream as SubscriptionStream),
    ),
  );
}

/** Wait (polling every 10 ms, up to 5 s) until an async condition holds. */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The next message a stream gets. */
const nextData = (stream: SubscriptionStream) =>
  new Promise<unknown>((resolve) => {
    stream.on('data', resolve);
  });

/** Publish `value` on `channel` with a plain client and resolve when `stream` hears it. */
async function publishHeard(
  plain: ReturnType<typeof createClient>,
  stream: SubscriptionStream,
  channel: string,
  value: unknown,
): Promise<unknown> {
  const heard = nextData(stream);
  await plain.publish(channel, JSON.stringify(value));
  return heard;
}

/** How many commands named `name` (any case) clients sent through the proxy so far. */
const count = (proxy: RedisProxy, name: string) =>
  (proxy.sent().match(new RegExp(`\\r\\n${name}\\r\\n`, 'gi')) ?? []).length;

describe("Tandem's Redis pub/sub: a subscribe during an UNSUBSCRIBE in flight is never lost", () => {
  let proxy: RedisProxy;
  const plain = createClient({ url: REDIS });
  beforeAll(async () => {
    proxy = await redisProxy();
    await plain.connect();
  });
  afterAll(async () => {
    await plain.quit();
    await proxy.close();
  });
  const subscribers = async (channel: string) => Number((await plain.pubSubNumSub(channel))[channel]);

  it('control: node-redis v4 alone sends no SUBSCRIBE then, and ends up unsubscribed', async () => {
    const channel = `${prefix()} doc`;
    const raw = createClient({ url: proxy.url });
    await raw.connect();
    try {
      await raw.subscribe(channel, () => {});
      proxy.hold();
      const before = count(proxy, 'subscribe');
      const unsubscribed = raw.unsubscribe(channel);
      await until(() => count(proxy, 'unsubscribe') > 0, 5_000, 'UNSUBSCRIBE sent');
      const resubscribed = raw.subscribe(channel, () => {});
      proxy.release();
      await Promise.all([unsubscribed, resubscribed]);
      expect(count(proxy, 'subscribe')).toBe(before);
      expect(await subscribers(channel)).toBe(0);
    } finally {
      proxy.release();
      await raw.quit();
    }
  });

  it('the last stream leaves and a new one arrives before Redis answers: subscribed again, and it hears', async () => {
    const channelPrefix = prefix();
    const pubsub = pubsubAt(proxy.url, channelPrefix);
    try {
      const first = await subscribe(pubsub, 'doc');
      proxy.hold();
      first.destroy();
      await until(() => count(proxy, 'unsubscribe') > 0, 5_000, 'UNSUBSCRIBE sent');
      const subscribing = subscribe(pubsub, 'doc');
      const before = count(proxy, 'subscribe');
      proxy.release();
      const second = await subscribing;
      // The SUBSCRIBE went out after the UNSUBSCRIBE was answered.
      expect(count(proxy, 'subscribe')).toBe(before + 1);
      expect(await subscribers(`${channelPrefix} doc`)).toBe(1);
      expect(await publishHeard(plain, second, `${channelPrefix} doc`, { v: 1 })).toEqual({ v: 1 });
    } finally {
      proxy.release();
      await new Promise((resolve) => pubsub.close(resolve));
    }
  });

  it('a subscribe on a subscribed channel, then its last other stream leaving in the same tick: still subscribed', async () => {
    // ShareDB's PubSub base would make the new stream a tick later, after the removal unsubscribed.
    const channelPrefix = prefix();
    const pubsub = pubsubAt(REDIS, channelPrefix);
    try {
      const first = await subscribe(pubsub, 'doc');
      const subscribing = subscribe(pubsub, 'doc');
      first.destroy();
      const second = await subscribing;
      expect(await subscribers(`${channelPrefix} doc`)).toBe(1);
      expect(await publishHeard(plain, second, `${channelPrefix} doc`, { v: 2 })).toEqual({ v: 2 });
    } finally {
      await new Promise((resolve) => pubsub.close(resolve));
    }
  });

  it('subscribes and unsubscribes racing on one channel settle on what is wanted last', async () => {
    const channelPrefix = prefix();
    const pubsub = pubsubAt(proxy.url, channelPrefix);
    try {
      proxy.hold();
      const streams = await (async () => {
        const pending = [subscribe(pubsub, 'doc'), subscribe(pubsub, 'doc')];
        proxy.release();
        return Promise.all(pending);
      })();
      proxy.hold();
      for (const stream of streams) stream.destroy();
      const again = subscribe(pubsub, 'doc');
      const gone = subscribe(pubsub, 'doc').then((stream) => stream.destroy());
      proxy.release();
      const last = await again;
      await gone;
      expect(await subscribers(`${channelPrefix} doc`)).toBe(1);
      last.destroy();
      await eventually(async () => (await subscribers(`${channelPrefix} doc`)) === 0, 'unsubscribed at last');
    } finally {
      proxy.release();
      await new Promise((resolve) => pubsub.close(resolve));
    }
  });
});

describe('self-check: a channel Redis lost is found, counted and resubscribed', () => {
  const plain = createClient({ url: REDIS });
  beforeAll(() => plain.connect());
  afterAll(() => plain.quit());

  /** Make Redis drop a subscription behind the pub/sub's back (as the node-redis race did). */
  const deafen = (pubsub: RedisPubSub, channel: string) =>
    (pubsub as unknown as { subscriber: ReturnType<typeof createClient> }).subscriber.unsubscribe(channel);

  it('the only subscriber: PUBSUB NUMSUB names the channel', async () => {
    const channelPrefix = prefix();
    const pubsub = pubsubAt(REDIS, channelPrefix);
    const told: string[][] = [];
    pubsub.onResubscribed = (channels) => told.push([...channels]);
    try {
      const stream = await subscribe(pubsub, 'doc');
      await subscribe(pubsub, 'other');
      expect(await pubsub.check()).toEqual([]);
      await deafen(pubsub, `${channelPrefix} doc`);
      expect(await pubsub.check()).toEqual([`${channelPrefix} doc`]);
      expect(pubsub.counts).toMatchObject({ deafChannels: 1, checks: 2 });
      expect(told).toEqual([[`${channelPrefix} doc`]]);
      expect(await publishHeard(plain, stream, `${channelPrefix} doc`, { v: 3 })).toEqual({ v: 3 });
      expect(await pubsub.check()).toEqual([]);
    } finally {
      await new Promise((resolve) => pubsub.close(resolve));
    }
  });

  it('another process still listens: the connection’s count (CLIENT LIST) is short, every channel is resubscribed', async () => {
    const channelPrefix = prefix();
    const deaf = pubsubAt(REDIS, channelPrefix);
    const other = pubsubAt(REDIS, channelPrefix);
    try {
      const stream = await subscribe(deaf, 'doc');
      await subscribe(deaf, 'other');
      await subscribe(other, 'doc');
      await deafen(deaf, `${channelPrefix} doc`);
      expect((await deaf.check()).sort()).toEqual([`${channelPrefix} doc`, `${channelPrefix} other`]);
      expect(deaf.counts.deafChannels).toBe(1);
      expect(await publishHeard(plain, stream, `${channelPrefix} doc`, { v: 4 })).toEqual({ v: 4 });
      expect(await other.check()).toEqual([]);
    } finally {
      await new Promise((resolve) => deaf.close(resolve));
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe('a Redis that refuses this server', () => {
  it('attach() rejects with STORAGE_UNAVAILABLE naming the refusal, and leaves no connection open (NOAUTH)', async () => {
    const redis = await privateRedis('127.0.0.1', ['--requirepass', 'not-given']);
    const admin = createClient({ url: redis.url, password: 'not-given' });
    try {
      const error = await attach(
        { port: 0 },
        { storage: 'memory:', redis: { url: redis.url, prefix: prefix() } },
      ).then(
        (attached) => attached.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        name: 'TandemError',
        code: 'STORAGE_UNAVAILABLE',
        details: { store: 'redis' },
      });
      expect((error as Error).message).toContain('NOAUTH');
      await admin.connect();
      // Only the admin connection: node-redis would otherwise retry the refused ones for good.
      await eventually(async () => (await admin.clientList()).length === 1, 'the refused connections closed');
    } finally {
      await admin.quit().catch(() => {});
      await redis.stop();
    }
  });
});

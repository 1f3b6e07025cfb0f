/**
 * ShareDB pub/sub over Redis on node-redis v4, in place of sharedb-redis-pubsub (same channel names
 * and JSON messages, so old and new processes interoperate during a rolling deploy).
 *
 * Why our own: sharedb-redis-pubsub hands each subscribe and unsubscribe straight to node-redis. When
 * a channel's last stream leaves, ShareDB sends UNSUBSCRIBE; a subscriber arriving before Redis
 * answers finds node-redis's listener set for the channel still there, so node-redis sends no
 * SUBSCRIBE, and then the UNSUBSCRIBE reply deletes the set: the process is deaf to that document
 * while ShareDB believes it subscribed. ShareDB's PubSub base has a second window of the same kind
 * (a subscribe on a channel marked subscribed creates its stream a tick later, after a removal may
 * already have unsubscribed it). Here each channel has one state, changed by one command at a time:
 * after every reply the channel is made to match what is wanted now (streams or waiting
 * subscribers), and a subscriber gets its stream only once Redis confirmed the subscription.
 *
 * `check()` (every `checkIntervalMs`) is the production self-check: it compares this connection's
 * subscriptions with Redis's (`PUBSUB NUMSUB` per channel, `CLIENT LIST` for this connection's
 * count), counts what it finds, logs it, and resubscribes; `onResubscribed` then lets ordered
 * delivery fetch what the deaf channel missed.
 */
import { randomUUID } from 'node:crypto';
import type { createClient } from 'redis';
import type { Logger } from '../logger';
import { FencedPubSub } from '../sharedb/pubsub-base';
import type { SubscriptionStream } from '../sharedb/subscription-stream';

export type RedisClient = ReturnType<typeof createClient>;

type Callback = (error: unknown) => void;
type SubscribeCallback = (error: unknown, stream?: SubscriptionStream) => void;

interface ChannelState {
  /** What Redis confirmed last (as far as this connection knows). */
  subscribed: boolean;
  /** A SUBSCRIBE or UNSUBSCRIBE of this channel awaits its reply. */
  busy: boolean;
  /** subscribe() calls waiting for the channel to be subscribed. */
  waiting: SubscribeCallback[];
  /** `generation` when its last command was answered. */
  changed: number;
}

export interface RedisPubSubOptions {
  url: string;
  /** Channel prefix (ShareDB's: `<prefix> <channel>`). */
  prefix: string;
  logger: Logger;
  /** Self-check period; 0 turns it off. @default 30_000 */
  checkIntervalMs?: number;
  /** node-redis' `createClient` (an optional peer dependency: the caller loads it). */
  createClient: typeof createClient;
}

export interface PubSubCounts {
  /** Channels the self-check found subscribed here but not in Redis (each was resubscribed). */
  deafChannels: number;
  /** Self-checks run. */
  checks: number;
  /** Publishes Redis refused or never answered (the op is committed; subscribers elsewhere fill the gap). */
  publishErrors: number;
  /** Times the subscriber connection came back after losing Redis. */
  reconnects: number;
}

/** After a failed (un)subscribe, try to reach the wanted state again this much later. */
const RETRY_MS = 1_000;
/** Channels per PUBSUB NUMSUB / batch (UN)SUBSCRIBE command. */
const CHUNK = 500;

export class RedisPubSub extends FencedPubSub {
  /** The command connection: publishes, and what else Tandem asks Redis (rate-limit leases, PING). */
  readonly commands: RedisClient;
  private readonly subscriber: RedisClient;
  /** Redis' name for the subscriber connection, to find it in CLIENT LIST. */
  private readonly subscriberName = `tandem-sub-${randomUUID()}`;
  private readonly channels = new Map<string, ChannelState>();
  /** Bumped by every (un)subscribe sent or answered: a check that saw it move compares no counts. */
  private generation = 0;
  private closing: Promise<void> | undefined;
  /** The two connections' first connect, settled (with or without Redis). */
  private readonly connecting: Promise<void>[];
  private readonly timer: ReturnType<typeof setInterval> | undefined;
  private readonly logger: Logger;
  private connected = false;
  private failing = false;
  readonly counts: PubSubCounts = { deafChannels: 0, checks: 0, publishErrors: 0, reconnects: 0 };
  /** Channels that may have missed messages (resubscribed, or the connection came back). */
  onResubscribed: (channels: readonly string[]) => void = () => {};

  constructor(options: RedisPubSubOptions) {
    super({ prefix: options.prefix });
    this.logger = options.logger;
    this.commands = options.createClient({ url: options.url });
    this.subscriber = options.createClient({ url: options.url, name: this.subscriberName });
    // node-redis reconnects by itself; an 'error' event without a listener would crash the host.
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (error: unknown) => this.connectionError(error));
      client.on('ready', () => {
        this.failing = false;
      });
    }
    this.subscriber.on('ready', () => {
      // node-redis resubscribed every channel; what was published meanwhile was lost.
      if (this.connected) {
        this.counts.reconnects++;
        this.onResubscribed([...this.channels.keys()]);
      }
      this.connected = true;
    });
    // ShareDB emits pub/sub errors (a failed publish) as events; unheard, they would throw.
    this.on('error', (error) => this.logger.error('pub/sub error', { error: String(error) }));
    this.connecting = [this.commands, this.subscriber].map((client) =>
      client.connect().then(
        () => {},
        (error: unknown) => this.connectionError(error),
      ),
    );
    const every = options.checkIntervalMs ?? 30_000;
    if (every > 0) {
      this.timer = setInterval(() => {
        this.check().catch((error: unknown) =>
          this.logger.warn('pub/sub self-check failed', { error: String(error) }),
        );
      }, every);
      this.timer.unref();
    }
  }

  /** Whether Redis answers a PING on the command connection. */
  async ping(): Promise<void> {
    await this.commands.ping();
  }

  subscribe(channel: string, callback: SubscribeCallback = this.defaultCallback): void {
    const name = this.prefix ? `${this.prefix} ${channel}` : channel;
    if (this.closing !== undefined) {
      process.nextTick(callback, new Error('pub/sub closed'));
      return;
    }
    const state = this.stateOf(name);
    state.waiting.push(callback);
    this.reconcile(name, state);
  }

  protected channelEmptied(channel: string): void {
    const state = this.channels.get(channel);
    if (state !== undefined) this.reconcile(channel, state);
  }

  _publish(channels: string[], data: unknown, callback: Callback): void {
    const message = JSON.stringify(data);
    const sent =
      channels.length === 1
        ? this.commands.publish(channels[0], message)
        : channels.reduce((multi, channel) => multi.publish(channel, message), this.commands.multi()).exec();
    sent.then(
      () => callback(null),
      (error: unknown) => {
        this.counts.publishErrors++;
        callback(error);
      },
    );
  }

  override close(callback: Callback = this.defaultCallback): void {
    if (this.closing === undefined) {
      // Marked first: streams destroyed below must not send UNSUBSCRIBEs to a closing connection.
      this.closing = Promise.resolve();
      clearInterval(this.timer);
      super.close();
      for (const state of this.channels.values()) {
        for (const waiting of state.waiting) process.nextTick(waiting, new Error('pub/sub closed'));
      }
      this.channels.clear();
      this.closing = Promise.all([
        quit(this.commands, this.connecting[0]),
        quit(this.subscriber, this.connecting[1]),
      ]).then(() => {});
    }
    this.closing.then(() => callback(null), callback);
  }

  /**
   * Compare this connection's subscriptions with Redis and resubscribe what Redis lost: a channel
   * with no subscriber at all is deaf here; if this connection's count is short and no channel
   * can be named (another process still listens to the deaf one), every channel is resubscribed.
   * Resolves to the channels resubscribed.
   */
  async check(): Promise<string[]> {
    if (this.closing !== undefined || !this.subscriber.isReady) return [];
    this.counts.checks++;
    const generation = this.generation;
    const ours = [...this.channels].filter(([, s]) => s.subscribed && !s.busy).map(([name]) => name);
    const deaf: string[] = [];
    for (let i = 0; i < ours.length; i += CHUNK) {
      const chunk = ours.slice(i, i + CHUNK);
      const counts = await this.commands.pubSubNumSub(chunk);
      for (const channel of chunk) if (Number(counts[channel]) === 0) deaf.push(channel);
    }
    let suspects = deaf;
    let missing = deaf.length;
    if (deaf.length === 0 && ours.length === this.channels.size) {
      const clients = await this.commands.clientList({ TYPE: 'PUBSUB' });
      const self = clients.find((client) => client.name === this.subscriberName);
      // Counts are compared only when no (un)subscribe was sent or answered meanwhile.
      if (self !== undefined && this.generation === generation && self.sub < ours.length) {
        suspects = ours;
        missing = ours.length - self.sub;
      }
    }
    // Channels (un)subscribed since the snapshot were not measured: leave them to the next check.
    const live = suspects.filter((channel) => {
      const state = this.channels.get(channel);
      return state?.subscribed && !state.busy && state.changed <= generation;
    });
    if (live.length === 0) return [];
    this.counts.deafChannels += Math.min(missing, live.length);
    this.logger.warn('pub/sub: subscriptions missing in Redis; resubscribing', {
      missing,
      resubscribing: live.length,
    });
    await this.resubscribe(live);
    return live;
  }

  /** UNSUBSCRIBE then SUBSCRIBE (node-redis sends no SUBSCRIBE for a channel it has listeners for). */
  private async resubscribe(channels: string[]): Promise<void> {
    const states = channels.map((channel) => this.stateOf(channel));
    for (const state of states) state.busy = true;
    this.generation++;
    try {
      for (let i = 0; i < channels.length; i += CHUNK) {
        const chunk = channels.slice(i, i + CHUNK);
        await this.subscriber.unsubscribe(chunk);
        await this.subscriber.subscribe(chunk, this.onMessage);
      }
    } finally {
      this.generation++;
      channels.forEach((channel, i) => {
        states[i].changed = this.generation;
        states[i].busy = false;
        this.reconcile(channel, states[i]);
      });
    }
    this.onResubscribed(channels);
  }

  private readonly defaultCallback = (error: unknown): void => {
    if (error) this.emit('error', error);
  };

  private readonly onMessage = (message: string, channel: string): void => {
    let data: unknown;
    try {
      data = JSON.parse(message);
    } catch {
      this.logger.warn('pub/sub: a message that is not JSON was ignored', { channel });
      return;
    }
    this.deliver(channel, data);
  };

  private stateOf(channel: string): ChannelState {
    let state = this.channels.get(channel);
    if (state === undefined) {
      state = { subscribed: false, busy: false, waiting: [], changed: this.generation };
      this.channels.set(channel, state);
    }
    return state;
  }

  /**
   * Move a channel one command towards what is wanted now, and again after each reply; hand out
   * streams once it is subscribed. One command per channel at a time: this is what keeps a
   * SUBSCRIBE from being swallowed by an UNSUBSCRIBE still in flight.
   */
  private reconcile(channel: string, state: ChannelState): void {
    if (state.busy || this.closing !== undefined) return;
    const wanted = state.waiting.length > 0 || this.hasStreams(channel);
    if (wanted === state.subscribed) {
      if (!wanted) this.channels.delete(channel);
      else if (state.waiting.length > 0) this.handOut(channel, state);
      return;
    }
    state.busy = true;
    this.generation++;
    const sent = wanted
      ? this.subscriber.subscribe(channel, this.onMessage)
      : this.subscriber.unsubscribe(channel);
    sent.then(
      () => {
        state.changed = ++this.generation;
        state.busy = false;
        state.subscribed = wanted;
        this.reconcile(channel, state);
      },
      (error: unknown) => {
        this.generation++;
        state.busy = false;
        if (this.closing !== undefined) return;
        // A failed UNSUBSCRIBE leaves node-redis listening (it resubscribes on reconnect).
        if (wanted) {
          const waiting = state.waiting;
          state.waiting = [];
          for (const callback of waiting) callback(error);
        }
        this.logger.warn('pub/sub: (un)subscribe failed; retrying', { error: String(error) });
        setTimeout(() => this.reconcile(channel, state), RETRY_MS).unref();
      },
    );
  }

  /** Streams for the waiting subscribers, made now (so the channel stays wanted), handed over next tick. */
  private handOut(channel: string, state: ChannelState): void {
    const waiting = state.waiting;
    state.waiting = [];
    for (const callback of waiting) process.nextTick(callback, null, this.openStream(channel));
  }

  private connectionError(error: unknown): void {
    // node-redis reports every reconnect attempt; one line per outage is enough.
    if (this.failing) return;
    this.failing = true;
    this.logger.warn('redis connection error (node-redis reconnects)', { error: String(error) });
  }
}

/** How long close() waits for a connect in progress before giving up on it. */
const CONNECT_GRACE_MS = 1_000;

async function quit(client: RedisClient, connecting: Promise<void>): Promise<void> {
  if (!client.isReady) {
    // node-redis cannot abort a connect in progress (a socket it makes after `disconnect` stays
    // open for good): let it finish, briefly, then QUIT; without Redis, stop its retries.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      connecting,
      new Promise((resolve) => (timer = setTimeout(resolve, CONNECT_GRACE_MS))),
    ]);
    clearTimeout(timer);
  }
  // QUIT waits for replies in flight.
  if (client.isReady) await client.quit().catch(() => {});
  else if (client.isOpen) await client.disconnect().catch(() => {});
}

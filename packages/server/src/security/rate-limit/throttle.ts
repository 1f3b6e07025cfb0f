/**
 * One socket's throttle. Rate limits as token buckets: per connection (every message), per action (ops, presence, history
 * calls) and per user (ops of all the user's sockets; across processes through Redis). Over a limit a message is
 * not dropped but held, in order, until its buckets refill: an op is delayed, never lost, and the
 * sender gets one RATE_LIMITED notice (with `retryAfterMs`) per throttled episode. Past a tenth of
 * `maxQueued` held, the socket is not read until half of that is passed on, so a flood costs the
 * server what it admits, not what is sent (TCP pushes back on the sender). A socket that fills its
 * hold queue, or refills it to the pause mark as soon as it is read again within one episode, is
 * violating and is closed.
 * Ops also wait for the answer to the socket's previous op on the same document, as ShareDB clients
 * do on their own: a script pipelining ops into one document would otherwise have ShareDB retry
 * every concurrent submit against every commit that beat it (quadratic work for everyone).
 * Optionally (`process`) the ops of the whole process share one budget; past it, waiting ops are
 * admitted in max-min fair order across users (start-time fair queuing), so many accounts that each
 * stay under their own limits cannot crowd out light users.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { costOf } from '../../transport/shapes';
import type { Admission, Flow, Ticket } from './admission';
import { type Bucket, PENDING, TokenBucket } from './buckets';
import { type ActionBucket, bucketOf, type ResolvedRateLimits } from './options';

export interface ThrottleSink {
  /** Pass a message on (in arrival order). */

  deliver(message: Record<string, unknown>): void;
  /** Once per throttled episode: the sender is over a limit. */
  limited(error: TandemError): void;
  /** The hold queue overflowed: sustained abuse. */
  violated(error: TandemError): void;
  /** Stop reading from the socket, and read again (optional: without them the queue just grows). */
  pause?(): void;
  resume?(): void;
}

/** The document an op message names (undefined: not an op, or no document named). */
function docOf(message: Record<string, unknown>): string | undefined {
  return message.a === 'op' && typeof message.d === 'string' ? `${message.c}\u0000${message.d}` : undefined;
}

/** One socket's throttle: its buckets and the queue of held messages. */
export class Throttle {
  private readonly connection: TokenBucket;
  private readonly actions: Record<ActionBucket, TokenBucket>;
  private readonly queue: Record<string, unknown>[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  protected stopped = false;
  /** One notice per episode: set when throttling starts, cleared when the queue empties. */
  private noticeSent = false;
  /** Throttled episodes of this socket (each got one notice). */
  episodes = 0;
  /** Ops passed on and not yet answered: the `seq` of each, by document. */
  private readonly inflight = new Map<string, unknown>();
  /** Held messages at which reading pauses, and at which it resumes. */
  private readonly pauseAt: number;
  private readonly resumeAt: number;
  private paused = false;
  /** Pauses in the current episode: a second one means the sender kept flooding. */
  private pauses = 0;
  /** The head op's place in the process admission, while it waits for its turn. */
  private ticket: Ticket | undefined;
  /** The head op had its turn (process token taken) but is not passed on yet. */
  private admitted = false;
  /** The head op waits for a bucket's pending answer (a lease), which wakes the drain. */
  private leaseWait = false;
  private readonly wake = (): void => {
    this.leaseWait = false;
    if (this.timer === undefined && !this.draining) this.drain();
  };

  constructor(
    private readonly limits: ResolvedRateLimits,
    private readonly sink: ThrottleSink,
    private readonly user: Bucket | undefined,
    now: number = Date.now(),
    /** The process budget (`limits.process`) and this socket's flow in it. */
    private readonly fair?: { admission: Admission; flow: Flow },
  ) {
    this.pauseAt = Math.max(1, Math.ceil(limits.maxQueued / 10));
    this.resumeAt = Math.floor(this.pauseAt / 2);
    this.connection = new TokenBucket(limits.connection, now);
    this.actions = {
      ops: new TokenBucket(limits.ops, now),
      presence: new TokenBucket(limits.presence, now),
      history: new TokenBucket(limits.history, now),
      calls: new TokenBucket(limits.calls, now),
    };
  }

  push(message: Record<string, unknown>): void {
    if (this.stopped) return;
    if (this.queue.length >= this.limits.maxQueued) {
      this.violation();
      return;
    }
    this.queue.push(message);
    if (this.timer === undefined && !this.draining && !this.leaseWait) this.drain();
    if (this.paused || this.queue.length < this.pauseAt || this.sink.pause === undefined) return;
    if (++this.pauses > 1) {
      this.violation();
      return;
    }
    this.paused = true;
    this.sink.pause();
  }

  private violation(): void {
    this.stop();
    this.sink.violated(
      new TandemError(ErrorCode.RATE_LIMITED, 'sustained rate over the limit; closing', {
        bucket: 'queue',
        limit: this.limits.maxQueued,
        retryAfterMs: 1_000,
      }),
    );
  }

  /**
   * A message to this socket from its ShareDB agent: the answer (ack or error) to an op passed on
   * releases the next op for that document. Broadcast ops carry their edit; answers do not.
   */
  replied(message: Record<string, unknown>): void {
    const doc = docOf(message);
    if (doc === undefined || this.inflight.get(doc) !== message.seq) return;
    if (
      message.error === undefined &&
      (message.op !== undefined || message.create !== undefined || message.del !== undefined)
    )
      return;
    this.inflight.delete(doc);
    if (this.timer === undefined && !this.draining && !this.leaseWait) this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    if (this.ticket !== undefined) this.ticket.cancelled = true;
    this.ticket = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private draining = false;

  private drain(): void {
    this.timer = undefined;
    this.draining = true;
    try {
      this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  private drainQueue(): void {
    while (this.queue.length > 0 && !this.stopped) {
      // The head op waits for its turn in the process admission, which resumes the drain.
      if (this.ticket !== undefined) return;
      const message = this.queue[0];
      const doc = docOf(message);
      // Held (in order) until the previous op on this document is answered, and while this socket
      // has its fill of ops in flight; replied() resumes.
      if (doc !== undefined && (this.inflight.has(doc) || this.inflight.size >= this.limits.inflightOps))
        return;
      const now = Date.now();
      const action = bucketOf(message);
      // A message naming many documents costs one per document, on the connection's bucket.
      const cost = costOf(message);
      const buckets: [string, Bucket][] = [['connection', this.connection]];
      if (action !== undefined) buckets.push([action, this.actions[action]]);
      if (action === 'ops' && this.user !== undefined) buckets.push(['user', this.user]);
      let wait = 0;
      let bucket = '';
      let pending: Bucket | undefined;
      for (const [name, b] of buckets) {
        const w = b === this.connection ? b.wait(now, cost) : b.wait(now);
        if (w === PENDING) pending = b;
        else if (w > wait) {
          wait = w;
          bucket = name;
        }
      }
      if (wait > 0) {
        this.notice(bucket, wait);
        this.timer = setTimeout(() => this.drain(), wait);
        return;
      }
      if (pending?.whenReady !== undefined) {
        // Waiting for an answer (a lease), not over a limit: nobody is told.
        this.leaseWait = true;
        pending.whenReady(this.wake);
        return;
      }
      if (action === 'ops' && this.fair !== undefined && !this.admitted) {
        const ticket = this.fair.admission.request(this.fair.flow, () => this.turn(), now);
        if (ticket !== undefined) {
          this.ticket = ticket;
          if (ticket.heavy) this.notice('process', ticket.retryAfterMs);
          return;
        }
      }
      this.admitted = false;
      for (const [, b] of buckets) b === this.connection ? b.take(cost) : b.take();
      this.queue.shift();
      if (doc !== undefined) this.inflight.set(doc, message.seq);
      this.sink.deliver(message);
      if (this.paused && this.queue.length <= this.resumeAt) {
        this.paused = false;
        this.sink.resume?.();
      }
    }
    this.noticeSent = false;
    this.pauses = 0;
  }

  /** The head op's turn in the process admission came. */
  private turn(): void {
    this.ticket = undefined;
    this.admitted = true;
    if (this.timer === undefined && !this.draining) this.drain();
  }

  /** One RATE_LIMITED notice per throttled episode. */
  private notice(bucket: string, retryAfterMs: number): void {
    if (this.noticeSent) return;
    this.episodes++;
    this.noticeSent = true;
    this.sink.limited(
      new TandemError(ErrorCode.RATE_LIMITED, `over the ${bucket} rate limit; held`, {
        bucket,
        retryAfterMs,
      }),
    );
  }
}

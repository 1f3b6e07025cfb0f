/** Token buckets: one per socket and action, one per user shared by the user's sockets on this process. */
import type { BucketOptions } from './options';

/** What the throttle asks of a bucket: how long until `cost` tokens (default 1), and take them. */
export interface Bucket {
  /**
   * Milliseconds until `cost` tokens (default 1) are available (0: now), or PENDING while the bucket
   * asks for tokens.
   */
  wait(now: number, cost?: number): number;
  take(cost?: number): void;
  /**
   * Buckets that answer PENDING call `wake` once the answer is in. A pending wait is not a limit:
   * the sender is not told, nor counted.
   */
  whenReady?(wake: () => void): void;
}

/** `Bucket.wait`'s answer while tokens are being asked for elsewhere (a Redis lease in flight). */
export const PENDING = -1;

export class TokenBucket implements Bucket {
  private tokens: number;
  private at: number;
  constructor(
    private readonly options: BucketOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.at = now;
  }

  /**
   * Milliseconds until `cost` tokens are available (0: now). A cost over the burst waits for a full
   * bucket and takes it all: the largest message still passes, at the bucket's rate.
   */
  wait(now: number, cost = 1): number {
    this.tokens = Math.min(this.options.burst, this.tokens + ((now - this.at) * this.options.rate) / 1000);
    this.at = now;
    const need = Math.min(cost, this.options.burst);
    return this.tokens >= need ? 0 : Math.ceil(((need - this.tokens) * 1000) / this.options.rate);
  }

  take(cost = 1): void {
    this.tokens -= Math.min(cost, this.options.burst);
  }
}

/** Per-user buckets: `acquire` when a socket of the user starts, `release` when it closes. */
export interface UserBucketPool {
  acquire(userId: string, now: number): Bucket;
  release(userId: string): void;
}

/** A value shared by one user's sockets: made on the first `acquire`, forgotten after the last `release`. */
export class PerUser<T> {
  private readonly entries = new Map<string, { value: T; sockets: number }>();
  /** Values of users without sockets that `keep` still wants (recent use), swept as more go idle. */
  private readonly idle = new Map<string, T>();
  private sweepAt = 64;

  constructor(
    private readonly create: (userId: string, now: number) => T,
    private readonly keep?: (value: T, now: number) => boolean,
  ) {}

  acquire(userId: string, now: number = Date.now()): T {
    let entry = this.entries.get(userId);
    if (entry === undefined) {
      const kept = this.idle.get(userId);
      this.idle.delete(userId);
      entry = { value: kept ?? this.create(userId, now), sockets: 0 };
      this.entries.set(userId, entry);
    }
    entry.sockets++;
    return entry.value;
  }

  /** Forget a user with no sockets left, so the map does not grow with every user ever seen. */
  release(userId: string, now: number = Date.now()): void {
    const entry = this.entries.get(userId);
    if (entry === undefined || --entry.sockets > 0) return;
    this.entries.delete(userId);
    if (this.keep === undefined || !this.keep(entry.value, now)) return;
    this.idle.set(userId, entry.value);
    if (this.idle.size < this.sweepAt) return;
    for (const [id, value] of this.idle) if (!this.keep(value, now)) this.idle.delete(id);
    this.sweepAt = Math.max(64, this.idle.size * 2);
  }
}

/** Per-user buckets of one process, shared by that user's sockets. */
export class UserBuckets extends PerUser<TokenBucket> implements UserBucketPool {
  constructor(options: BucketOptions) {
    super((_, now) => new TokenBucket(options, now));
  }
}

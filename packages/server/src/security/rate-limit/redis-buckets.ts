/** Per-user buckets shared by every process through Redis (leased blocks of tokens). */
import { type Bucket, PENDING, PerUser, type UserBucketPool } from './buckets';
import type { BucketOptions } from './options';

/** The commands of a node-redis v4 client we use (the pub/sub's own command client). */
export interface RedisCounter {
  multi(): {
    incrBy(key: string, by: number): ReturnType<RedisCounter['multi']>;
    pExpire(key: string, ms: number): ReturnType<RedisCounter['multi']>;
    exec(): Promise<unknown[]>;
  };
}

/** A lease Redis has not answered by then is given from the local share (Redis down or stalled). */
const LEASE_TIMEOUT_MS = 500;

/**
 * One user's ops across every process: a counter per one-second window in Redis, from which each
 * process leases blocks of tokens so Redis sees one command per block, not per op. A window whose
 * count reached the rate grants nothing until the next window: only that is a limit.
 *
 * Blocks start small and double with each lease in a window, up to a tenth of the rate: a user
 * typing on many processes reserves a few tokens on each, not a tenth of the rate on each (which
 * with ten processes would use up the window and refuse a user far under it). The next block is
 * asked for while half of the current one is left, so a user within the limit waits for Redis at
 * most for the first op of a window, and is never told to slow down for it.
 */
class LeasedBucket implements Bucket {
  private tokens = 0;
  private window = -1;
  private pending = false;
  private deniedUntil = 0;
  /** The next lease's size, and the last one's (the next is asked for when half of it is left). */
  private block: number;
  private leased = 0;
  private readonly firstBlock: number;
  private readonly maxBlock: number;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly redis: RedisCounter,
    private readonly key: string,
    private readonly rate: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.maxBlock = Math.max(1, Math.ceil(rate / 10));
    this.firstBlock = Math.min(this.maxBlock, Math.max(1, Math.ceil(rate / 100)));
    this.block = this.firstBlock;
  }

  wait(at: number): number {
    const window = Math.floor(at / 1000);
    if (window !== this.window) {
      // Tokens leased in an earlier window do not carry over (that window's count holds them).
      this.window = window;
      this.tokens = 0;
      this.block = this.firstBlock;
    }
    if (this.tokens >= 1) return 0;
    if (at < this.deniedUntil) return this.deniedUntil - at;
    if (!this.pending) this.lease(window);
    return PENDING;
  }

  take(): void {
    this.tokens -= 1;
    if (!this.pending && this.tokens < this.leased / 2 && this.deniedUntil <= this.window * 1000)
      this.lease(this.window);
  }

  whenReady(wake: () => void): void {
    if (this.pending) this.waiters.push(wake);
    else wake();
  }

  private lease(window: number): void {
    this.pending = true;
    const block = this.block;
    this.leased = block;
    this.block = Math.min(this.maxBlock, block * 2);
    let answered = false;
    const settle = (granted: number): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (window === this.window) {
        this.tokens += granted;
        // The window's count reached the rate: nothing more until the next window.
        if (granted < block) this.deniedUntil = (window + 1) * 1000;
      }
      this.pending = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    };
    // Redis down or stalled: this process's share rather than stopping every edit.
    const fallBack = (error: unknown): void => {
      if (answered) return;
      this.onError(error);
      settle(block);
    };
    const timer = setTimeout(() => fallBack(new Error('lease timed out')), LEASE_TIMEOUT_MS);
    this.redis
      .multi()
      .incrBy(`${this.key}:${window}`, block)
      .pExpire(`${this.key}:${window}`, 2_000)
      .exec()
      .then((replies) => {
        const total = Number(replies[0]);
        settle(Math.max(0, Math.min(block, this.rate - (total - block))));
      }, fallBack);
  }
}

/** Per-user buckets shared by every process over Redis (`options.redis`). */
export class RedisUserBuckets extends PerUser<Bucket> implements UserBucketPool {
  constructor(
    redis: RedisCounter,
    prefix: string,
    options: BucketOptions,
    onError: (error: unknown) => void,
  ) {
    super(
      (userId) =>
        new LeasedBucket(
          redis,
          `${prefix}:ratelimit:user:${encodeURIComponent(userId)}`,
          options.rate,
          onError,
        ),
    );
  }
}

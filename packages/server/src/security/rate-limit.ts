/**
 * Rate limits as token buckets: per connection (every message), per action (ops, presence, history
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
import { costOf } from '../transport/shapes';

export interface BucketOptions {
  /** Tokens added per second (the sustained rate). */
  rate: number;
  /** Bucket size (the burst allowed after a quiet period). */
  burst: number;
}

export interface RateLimitOptions {
  /** Every message of one socket. @default { rate: 500, burst: 1000 } */
  connection?: BucketOptions;
  /** Ops (`a: 'op'`) of one socket; far above typing (~10/s), below a script. @default { rate: 200, burst: 400 } */
  ops?: BucketOptions;
  /** Presence updates of one socket; cursors need ~20/s at most. @default { rate: 60, burst: 120 } */
  presence?: BucketOptions;
  /** History calls of one socket; each may read many ops. @default { rate: 20, burst: 40 } */
  history?: BucketOptions;
  /**
   * Other Tandem calls of one socket: lock requests, extension calls and auth refreshes (each runs the host's
   * `authenticate` or writes the lock store). A UI takes a lock per field focused. @default { rate: 20, burst: 40 }
   */
  calls?: BucketOptions;
  /**
   * Bad messages of one socket (malformed, refused, over a limit): each is answered, and past this
   * budget the socket is closed with RATE_LIMITED (`bucket: 'faults'`) instead. An honest client
   * meets a refusal now and then. @default { rate: 10, burst: 100 }
   */
  faults?: BucketOptions;
  /**
   * Ops of one socket awaiting their answer, over all documents; later ones wait in order. ShareDB
   * clients keep one op in flight per document; a script pipelining hundreds would otherwise queue
   * them all in front of everyone else's. @default 32
   */
  inflightOps?: number;
  /**
   * Ops of one user over all their sockets (every process with `options.redis`, where `rate` is per
   * one-second window and `burst` is not used). @default { rate: 400, burst: 800 }
   */
  user?: BucketOptions;
  /** Messages held for one socket before it counts as abuse and is closed. @default 1000 */
  maxQueued?: number;
  /**
   * Ops of every socket of this process. Past it, waiting ops are admitted lightest user first
   * (max-min fair), delayed and never dropped. Size it below what the server commits without
   * slowing down, and above active users × their typing rate (a user under `rate / active users`
   * waits at most for the next token). @default off
   */
  process?: BucketOptions;
}

export type ResolvedRateLimits = Required<Omit<RateLimitOptions, 'process'>> & { process?: BucketOptions };

const DEFAULTS: ResolvedRateLimits = {
  connection: { rate: 500, burst: 1000 },
  ops: { rate: 200, burst: 400 },
  presence: { rate: 60, burst: 120 },
  history: { rate: 20, burst: 40 },
  calls: { rate: 20, burst: 40 },
  faults: { rate: 10, burst: 100 },
  inflightOps: 32,
  user: { rate: 400, burst: 800 },
  maxQueued: 1000,
};

function invalid(option: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option rateLimits.${option}`, {
    option: `rateLimits.${option}`,
  });
}

function checkBucket(name: string, value: unknown, fallback: BucketOptions): BucketOptions {
  if (value === undefined) return fallback;
  const b = value as Partial<BucketOptions>;
  if (!(typeof b.rate === 'number' && b.rate > 0 && typeof b.burst === 'number' && b.burst >= 1))
    throw invalid(`${name}: needs rate > 0 and burst >= 1`);
  return { rate: b.rate, burst: b.burst };
}

/** `false` turns rate limiting off (trusted networks, benchmarks of the engine itself). */
export function resolveRateLimits(
  options: RateLimitOptions | false | undefined,
): ResolvedRateLimits | undefined {
  if (options === false) return undefined;
  const o = options ?? {};
  const maxQueued = o.maxQueued ?? DEFAULTS.maxQueued;
  if (typeof maxQueued !== 'number' || !(maxQueued >= 1)) throw invalid('maxQueued: must be >= 1');
  const inflightOps = o.inflightOps ?? DEFAULTS.inflightOps;
  if (!Number.isInteger(inflightOps) || inflightOps < 1)
    throw invalid('inflightOps: must be an integer >= 1');
  return {
    connection: checkBucket('connection', o.connection, DEFAULTS.connection),
    ops: checkBucket('ops', o.ops, DEFAULTS.ops),
    presence: checkBucket('presence', o.presence, DEFAULTS.presence),
    history: checkBucket('history', o.history, DEFAULTS.history),
    calls: checkBucket('calls', o.calls, DEFAULTS.calls),
    faults: checkBucket('faults', o.faults, DEFAULTS.faults),
    inflightOps,
    user: checkBucket('user', o.user, DEFAULTS.user),
    maxQueued,
    process: o.process === undefined ? undefined : checkBucket('process', o.process, o.process),
  };
}

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

export type ActionBucket = 'ops' | 'presence' | 'history' | 'calls';

/** Which per-action bucket a message draws from (undefined: only the connection's). */
export function bucketOf(message: { a?: unknown; t?: unknown }): ActionBucket | undefined {
  if (message.a === 'op') return 'ops';
  // A presence request makes every other client of the channel send its presence again.
  if (message.a === 'p' || message.a === 'pr') return 'presence';
  if (message.a === 'tandem') {
    if (message.t === 'history') return 'history';
    if (message.t === 'lock' || message.t === 'auth' || message.t === 'call') return 'calls';
  }
  return undefined;
}

/** Per-user buckets: `acquire` when a socket of the user starts, `release` when it closes. */
export interface UserBucketPool {
  acquire(userId: string, now: number): Bucket;
  release(userId: string): void;
}

/** A value shared by one user's sockets: made on the first `acquire`, forgotten after the last `release`. */
class PerUser<T> {
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

/** One user's (or one anonymous socket's) place in the process-wide admission. */
export interface Flow {
  /**
   * Recent use, as the log of an exponentially decaying count of admitted ops scaled by
   * e^(t / USAGE_DECAY_S): comparable between flows whenever each was last updated
   * (-Infinity: none).
   */
  usage: number;
}

/** How fast past use is forgotten (seconds; a count halves in ~0.7× this). */
const USAGE_DECAY_S = 2;

/** log(e^a + e^b), without overflow. */
function logAddExp(a: number, b: number): number {
  const max = Math.max(a, b);
  return max === Number.NEGATIVE_INFINITY ? max : max + Math.log1p(Math.exp(Math.min(a, b) - max));
}

/** An op waiting for the process budget. */
export interface Ticket {
  /** The flow's usage when this ticket was (re)ordered: lowest first. */
  key: number;
  readonly seq: number;
  readonly flow: Flow;
  /** Estimated wait (all ops queued now, at the budget's rate). */
  readonly retryAfterMs: number;
  /**
   * A lighter flow was already waiting when it asked: only such flows are told they wait; the
   * lightest waits for the next token at most.
   */
  readonly heavy: boolean;
  /** Set by the owner when it no longer wants the turn (socket closed). */
  cancelled: boolean;
  /** Called at the op's turn; the process token is already taken. */
  readonly turn: () => void;
}

/**
 * The process-wide ops budget with fair admission. While tokens last an op passes at once; past
 * them waiting ops are admitted from a heap, the flow with the least recent use (an exponentially
 * decaying count of its admitted ops) first. A user under the fair share is always lighter than
 * the backlogged ones and waits for a token, not for them; backlogged users are admitted until
 * their use is equal (max-min fair, per user: more sockets or accounts' worth of sockets do not
 * buy a user more). O(log waiting) per held op, one timer for the whole process, nothing sorted.
 */
export class Admission {
  private readonly bucket: TokenBucket;
  /** Per-user flows, kept after a user's last socket closes while their use still counts. */
  private readonly flows: PerUser<Flow>;
  private readonly heap: Ticket[] = [];
  private readonly epoch: number;
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pumping = false;

  constructor(
    private readonly options: BucketOptions,
    now: number = Date.now(),
  ) {
    this.bucket = new TokenBucket(options, now);
    this.epoch = now;
    // A user closed and reconnecting does not start over as the lightest.
    this.flows = new PerUser(
      () => this.flow(),
      (flow, at) => flow.usage - this.time(at) > Math.log(0.5),
    );
  }

  /** The flow of `userId`, shared by that user's sockets. */
  acquire(userId: string, now: number = Date.now()): Flow {
    return this.flows.acquire(userId, now);
  }

  release(userId: string, now: number = Date.now()): void {
    this.flows.release(userId, now);
  }

  /** Time in units of USAGE_DECAY_S since this admission was made. */
  private time(now: number): number {
    return (now - this.epoch) / 1000 / USAGE_DECAY_S;
  }

  /** A flow of its own, for a socket without a user. */
  flow(): Flow {
    return { usage: Number.NEGATIVE_INFINITY };
  }

  /** Ops waiting for their turn (cancelled ones included until they reach the top). */
  get waiting(): number {
    return this.heap.length;
  }

  /**
   * Admit one op of `flow`: undefined when it passes now (its token taken), else the ticket it waits
   * with (`turn` is called when it passes). Ops never skip ones already waiting.
   */
  request(flow: Flow, turn: () => void, now: number = Date.now()): Ticket | undefined {
    if (this.heap.length === 0 && this.bucket.wait(now) === 0) {
      this.admit(flow, now);
      return undefined;
    }
    const ticket: Ticket = {
      key: flow.usage,
      seq: this.seq++,
      flow,
      retryAfterMs: Math.ceil(((this.heap.length + 1) * 1000) / this.options.rate),
      heavy: this.heap.length > 0 && this.heap[0].key < flow.usage,
      cancelled: false,
      turn,
    };
    this.push(ticket);
    if (this.timer === undefined && !this.pumping)
      this.timer = setTimeout(() => this.pump(), this.bucket.wait(now));
    return ticket;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
  }

  private admit(flow: Flow, now: number): void {
    this.bucket.take();
    flow.usage = logAddExp(flow.usage, this.time(now));
  }

  private pump(): void {
    this.timer = undefined;
    this.pumping = true;
    try {
      while (this.heap.length > 0) {
        const top = this.heap[0];
        if (top.cancelled) {
          this.pop();
          continue;
        }
        if (top.key < top.flow.usage) {
          // Its flow was admitted since (another socket of the user): order it again.
          this.pop();
          top.key = top.flow.usage;
          this.push(top);
          continue;
        }
        const now = Date.now();
        const wait = this.bucket.wait(now);
        if (wait > 0) {
          this.timer = setTimeout(() => this.pump(), wait);
          return;
        }
        this.pop();
        this.admit(top.flow, now);
        top.turn();
      }
    } finally {
      this.pumping = false;
    }
  }

  private before(a: Ticket, b: Ticket): boolean {
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
  }

  private push(ticket: Ticket): void {
    const heap = this.heap;
    let i = heap.push(ticket) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): Ticket {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop() as Ticket;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.before(heap[l], heap[m])) m = l;
        if (r < heap.length && this.before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

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
  private stopped = false;
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

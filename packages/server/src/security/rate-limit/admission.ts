/**
 * The process-wide ops budget (`rateLimits.process`): past it, waiting ops are admitted in max-min
 * fair order across users (start-time fair queuing), so many accounts that each stay under their own
 * limits cannot crowd out light users.
 */
import { PerUser, TokenBucket } from './buckets';
import type { BucketOptions } from './options';

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

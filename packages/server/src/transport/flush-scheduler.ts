/** Coalescing: what each socket is owed goes out in as few frames as the load allows. */
import { BatchCache } from './frames';

/** Something that owes its socket frames and can write them all in one go. */
export interface Flushable {
  flush(): void;
}

/**
 * Targets owed a flush, double-buffered: what is marked while they are flushed goes into the other
 * list, for the next flush.
 */
class FlushList {
  private items: Flushable[] = [];
  private spare: Flushable[] = [];

  get length(): number {
    return this.items.length;
  }

  push(target: Flushable): void {
    this.items.push(target);
  }

  /** Whether `target` was the last one pushed (a run of marks for one socket lists it once). */
  endsWith(target: Flushable): boolean {
    return this.items[this.items.length - 1] === target;
  }

  flushAll(): void {
    const items = this.items;
    if (items.length === 0) return;
    this.items = this.spare;
    for (let i = 0; i < items.length; i++) items[i].flush();
    items.length = 0;
    this.spare = items;
  }
}

/**
 * One flush per event-loop turn for all dirty connections: a single setImmediate instead of a
 * timer or closure per socket, so coalescing costs nothing per subscriber. It never waits while
 * frames are owed: whatever arrived while the last flush (or the turn's other work) ran is written
 * in the next flush, at the end of the turn. The batch grows with the load by itself, and the CPU
 * is never idle while ops are queued (pacing flushes by their own length, as an earlier version
 * did, left the server at 56–86 % CPU with ops waiting: issue #15).
 *
 * The turn itself is bounded in time. ShareDB runs a whole burst of submits (storage, transform,
 * commit, pub/sub) as one chain of nextTick callbacks and promise jobs, and Node runs no
 * setImmediate until that chain ends: waiting for the turn would hold every ack and op of the burst
 * back until the last submit of it committed (500 clients: nothing acknowledged for seconds). So
 * frames queued for longer than `maxDelayMs` (and than twice the last flush, which for hundreds of
 * sockets is itself milliseconds of writes) are flushed from inside the chain.
 */
export class FlushScheduler {
  readonly batches = new BatchCache();
  private readonly dirty = new FlushList();
  /** Sockets owed a reply their client waits on before it sends more: written before the rest. */
  private readonly first = new FlushList();
  private scheduled = false;
  /** When the oldest unflushed frame was queued (performance.now()). */
  private since = 0;
  private queuedSinceCheck = 0;
  /** How long the last flush took: an early flush waits at least twice that (writes stay ≤ ⅓ of the time). */
  private lastFlushMs = 0;

  constructor(private readonly maxDelayMs = 50) {}

  private readonly run = (): void => {
    this.scheduled = false;
    this.flushDirty();
  };

  private get owed(): boolean {
    return this.dirty.length > 0 || this.first.length > 0;
  }

  private flushDirty(): void {
    const started = performance.now();
    this.first.flushAll();
    this.dirty.flushAll();
    this.batches.clear();
    this.lastFlushMs = performance.now() - started;
  }

  mark(target: Flushable): void {
    if (!this.owed) this.since = performance.now();
    this.dirty.push(target);
    this.schedule();
  }

  /**
   * Like `mark`, but the target is written before every socket merely marked. For a submit's ack:
   * a ShareDB client sends its next op only once the last one is acknowledged, so an ack written
   * after the whole room (a millisecond per hundred sockets) holds its author back by that much. A
   * target also marked the usual way is flushed here and finds nothing owed when its turn comes.
   */
  markFirst(target: Flushable): void {
    if (!this.owed) this.since = performance.now();
    // Several replies to one socket in a turn (a burst of submits) need it listed once.
    if (!this.first.endsWith(target)) this.first.push(target);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  /**
   * Called for every frame queued. Every 64th looks at the clock (cheap enough per subscriber) and
   * flushes now when the turn has run too long; the pending setImmediate still flushes the rest.
   */
  queued(): void {
    if (++this.queuedSinceCheck < 64) return;
    this.queuedSinceCheck = 0;
    const waited = performance.now() - this.since;
    if (this.owed && waited > this.maxDelayMs && waited > 2 * this.lastFlushMs) this.flushDirty();
  }
}

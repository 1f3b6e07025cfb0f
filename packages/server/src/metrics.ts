/** Counters a host can scrape (`tandem.metrics()`); cheap enough to update on the hot path. */
import type { ErrorCode } from '@tandem/protocol';
import type { DeliveryCounts } from './pubsub/ordered-delivery';
import type { PubSubCounts } from './pubsub/redis';
import type { SecurityEventKind } from './security/audit';

/** Ordered delivery's counters, and the Redis pub/sub's with `options.redis`. */
export type PubSubMetrics = DeliveryCounts & Partial<PubSubCounts>;

export interface MetricsSnapshot {
  connections: number;
  connectionsTotal: number;
  messagesIn: number;
  framesOut: number;
  bytesOut: number;
  /** Op encodings reused from the per-op cache instead of encoding again. */
  encodeCacheHits: number;
  errors: Partial<Record<ErrorCode, number>>;
  /** Mean heartbeat round-trip time over open connections, ms (undefined before the first pong). */
  rttMs: number | undefined;
  /** Security events by kind (see security/audit.ts). */
  security: Partial<Record<SecurityEventKind, number>>;
  bytesIn: number;
  opsCommitted: number;
  /** Ops refused, by error code. */
  opsRejected: Partial<Record<ErrorCode, number>>;
  /** Conflicts reported, by kind. */
  conflicts: Record<string, number>;
  /** Documents subscribed by at least one socket of this process. */
  openDocuments: number;
  /** Submit (received → durable) and fan-out (durable → first socket owed it) latencies. */
  submitLatency: HistogramSnapshot;
  fanoutLatency: HistogramSnapshot;
  /** Ops held for order or read back from the store; deaf channels found by the Redis self-check. */
  pubsub: PubSubMetrics;
}

export interface HistogramSnapshot {
  /** Upper bounds in seconds, ascending; counts are per bucket (not cumulative), the last one +Inf. */
  bounds: readonly number[];
  counts: number[];
  sum: number;
  count: number;
}

/** Bucket bounds (s): sub-millisecond commits up to multi-second stalls. */
const LATENCY_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A fixed-bucket histogram: one array increment per observation, so it can sit on the hot path. */
export class Histogram {
  private readonly counts = new Array<number>(LATENCY_BOUNDS.length + 1).fill(0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BOUNDS.length && seconds > LATENCY_BOUNDS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: LATENCY_BOUNDS, counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

export class Metrics {
  connections = 0;
  connectionsTotal = 0;
  messagesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  encodeCacheHits = 0;
  readonly errors: Partial<Record<ErrorCode, number>> = {};
  bytesIn = 0;
  opsCommitted = 0;
  readonly opsRejected: Partial<Record<ErrorCode, number>> = {};
  readonly conflicts: Record<string, number> = {};
  readonly submitLatency = new Histogram();
  readonly fanoutLatency = new Histogram();

  countError(code: ErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(
    rtts: Iterable<number | undefined>,
    security: Partial<Record<SecurityEventKind, number>> = {},
    openDocuments = 0,
    pubsub: PubSubMetrics = { held: 0, fills: 0, filledOps: 0, duplicates: 0, fillErrors: 0 },
  ): MetricsSnapshot {
    let sum = 0;
    let n = 0;
    for (const rtt of rtts) {
      if (rtt === undefined) continue;
      sum += rtt;
      n++;
    }
    return {
      connections: this.connections,
      connectionsTotal: this.connectionsTotal,
      messagesIn: this.messagesIn,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      encodeCacheHits: this.encodeCacheHits,
      errors: { ...this.errors },
      rttMs: n === 0 ? undefined : sum / n,
      security: { ...security },
      bytesIn: this.bytesIn,
      opsCommitted: this.opsCommitted,
      opsRejected: { ...this.opsRejected },
      conflicts: { ...this.conflicts },
      openDocuments,
      submitLatency: this.submitLatency.snapshot(),
      fanoutLatency: this.fanoutLatency.snapshot(),
      pubsub: { ...pubsub },
    };
  }
}

/**
 * When this process committed an op, by `collection/id@version` (Redis pub/sub hands subscribers a
 * copy, so the op object is no key). Ops no socket here is owed are dropped wholesale at the bound.
 */
const committedAt = new Map<string, number>();
const MAX_PENDING_FANOUT = 10_000;

/** Time submits and fan-out: two timestamps and one map entry (keyed by a string) per committed op. */
export function installTimings(
  backend: { use(action: string, fn: (context: any, next: () => void) => void): unknown },
  metrics: Metrics,
): void {
  backend.use('submit', (context, next) => {
    context.custom.tandemReceivedAt = performance.now();
    next();
  });
  backend.use('afterWrite', (context, next) => {
    const now = performance.now();
    const started = context.custom?.tandemReceivedAt;
    if (typeof started === 'number') metrics.submitLatency.observe((now - started) / 1000);
    metrics.opsCommitted++;
    if (committedAt.size >= MAX_PENDING_FANOUT) committedAt.clear();
    committedAt.set(`${context.collection}/${context.id}@${context.op?.v}`, now);
    next();
  });
}

/** Called when an op is owed to a socket of this process; the first such socket ends its fan-out. */
export function observeFanout(metrics: Metrics, collection: string, id: string, version: number): void {
  if (committedAt.size === 0) return;
  const key = `${collection}/${id}@${version}`;
  const at = committedAt.get(key);
  if (at === undefined) return;
  committedAt.delete(key);
  metrics.fanoutLatency.observe((performance.now() - at) / 1000);
}

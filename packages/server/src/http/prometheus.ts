/**
 * Tandem's counters in Prometheus format (prom-client). Nothing here runs on the hot path: the hot
 * path only bumps plain counters (metrics.ts); this registry reads them when scraped.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { HistogramSnapshot } from '../metrics';
import type { Tandem } from '../tandem';

export interface PrometheusOptions {
  /** Metric name prefix. @default 'tandem_' */
  prefix?: string;
  /** Also collect Node's default metrics (event loop lag, heap, GC, CPU). @default true */
  defaultMetrics?: boolean;
}

/** A histogram whose buckets are already counted elsewhere, in prom-client's metric shape. */
function histogramMetric(name: string, help: string, read: () => HistogramSnapshot) {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    async get() {
      const h = read();
      const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
      let cumulative = 0;
      h.bounds.forEach((bound, i) => {
        cumulative += h.counts[i];
        values.push({ labels: { le: bound }, value: cumulative, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf' }, value: h.count, metricName: `${name}_bucket` });
      values.push({ labels: {}, value: h.sum, metricName: `${name}_sum` });
      values.push({ labels: {}, value: h.count, metricName: `${name}_count` });
      return { name, help, type: 'histogram', values, aggregator: 'sum' };
    },
    reset() {},
  };
}

export function prometheusRegistry(tandem: Tandem, options: PrometheusOptions = {}): Registry {
  const prefix = options.prefix ?? 'tandem_';
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  // One snapshot per scrape, shared by every collector of that scrape.
  type Snapshot = ReturnType<Tandem['metrics']>;
  let last: { at: number; snapshot: Snapshot } | undefined;
  const snapshot = (): Snapshot => {
    const now = Date.now();
    if (last === undefined || now - last.at > 100) last = { at: now, snapshot: tandem.metrics() };
    return last.snapshot;
  };

  const gauge = (name: string, help: string, read: (m: Snapshot) => number) =>
    new Gauge({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        this.set(read(snapshot()));
      },
    });
  const counter = (name: string, help: string, read: (m: Snapshot) => number) =>
    new Counter({
      name: prefix + name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(snapshot()));
      },
    });
  const labelled = (
    name: string,
    help: string,
    label: string,
    read: (m: Snapshot) => Record<string, number>,
  ) =>
    new Counter({
      name: prefix + name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        this.reset();
        for (const [key, value] of Object.entries(read(snapshot()))) this.inc({ [label]: key }, value);
      },
    });

  gauge('connections', 'Open WebSocket connections', (m) => m.connections);
  gauge(
    'open_documents',
    'Documents subscribed by at least one socket of this process',
    (m) => m.openDocuments,
  );
  counter('connections_total', 'Connections accepted', (m) => m.connectionsTotal);
  counter('ops_committed_total', 'Ops committed by this process', (m) => m.opsCommitted);
  labelled(
    'ops_rejected_total',
    'Ops refused, by error code',
    'reason',
    (m) => m.opsRejected as Record<string, number>,
  );
  labelled('conflicts_total', 'Conflicts reported, by kind', 'kind', (m) => m.conflicts);
  labelled(
    'errors_total',
    'Typed errors sent to clients, by code',
    'code',
    (m) => m.errors as Record<string, number>,
  );
  labelled(
    'security_events_total',
    'Security events, by kind',
    'kind',
    (m) => m.security as Record<string, number>,
  );
  counter(
    'pubsub_held_ops_total',
    'Ops that arrived ahead of a gap and were held for order',
    (m) => m.pubsub.held,
  );
  counter(
    'pubsub_fills_total',
    'Reads of missing ops from the store (gap or catch-up)',
    (m) => m.pubsub.fills,
  );
  counter(
    'pubsub_filled_ops_total',
    'Ops read back from the store for subscribers',
    (m) => m.pubsub.filledOps,
  );
  if (tandem.options.redis !== undefined) {
    counter(
      'pubsub_deaf_channels_total',
      'Channels the self-check found missing in Redis (resubscribed)',
      (m) => m.pubsub.deafChannels ?? 0,
    );
    counter('pubsub_publish_errors_total', 'Publishes Redis refused', (m) => m.pubsub.publishErrors ?? 0);
    counter('pubsub_reconnects_total', 'Redis subscriber reconnects', (m) => m.pubsub.reconnects ?? 0);
  }
  counter('bytes_in_total', 'Bytes received from clients', (m) => m.bytesIn);
  counter('bytes_out_total', 'Bytes sent to clients', (m) => m.bytesOut);
  counter('messages_in_total', 'Messages received from clients', (m) => m.messagesIn);
  if (tandem.metrics().webhooks !== undefined) {
    labelled('webhook_deliveries_total', 'Webhook deliveries, by outcome', 'outcome', (m) => {
      const { queued: _, ...outcomes } = m.webhooks ?? { queued: 0 };
      return outcomes;
    });
    gauge('webhook_queued', 'Webhook deliveries waiting or in flight', (m) => m.webhooks?.queued ?? 0);
  }
  registry.registerMetric(
    histogramMetric(
      `${prefix}submit_latency_seconds`,
      'Op received to durable',
      () => snapshot().submitLatency,
    ) as never,
  );
  registry.registerMetric(
    histogramMetric(
      `${prefix}fanout_latency_seconds`,
      'Op durable to first socket owed it (committing process)',
      () => snapshot().fanoutLatency,
    ) as never,
  );
  return registry;
}

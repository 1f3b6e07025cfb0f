/**
 * Reading the Prometheus text the server's /metrics serves (what a Prometheus scrapes), and the few
 * figures the dashboard draws: rates come from two scrapes, p99 from the histogram buckets' growth
 * over a window, as Prometheus' rate() and histogram_quantile() compute them.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue; // comments, blank lines
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key] = value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** One scrape, reduced to what the dashboard shows. */
export interface Scrape {
  at: number;
  connections: number;
  ops: number;
  conflicts: number;
  rateLimited: number;
  /** Ops refused (any reason) and other security refusals (forbidden, auth failures, …). */
  refused: number;
  submit: Buckets;
  fanout: Buckets;
}

/** Cumulative bucket counts by upper bound (seconds), ascending; the last is +Inf. */
type Buckets = [number, number][];

const sum = (samples: Sample[], name: string, keep: (s: Sample) => boolean = () => true) =>
  samples.filter((s) => s.name === name && keep(s)).reduce((total, s) => total + s.value, 0);

const buckets = (samples: Sample[], name: string): Buckets =>
  samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s): [number, number] => [
      s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le),
      s.value,
    ])
    .sort((a, b) => a[0] - b[0]);

export function reduce(samples: Sample[], at: number): Scrape {
  return {
    at,
    connections: sum(samples, 'tandem_connections'),
    ops: sum(samples, 'tandem_ops_committed_total'),
    conflicts: sum(samples, 'tandem_conflicts_total'),
    rateLimited: sum(samples, 'tandem_security_events_total', (s) => s.labels.kind === 'rate_limited'),
    refused:
      sum(samples, 'tandem_ops_rejected_total') +
      sum(samples, 'tandem_security_events_total', (s) =>
        ['forbidden', 'auth_failed', 'origin_refused'].includes(s.labels.kind),
      ),
    submit: buckets(samples, 'tandem_submit_latency_seconds'),
    fanout: buckets(samples, 'tandem_fanout_latency_seconds'),
  };
}

/** The q-quantile (ms) of what the histogram observed between two scrapes; undefined when nothing was. */
export function quantile(q: number, before: Buckets, after: Buckets): number | undefined {
  const grown = after.map(([le, count], i) => [le, count - (before[i]?.[1] ?? 0)] as const);
  const total = grown.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const [le, count] of grown) {
    if (count >= rank) {
      // Linear within the bucket; the +Inf bucket answers with its lower bound.
      const upper = Number.isFinite(le) ? le : lower;
      return 1000 * (lower + ((upper - lower) * (rank - below)) / Math.max(count - below, 1));
    }
    lower = le;
    below = count;
  }
  return undefined;
}

/** Part 4, operations: a live dashboard of this server's /metrics (Prometheus text), once a second. */
import { useEffect, useState } from 'react';
import { Chart } from './Chart';
import { parsePrometheus, quantile, reduce, type Scrape } from './metrics';

const POINTS = 60;
/** p99 over the last few seconds (a one-second window is mostly empty). */
const WINDOW = 10;

export function OpsPage() {
  const [scrapes, setScrapes] = useState<Scrape[]>([]);
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    let stopped = false;
    const scrape = async () => {
      try {
        const response = await fetch('/metrics');
        const next = reduce(parsePrometheus(await response.text()), performance.now());
        if (!stopped) setScrapes((all) => [...all.slice(-POINTS), next]);
        setFailure(undefined);
      } catch (error) {
        setFailure(String(error));
      }
    };
    void scrape();
    const timer = setInterval(scrape, 1000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  const points = scrapes.slice(1).map((now, i) => {
    const before = scrapes[i];
    const windowStart = scrapes[Math.max(0, i + 1 - WINDOW)];
    return {
      connections: now.connections,
      opsPerSecond: ((now.ops - before.ops) * 1000) / (now.at - before.at),
      submitP99: quantile(0.99, windowStart.submit, now.submit),
      fanoutP99: quantile(0.99, windowStart.fanout, now.fanout),
      conflicts: now.conflicts,
      rateLimited: now.rateLimited,
      refused: now.refused,
    };
  });
  const series = <K extends keyof (typeof points)[number]>(key: K) => points.map((p) => p[key]);
  return (
    <div className="ops">
      <h2>Operations</h2>
      <p>
        This server's <a href="/metrics">/metrics</a>, scraped once a second (the last minute).
        {failure !== undefined && <span className="error"> Scrape failed: {failure}</span>}
      </p>
      <div className="charts">
        <Chart
          title="Connections"
          unit=""
          series={[{ label: 'open', colour: '#2563eb', values: series('connections') }]}
        />
        <Chart
          title="Ops"
          unit="/s"
          series={[{ label: 'committed', colour: '#16a34a', values: series('opsPerSecond') }]}
        />
        <Chart
          title="p99 latency"
          unit="ms"
          series={[
            { label: 'submit', colour: '#9333ea', values: series('submitP99') },
            { label: 'fan-out', colour: '#ea580c', values: series('fanoutP99') },
          ]}
        />
        <Chart
          title="Conflicts"
          unit="total"
          series={[{ label: 'reported', colour: '#dc2626', values: series('conflicts') }]}
        />
        <Chart
          title="Refusals"
          unit="total"
          series={[
            { label: 'refused', colour: '#b91c1c', values: series('refused') },
            { label: 'rate-limited', colour: '#ca8a04', values: series('rateLimited') },
          ]}
        />
      </div>
    </div>
  );
}

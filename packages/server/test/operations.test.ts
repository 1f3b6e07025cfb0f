import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@tandem/protocol';
import { attach } from '@tandem/server';
import { healthHandler, prometheusHandler, readyHandler } from '@tandem/server/express';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { client, until } from './helpers';
import { REDIS_URL } from './redis-url';

function metricValue(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('/metrics, /health, /ready', () => {
  it('serves Prometheus metrics that follow the traffic, and health/readiness of store and Redis', async () => {
    const app = express();
    const attached = await attach(app, {
      storage: 'memory:',
      redis: { url: REDIS_URL, prefix: `tandem-ops-${process.pid}-${Date.now()}` },
      hooks: { authorize: ({ id }) => id !== 'secret' },
    });
    const { tandem } = attached;
    app.get('/metrics', prometheusHandler(tandem));
    app.get('/health', healthHandler(tandem));
    app.get('/ready', readyHandler(tandem));
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const c = client(attached.url());
    const watcher = client(attached.url());
    try {
      const doc = c.doc<{ n: number }>('notes', 'm1');
      await doc.create({ n: 0 });
      await doc.subscribe();
      const watched = watcher.doc<{ n: number }>('notes', 'm1');
      await watched.subscribe();
      for (let i = 1; i <= 3; i++) await doc.submit(['n', { r: true, i }]);
      await until(() => watched.data?.n === 3, 5_000, 'fan-out');
      await expect(c.doc('notes', 'secret').create({ n: 1 })).rejects.toMatchObject({
        code: ErrorCode.FORBIDDEN,
      });

      const response = await fetch(`${base}/metrics`);
      expect(response.headers.get('content-type')).toContain('text/plain');
      const text = await response.text();
      expect(metricValue(text, 'tandem_connections')).toBe(2);
      expect(metricValue(text, 'tandem_open_documents')).toBe(1);
      expect(metricValue(text, 'tandem_ops_committed_total')).toBe(4);
      expect(metricValue(text, 'tandem_ops_rejected_total{reason="FORBIDDEN"}')).toBe(1);
      expect(metricValue(text, 'tandem_security_events_total{kind="forbidden"}')).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, 'tandem_submit_latency_seconds_count')).toBe(4);
      expect(metricValue(text, 'tandem_submit_latency_seconds_bucket{le="+Inf"}')).toBe(4);
      expect(metricValue(text, 'tandem_fanout_latency_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(metricValue(text, 'tandem_bytes_in_total')).toBeGreaterThan(0);
      expect(metricValue(text, 'tandem_bytes_out_total')).toBeGreaterThan(0);
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect(text).toContain('# TYPE tandem_conflicts_total counter');

      const health = await fetch(`${base}/health`);
      expect(health.status).toBe(200);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ ready: true, store: true, redis: true });
    } finally {
      await Promise.all([c.close(), watcher.close()]);
      await attached.close();
    }
    // Once closing: not alive for the load balancer, not ready.
    expect((await fetch(`${base}/health`)).status).toBe(503);
    expect((await fetch(`${base}/ready`)).status).toBe(503);
    await new Promise((resolve) => server.close(resolve));
  });
});

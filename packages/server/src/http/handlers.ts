/**
 * Express-style handlers for health, readiness and metrics next to the endpoint (`@tandem/server/express`).
 * Kept on a subpath so the core never depends on Express (or prom-client's registry).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Tandem } from '../tandem';
import { type PrometheusOptions, prometheusRegistry } from './prometheus';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export function json(response: ServerResponse, status: number, body: unknown): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json');
  response.end(JSON.stringify(body));
}

/** `app.get('/tandem/metrics.json', metricsHandler(tandem))`: the counters as JSON. */
export function metricsHandler(tandem: Tandem): Handler {
  return (_request, response) => json(response, 200, tandem.metrics());
}

/** `app.get('/metrics', prometheusHandler(tandem))`: Prometheus text format (prom-client). */
export function prometheusHandler(tandem: Tandem, options?: PrometheusOptions): Handler {
  const registry = prometheusRegistry(tandem, options);
  return (_request, response) => {
    registry.metrics().then(
      (text) => {
        response.setHeader('Content-Type', registry.contentType);
        response.end(text);
      },
      (error: unknown) => json(response, 500, { error: String(error) }),
    );
  };
}

/** `app.get('/health', healthHandler(tandem))`: 200 while the process serves (liveness), 503 once closing. */
export function healthHandler(tandem: Tandem): Handler {
  return (_request, response) =>
    json(response, tandem.closing ? 503 : 200, { status: tandem.closing ? 'closing' : 'ok' });
}

/** `app.get('/ready', readyHandler(tandem))`: 200 when the store (and Redis, if configured) answer; else 503. */
export function readyHandler(tandem: Tandem): Handler {
  return (_request, response) => {
    tandem.readiness().then(
      (readiness) => json(response, readiness.ready ? 200 : 503, readiness),
      () => json(response, 503, { ready: false }),
    );
  };
}

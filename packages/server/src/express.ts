/**
 * `@tandem/server/express`: Express-style handlers for health, readiness and metrics next to the
 * endpoint. Kept on a subpath so the core never depends on Express (or prom-client's registry).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, TandemError } from '@tandem/protocol';
import type { Principal } from './hooks';
import { type PrometheusOptions, prometheusRegistry } from './security/prometheus';
import type { SessionState } from './security/sessions';
import type { Tandem } from './tandem';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

function json(response: ServerResponse, status: number, body: unknown): void {
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

export type { PrometheusOptions } from './security/prometheus';

export interface AdminOptions {
  /** Who is calling (e.g. from your session cookie or a bearer token); throw or return undefined to refuse (401). */
  principalOf(request: IncomingMessage): Principal | undefined | Promise<Principal | undefined>;
}

/**
 * `app.use('/tandem/admin', adminHandler(tandem, { principalOf }))`: sessions list and revoke, and
 * readiness, for operators. Every route asks the `authorize` hook for `action: 'admin'` (collection
 * `sessions` or `server`); without an `authorize` hook every admin call is refused.
 *
 * - `GET /sessions?userId=&state=` → session records
 * - `POST /sessions/:id/revoke` and `POST /users/:id/revoke` → the revoked records
 * - `GET /health` → readiness
 */
export function adminHandler(tandem: Tandem, options: AdminOptions): Handler {
  const authorize = tandem.options.hooks.authorize;
  const allowed = async (principal: Principal, collection: string, id: string) =>
    authorize !== undefined && (await authorize({ principal, action: 'admin', collection, id })) === true;

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const principal = await Promise.resolve()
      .then(() => options.principalOf(request))
      .catch(() => undefined);
    if (principal === undefined)
      return json(response, 401, { code: ErrorCode.UNAUTHORIZED, message: 'sign in' });
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const refuse = () => json(response, 403, { code: ErrorCode.FORBIDDEN, message: 'not an administrator' });
    if (request.method === 'GET' && parts.length === 1 && parts[0] === 'sessions') {
      if (!(await allowed(principal, 'sessions', '*'))) return refuse();
      const state = url.searchParams.get('state') ?? undefined;
      return json(
        response,
        200,
        await tandem.sessions.list({
          userId: url.searchParams.get('userId') ?? undefined,
          state: state as SessionState | undefined,
        }),
      );
    }
    if (
      request.method === 'POST' &&
      parts.length === 3 &&
      parts[2] === 'revoke' &&
      (parts[0] === 'sessions' || parts[0] === 'users')
    ) {
      if (!(await allowed(principal, 'sessions', parts[1]))) return refuse();
      const target = parts[0] === 'sessions' ? parts[1] : { userId: parts[1] };
      return json(response, 200, await tandem.sessions.revoke(target, `revoked by ${principal.id}`));
    }
    if (request.method === 'GET' && parts.length === 1 && parts[0] === 'health') {
      if (!(await allowed(principal, 'server', 'health'))) return refuse();
      return json(response, 200, await tandem.readiness());
    }
    json(response, 404, { code: ErrorCode.NOT_FOUND, message: 'no such admin route' });
  };

  return (request, response) => {
    route(request, response).catch((error: unknown) => {
      const wire = TandemError.from(error);
      json(response, wire.code === ErrorCode.FORBIDDEN ? 403 : 500, wire.toJSON());
    });
  };
}

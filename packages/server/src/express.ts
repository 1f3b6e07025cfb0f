/** `@tandem/server/express`: handlers for health, readiness, metrics and the admin router. */
export type { AdminOptions } from './http/admin';
export { adminHandler } from './http/admin';
export type { Handler } from './http/handlers';
export { healthHandler, metricsHandler, prometheusHandler, readyHandler } from './http/handlers';
export type { PrometheusOptions } from './http/prometheus';

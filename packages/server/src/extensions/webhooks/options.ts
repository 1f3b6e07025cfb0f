/** `options.webhooks`: endpoints, retries and bounds, checked at creation. */
import { invalidOption } from '@tandem/protocol';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events';

export interface WebhookEndpoint {
  /** http(s) URL the events are POSTed to. */
  url: string;
  /**
   * Signing secret, at least 16 characters. A list signs with each (one `v1=` per secret), so a
   * secret can be rotated without a window where receivers refuse deliveries.
   */
  secret: string | readonly string[];
  /** Event types sent to this endpoint. @default every type */
  events?: readonly WebhookEventType[];
}

export interface WebhooksOptions {
  endpoints: readonly WebhookEndpoint[];
  /** Attempts per delivery, the first included. @default 5 */
  maxAttempts?: number;
  /** Per-attempt timeout (the request is aborted). @default 10_000 */
  timeoutMs?: number;
  /** First retry delay; each next one doubles, with jitter (half fixed, half random). @default 1_000 */
  backoffMs?: number;
  /** Longest retry delay (also caps a receiver's Retry-After). @default 60_000 */
  maxBackoffMs?: number;
  /**
   * Deliveries held at once (waiting, in flight or waiting to retry); past it new ones are dropped
   * and counted. 1000 deliveries ride out a minute-long receiver outage at ~15 events/s.
   * @default 1_000
   */
  maxQueued?: number;
  /** Bytes of event bodies held at once; past it new deliveries are dropped and counted. @default 16 MiB */
  maxQueuedBytes?: number;
  /** Requests in flight at once. @default 8 */
  concurrency?: number;
  /** How long `tandem.close()` keeps delivering what is queued before abandoning it (counted as dropped). @default 5_000 */
  closeTimeoutMs?: number;
}

export type ResolvedWebhooks = Required<Omit<WebhooksOptions, 'endpoints'>> & {
  endpoints: { url: string; secrets: readonly string[]; events: ReadonlySet<WebhookEventType> }[];
};

export interface WebhookCounts {
  /** Deliveries a receiver answered with 2xx. */
  delivered: number;
  /** Deliveries given up: attempts exhausted, or refused with a 4xx other than 408/429. */
  failed: number;
  /** Attempts that failed and were scheduled again. */
  retried: number;
  /** Deliveries never attempted to the end: the queue was full, or close() abandoned them. */
  dropped: number;
  /** Deliveries held now. */
  queued: number;
}

const MIN_SECRET_LENGTH = 16;

const DEFAULTS = {
  maxAttempts: 5,
  timeoutMs: 10_000,
  backoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxQueued: 1_000,
  maxQueuedBytes: 16 * 1024 * 1024,
  concurrency: 8,
  closeTimeoutMs: 5_000,
} as const;

/** Check `options.webhooks` at creation; undefined when there is nothing to deliver to. */
export function resolveWebhooks(value: unknown): ResolvedWebhooks | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidOption('webhooks', 'must be an object');
  const given = value as Record<string, unknown>;
  const known = new Set(['endpoints', ...Object.keys(DEFAULTS)]);
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw invalidOption(`webhooks.${key}`, 'unknown option');
  }
  const numbers = { ...DEFAULTS } as Record<keyof typeof DEFAULTS, number>;
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const n = given[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      throw invalidOption(`webhooks.${key}`, 'must be a positive integer');
    numbers[key] = n;
  }
  if (!Array.isArray(given.endpoints)) throw invalidOption('webhooks.endpoints', 'must be an array');
  const types = new Set<string>(WEBHOOK_EVENT_TYPES);
  const endpoints = given.endpoints.map((endpoint: unknown, i) => {
    const option = `webhooks.endpoints[${i}]`;
    if (typeof endpoint !== 'object' || endpoint === null) throw invalidOption(option, 'must be an object');
    const { url, secret, events, ...rest } = endpoint as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw invalidOption(`${option}.${extra}`, 'unknown option');
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined;
    } catch {}
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      throw invalidOption(`${option}.url`, 'must be an http(s) URL');
    const secrets = typeof secret === 'string' ? [secret] : secret;
    if (
      !Array.isArray(secrets) ||
      secrets.length === 0 ||
      !secrets.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    )
      throw invalidOption(
        `${option}.secret`,
        `must be a string (or list) of at least ${MIN_SECRET_LENGTH} characters`,
      );
    if (events !== undefined && (!Array.isArray(events) || !events.every((e) => types.has(e))))
      throw invalidOption(
        `${option}.events`,
        `must list event types among ${WEBHOOK_EVENT_TYPES.join(', ')}`,
      );
    return {
      url: parsed.href,
      secrets: [...secrets] as string[],
      events: new Set((events ?? WEBHOOK_EVENT_TYPES) as WebhookEventType[]),
    };
  });
  return { ...numbers, endpoints };
}

/**
 * Signed webhooks: each event (commit, named version, conflict, revocation, comment) is POSTed as JSON to
 * every endpoint that asked for its type, signed Stripe-style — `Tandem-Signature: t=<unix s>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">` — and retried with exponential backoff and jitter on network errors,
 * timeouts, 408, 429 and 5xx. Delivery is at least once (receivers dedupe by the event `id`, which
 * stays the same across retries) and unordered.
 *
 * Nothing here runs on the commit path beyond serialising the event: sending happens on a later
 * turn of the event loop, and memory is bounded by a queue whose overflow is dropped and counted.
 * The queue is in memory: events pending when a process dies are lost (documented in the README).
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { isReservedCollection } from '@tandem/conflicts';
import { ErrorCode, type OpAuthor, type Result, TandemError, unwrap } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import type { Logger } from '../logger';

export const WEBHOOK_EVENT_TYPES = [
  'document.committed',
  'version.created',
  'conflict.detected',
  'session.revoked',
  // Raised by @tandem/comments when it is installed.
  'comment.created',
  'comment.resolved',
  'mention.created',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a receiver gets as the JSON body. */
export interface WebhookEvent<T = unknown> {
  /** Unique per event; the same on every retry and for every endpoint. */
  id: string;
  type: WebhookEventType;
  /** When the event happened, ms since the epoch. */
  createdAt: number;
  data: T;
}

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

/** The payload of `document.committed`: the op, with who made it and the version it produced. */
export interface CommitEventData {
  collection: string;
  id: string;
  /** The document's version after this op (what `snapshotAt`/revert take). */
  version: number;
  kind: 'create' | 'op' | 'delete';
  author: OpAuthor | null;
  /** The json1 op (absent for create and delete). */
  op?: unknown;
}

export const SIGNATURE_HEADER = 'tandem-signature';
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

function invalid(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option ${option}: ${reason}`, { option, reason });
}

/** Check `options.webhooks` at creation; undefined when there is nothing to deliver to. */
export function resolveWebhooks(value: unknown): ResolvedWebhooks | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('webhooks', 'must be an object');
  const given = value as Record<string, unknown>;
  const known = new Set(['endpoints', ...Object.keys(DEFAULTS)]);
  for (const key of Object.keys(given)) {
    if (!known.has(key)) throw invalid(`webhooks.${key}`, 'unknown option');
  }
  const numbers = { ...DEFAULTS } as Record<keyof typeof DEFAULTS, number>;
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const n = given[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1)
      throw invalid(`webhooks.${key}`, 'must be a positive integer');
    numbers[key] = n;
  }
  if (!Array.isArray(given.endpoints)) throw invalid('webhooks.endpoints', 'must be an array');
  const types = new Set<string>(WEBHOOK_EVENT_TYPES);
  const endpoints = given.endpoints.map((endpoint: unknown, i) => {
    const option = `webhooks.endpoints[${i}]`;
    if (typeof endpoint !== 'object' || endpoint === null) throw invalid(option, 'must be an object');
    const { url, secret, events, ...rest } = endpoint as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw invalid(`${option}.${extra}`, 'unknown option');
    let parsed: URL | undefined;
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined;
    } catch {}
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
      throw invalid(`${option}.url`, 'must be an http(s) URL');
    const secrets = typeof secret === 'string' ? [secret] : secret;
    if (
      !Array.isArray(secrets) ||
      secrets.length === 0 ||
      !secrets.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    )
      throw invalid(
        `${option}.secret`,
        `must be a string (or list) of at least ${MIN_SECRET_LENGTH} characters`,
      );
    if (events !== undefined && (!Array.isArray(events) || !events.every((e) => types.has(e))))
      throw invalid(`${option}.events`, `must list event types among ${WEBHOOK_EVENT_TYPES.join(', ')}`);
    return {
      url: parsed.href,
      secrets: [...secrets] as string[],
      events: new Set((events ?? WEBHOOK_EVENT_TYPES) as WebhookEventType[]),
    };
  });
  return { ...numbers, endpoints };
}

/** Over the exact bytes: a receiver must not verify a re-encoded (or re-serialised) body. */
function sign(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const bag = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(bag).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : bag[key];
  return Array.isArray(value) ? value[0] : value;
}

function refusal(reason: 'missing' | 'malformed' | 'signature' | 'timestamp', message: string): TandemError {
  return new TandemError(ErrorCode.UNAUTHORIZED, `webhook refused: ${message}`, { reason });
}

/**
 * For receivers: check a delivery's `Tandem-Signature` against the raw body (the exact bytes
 * received, before any JSON parsing) and parse it. Refusals are UNAUTHORIZED with `details.reason`:
 * `missing` (no header), `malformed`, `signature` (no `v1` matches any of the secrets), `timestamp`
 * (signed more than `toleranceSec` from now, either way: a replayed delivery).
 */
export function tryVerifyWebhook(
  secret: string | readonly string[],
  headers: HeaderBag,
  body: string | Uint8Array,
  toleranceSec = 300,
  now: number = Date.now(),
): Result<WebhookEvent> {
  const fail = (error: TandemError): Result<never> => ({ ok: false, error });
  const value = header(headers, SIGNATURE_HEADER);
  if (value === undefined) return fail(refusal('missing', `no ${SIGNATURE_HEADER} header`));
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const [key, v] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (key === 't' && /^\d+$/.test(v)) timestamp = Number(v);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(v)) signatures.push(v);
  }
  if (timestamp === undefined || signatures.length === 0)
    return fail(refusal('malformed', 'the signature header needs t= and v1='));
  const secrets = typeof secret === 'string' ? [secret] : secret;
  // Compare digests of equal length in constant time; every pair is compared, match or not.
  let matched = false;
  for (const s of secrets) {
    const expected = Buffer.from(sign(s, timestamp, body), 'hex');
    for (const given of signatures) {
      if (timingSafeEqual(expected, Buffer.from(given, 'hex'))) matched = true;
    }
  }
  if (!matched) return fail(refusal('signature', 'signature does not match'));
  if (Math.abs(Math.floor(now / 1000) - timestamp) > toleranceSec)
    return fail(refusal('timestamp', `signed more than ${toleranceSec} s from now`));
  try {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    return { ok: true, value: JSON.parse(text) as WebhookEvent };
  } catch {
    return fail(refusal('malformed', 'the body is not JSON'));
  }
}

/** The throwing form of `tryVerifyWebhook`: the parsed event, or a TandemError UNAUTHORIZED. */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: HeaderBag,
  body: string | Uint8Array,
  toleranceSec = 300,
): WebhookEvent {
  return unwrap(tryVerifyWebhook(secret, headers, body, toleranceSec));
}

interface Delivery {
  endpoint: ResolvedWebhooks['endpoints'][number];
  id: string;
  type: WebhookEventType;
  body: string;
  bytes: number;
  attempt: number;
}

/** Statuses worth another attempt: the receiver is down, overloaded or timed out. */
const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

export class Webhooks {
  private readonly counts = { delivered: 0, failed: 0, retried: 0, dropped: 0 };
  /** Waiting for a free request slot, oldest first. */
  private readonly waiting: Delivery[] = [];
  /** Waiting out a backoff. */
  private readonly backingOff = new Map<Delivery, NodeJS.Timeout>();
  private readonly inFlight = new Map<Delivery, AbortController>();
  private queuedBytes = 0;
  private pumpScheduled = false;
  private closing = false;
  private overflowing = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly options: ResolvedWebhooks,
    private readonly logger: Logger,
  ) {}

  /** Whether some endpoint wants this type (so callers can skip building the payload). */
  wants(type: WebhookEventType): boolean {
    return this.options.endpoints.some((e) => e.events.has(type));
  }

  /** Queue an event for every endpoint that wants it. Never throws, never waits. */
  emit(type: WebhookEventType, data: unknown, createdAt: number = Date.now()): void {
    const endpoints = this.options.endpoints.filter((e) => e.events.has(type));
    if (endpoints.length === 0) return;
    if (this.closing) {
      this.counts.dropped += endpoints.length;
      return;
    }
    const id = randomUUID();
    let body: string;
    let bytes: number;
    try {
      body = JSON.stringify({ id, type, createdAt, data } satisfies WebhookEvent);
      bytes = Buffer.byteLength(body);
    } catch (error) {
      this.logger.error('webhook event could not be serialised', { type, error: String(error) });
      this.counts.dropped += endpoints.length;
      return;
    }
    for (const endpoint of endpoints) {
      if (this.size() >= this.options.maxQueued || this.queuedBytes + bytes > this.options.maxQueuedBytes) {
        this.counts.dropped++;
        // Once per overflow, not once per event: a dead receiver must not flood the log.
        if (!this.overflowing)
          this.logger.warn('webhook queue full; dropping events until it drains', {
            type,
            url: endpoint.url,
          });
        this.overflowing = true;
        continue;
      }
      this.overflowing = false;
      this.queuedBytes += bytes;
      this.waiting.push({ endpoint, id, type, body, bytes, attempt: 0 });
    }
    this.schedulePump();
  }

  snapshot(): WebhookCounts {
    return { ...this.counts, queued: this.size() };
  }

  /**
   * Stop taking events; deliver what is held (retries go at once, without backoff, and a failure is
   * final) for up to `closeTimeoutMs`, then abort what is left and count it as dropped.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const [delivery, timer] of this.backingOff) {
      clearTimeout(timer);
      this.waiting.push(delivery);
    }
    this.backingOff.clear();
    this.pump();
    if (this.size() === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.options.closeTimeoutMs);
      timer.unref();
      this.idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const left = this.size();
    if (left > 0) {
      this.counts.dropped += left;
      this.logger.warn('webhook deliveries abandoned at close', { count: left });
      this.waiting.length = 0;
      for (const controller of this.inFlight.values()) controller.abort();
      this.inFlight.clear();
      this.queuedBytes = 0;
    }
  }

  private size(): number {
    return this.waiting.length + this.backingOff.size + this.inFlight.size;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Off the caller's turn: emit is called from the commit path.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight.size < this.options.concurrency && this.waiting.length > 0) {
      const delivery = this.waiting.shift() as Delivery;
      const controller = new AbortController();
      this.inFlight.set(delivery, controller);
      this.attempt(delivery, controller).then(
        (outcome) => this.settle(delivery, outcome),
        () => this.settle(delivery, { retry: true, why: 'error', retryAfterMs: undefined }),
      );
    }
    if (this.size() === 0) this.idle?.();
  }

  private async attempt(
    delivery: Delivery,
    controller: AbortController,
  ): Promise<'ok' | { retry: boolean; why: string; retryAfterMs: number | undefined }> {
    delivery.attempt++;
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = delivery.endpoint.secrets
      .map((secret) => `v1=${sign(secret, timestamp, delivery.body)}`)
      .join(',');
    const timeout = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      const response = await fetch(delivery.endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tandem-webhooks',
          [SIGNATURE_HEADER]: `t=${timestamp},${signature}`,
          'tandem-event-id': delivery.id,
          'tandem-event-type': delivery.type,
          'tandem-delivery-attempt': String(delivery.attempt),
        },
        body: delivery.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      // Free the connection; the receiver's answer body is not used.
      await response.body?.cancel().catch(() => {});
      if (response.status >= 200 && response.status < 300) return 'ok';
      const after = Number(response.headers.get('retry-after'));
      return {
        retry: retryable(response.status),
        why: `HTTP ${response.status}`,
        retryAfterMs: Number.isFinite(after) && after > 0 ? after * 1000 : undefined,
      };
    } catch (error) {
      return {
        retry: true,
        why: controller.signal.aborted ? 'timeout' : String((error as Error).cause ?? error),
        retryAfterMs: undefined,
      };
    } finally {
      clearTimeout(timeout);
    }
  }

  private settle(
    delivery: Delivery,
    outcome: 'ok' | { retry: boolean; why: string; retryAfterMs: number | undefined },
  ): void {
    // Abandoned by close(): already counted.
    if (!this.inFlight.delete(delivery)) return;
    if (outcome === 'ok') {
      this.counts.delivered++;
      this.release(delivery);
    } else if (outcome.retry && delivery.attempt < this.options.maxAttempts && !this.closing) {
      this.counts.retried++;
      const base = Math.min(this.options.maxBackoffMs, this.options.backoffMs * 2 ** (delivery.attempt - 1));
      const delay = Math.min(
        this.options.maxBackoffMs,
        Math.max(base / 2 + Math.random() * (base / 2), outcome.retryAfterMs ?? 0),
      );
      const timer = setTimeout(() => {
        this.backingOff.delete(delivery);
        this.waiting.push(delivery);
        this.pump();
      }, delay);
      timer.unref();
      this.backingOff.set(delivery, timer);
    } else {
      this.counts.failed++;
      this.release(delivery);
      this.logger.warn('webhook delivery failed', {
        id: delivery.id,
        type: delivery.type,
        url: delivery.endpoint.url,
        attempts: delivery.attempt,
        why: outcome.why,
      });
    }
    this.pump();
  }

  private release(delivery: Delivery): void {
    this.queuedBytes -= delivery.bytes;
  }
}

type Next = (error?: unknown) => void;

interface AfterWriteContext {
  collection: string;
  id: string;
  op: { v: number; op?: unknown; create?: unknown; del?: unknown; au?: OpAuthor };
  agent?: { custom?: { principal?: { id?: unknown; name?: unknown } } };
}

/** Send `document.committed` for every op committed on this process (Tandem's own records excepted). */
export function installCommitWebhooks(backend: ShareDB, webhooks: Webhooks): void {
  if (!webhooks.wants('document.committed')) return;
  const use = backend.use.bind(backend) as (
    action: string,
    fn: (context: AfterWriteContext, next: Next) => void,
  ) => void;
  use('afterWrite', (context, next) => {
    if (!isReservedCollection(context.collection)) {
      const { op } = context;
      const principal = context.agent?.custom?.principal;
      const author =
        op.au ??
        (typeof principal?.id === 'string'
          ? { id: principal.id, name: typeof principal.name === 'string' ? principal.name : principal.id }
          : null);
      const data: CommitEventData = {
        collection: context.collection,
        id: context.id,
        version: op.v + 1,
        kind: op.create !== undefined ? 'create' : op.del !== undefined ? 'delete' : 'op',
        author,
      };
      if (op.op !== undefined) data.op = op.op;
      webhooks.emit('document.committed', data);
    }
    next();
  });
}

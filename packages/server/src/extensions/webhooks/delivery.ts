/**
 * Webhook delivery: each event (commit, named version, conflict, revocation, comment) is POSTed as JSON to
 * every endpoint that asked for its type, signed Stripe-style — `Tandem-Signature: t=<unix s>,v1=<hex
 * HMAC-SHA256 of "<t>.<body>">` — and retried with exponential backoff and jitter on network errors,
 * timeouts, 408, 429 and 5xx. Delivery is at least once (receivers dedupe by the event `id`, which
 * stays the same across retries) and unordered.
 *
 * Nothing here runs on the commit path beyond serialising the event: sending happens on a later
 * turn of the event loop, and memory is bounded by a queue whose overflow is dropped and counted.
 * The queue is in memory: events pending when a process dies are lost (documented in the README).
 */
import { randomUUID } from 'node:crypto';
import { backoffDelay } from '@tandem/protocol';
import type { Logger } from '../../logger';
import type { WebhookEvent, WebhookEventType } from './events';
import type { ResolvedWebhooks, WebhookCounts } from './options';
import { SIGNATURE_HEADER, sign } from './signature';

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
      const { backoffMs, maxBackoffMs } = this.options;
      const delay = Math.min(
        maxBackoffMs,
        Math.max(backoffDelay(delivery.attempt - 1, backoffMs, maxBackoffMs), outcome.retryAfterMs ?? 0),
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

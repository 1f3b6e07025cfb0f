/**
 * Stripe-style signatures: `Tandem-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * Receivers import this through `@tandem/server/webhooks`, which loads neither ShareDB nor Redis.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, type Result, TandemError, unwrap } from '@tandem/protocol';
import type { WebhookEvent } from './events';

export const SIGNATURE_HEADER = 'tandem-signature';

/** Over the exact bytes: a receiver must not verify a re-encoded (or re-serialised) body. */
export function sign(secret: string, timestamp: number, body: string | Uint8Array): string {
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

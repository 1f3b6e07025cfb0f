/**
 * Origin check at the WebSocket upgrade, against cross-site WebSocket hijacking: browsers attach
 * cookies to a cross-site upgrade and WebSockets are not subject to CORS, so a hostile page could
 * otherwise act as the signed-in user. Secure by default: only the page's own origin (the one whose
 * host equals the request's Host header) may connect.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * Who may open the socket: a list of exact origins (`https://app.example.com`; `'*'` allows every
 * origin), or a function deciding per request.
 */
export type AllowedOrigins = readonly string[] | ((origin: string, request: IncomingMessage) => boolean);

function sameHost(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * FORBIDDEN (reason `origin`) when a browser's Origin is not allowed; undefined when allowed.
 * A request without an Origin header is not from a browser page (browsers always send it on
 * WebSocket upgrades), so there is no ambient credential to hijack and it passes; tokens still apply.
 */
export function checkOrigin(
  request: IncomingMessage,
  allowed: AllowedOrigins | undefined,
): TandemError | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  let ok: boolean;
  if (allowed === undefined) ok = sameHost(origin, request.headers.host);
  else if (typeof allowed === 'function') ok = allowed(origin, request) === true;
  else ok = allowed.includes('*') || allowed.includes(origin);
  return ok
    ? undefined
    : new TandemError(ErrorCode.FORBIDDEN, 'origin not allowed', { reason: 'origin', origin });
}

export function checkAllowedOrigins(value: unknown): AllowedOrigins | undefined {
  if (value === undefined || typeof value === 'function') return value as AllowedOrigins | undefined;
  if (Array.isArray(value) && value.every((o) => typeof o === 'string')) return value;
  throw new TandemError(
    ErrorCode.INVALID_CONFIG,
    'invalid option allowedOrigins: must be a list of origins or a function',
    {
      option: 'allowedOrigins',
    },
  );
}

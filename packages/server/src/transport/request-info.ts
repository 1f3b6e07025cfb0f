/**
 * What a connection keeps of its upgrade request for its whole life (an auth refresh hook reads
 * it). Idle sockets are mostly this and the socket itself, so the copy is lean: header values that
 * are the same for most clients are kept once per process, and the handshake's one-time key is
 * dropped.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RequestInfo } from '../hooks';

/** Headers whose values repeat across clients (one browser build, one site, one protocol). */
const REPEATING = new Set([
  'host',
  'origin',
  'user-agent',
  'upgrade',
  'connection',
  'pragma',
  'cache-control',
  'accept-encoding',
  'accept-language',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
]);

/** Bounds the process-wide copies: past it, values are kept per connection as before. */
const MAX_SHARED = 1_000;
const MAX_SHARED_LENGTH = 512;
const shared = new Map<string, string>();

function share(value: string): string {
  const hit = shared.get(value);
  if (hit !== undefined) return hit;
  if (shared.size < MAX_SHARED && value.length <= MAX_SHARED_LENGTH) shared.set(value, value);
  return value;
}

export function keepRequest(request: IncomingMessage): RequestInfo {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'sec-websocket-key' || value === undefined) continue;
    headers[name] = typeof value === 'string' && REPEATING.has(name) ? share(value) : value;
  }
  return { headers, url: request.url, remoteAddress: request.socket?.remoteAddress };
}

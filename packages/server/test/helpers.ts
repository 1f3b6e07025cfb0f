import { connect, type TandemClient } from '@tandem/client';
import WebSocket from 'ws';

export function until(check: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

export function client(
  url: string | readonly string[],
  options: Parameters<typeof connect>[1] = {},
): TandemClient {
  return connect(url, {
    WebSocket,
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    ...options,
  });
}

/** A WebSocket class that counts the sockets a client opens (each connect or reconnect attempt). */
export function countingSockets() {
  const counter = { opened: 0, WebSocket: WebSocket as unknown as typeof WebSocket };
  counter.WebSocket = class extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      counter.opened++;
    }
  } as typeof WebSocket;
  return counter;
}

/** Open a raw socket and collect decoded JSON frames. */
export async function rawSocket(url: string, protocol?: string) {
  const ws = new WebSocket(url, protocol === undefined ? [] : [protocol]);
  const frames: any[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const decoded = JSON.parse(data.toString());
    // tandem.json.v1 may batch several messages into one frame.
    if (Array.isArray(decoded)) frames.push(...decoded);
    else frames.push(decoded);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

/** Try an upgrade; the HTTP status and the typed error body when refused, 101 when accepted. */
export function upgrade(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve({ status: 101, body: undefined });
    });
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once('error', (error) => {
      if (!String(error.message).startsWith('Unexpected server response')) reject(error);
    });
  });
}

/** The endpoint URL with a `token` query parameter. */
export const withToken = (url: string, token: string): string => `${url}?token=${encodeURIComponent(token)}`;

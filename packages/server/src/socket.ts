/**
 * The small socket interface the core depends on (not `ws` itself), so a host can feed Tandem from
 * any WebSocket implementation. `fromWs` adapts a `ws` WebSocket.
 */
import type { WebSocket } from 'ws';

export interface TandemSocket {
  /** The negotiated subprotocol ('' when none). It selects the codec. */
  readonly protocol: string;
  /** Bytes queued but not yet written to the network (backpressure). */
  readonly bufferedAmount: number;
  send(frame: string | Uint8Array): void;
  close(code: number, reason: string): void;
  /** Drop the connection without a closing handshake (dead or hopelessly slow peers). */
  terminate(): void;
  /** Send a protocol-level ping; absent when the transport has none. */
  ping?(): void;
  /** Stop reading (TCP then pushes back on the sender) and read again; absent: always reads. */
  pause?(): void;
  resume?(): void;
  onMessage(listener: (frame: string | Uint8Array) => void): void;
  onClose(listener: (code: number) => void): void;
  onPong?(listener: () => void): void;
}

export function fromWs(ws: WebSocket): TandemSocket {
  // ws reports protocol violations (e.g. a frame over maxPayload) as 'error' and then closes the
  // socket (1009, 1002, …); the close is what we act on. Without a listener the error would crash
  // the process.
  ws.on('error', () => {});
  return {
    get protocol() {
      return ws.protocol;
    },
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send: (frame) => ws.send(frame),
    close: (code, reason) => ws.close(code, reason),
    terminate: () => ws.terminate(),
    ping: () => ws.ping(),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    onMessage: (listener) =>
      ws.on('message', (data, isBinary) => {
        // ws hands text frames over as Buffers too; text stays text so JSON decoding can use it directly.
        // ws delivers Buffers by default (binaryType 'nodebuffer'); only other binary types need wrapping.
        const bytes = Buffer.isBuffer(data)
          ? data
          : Array.isArray(data)
            ? Buffer.concat(data)
            : Buffer.from(data as ArrayBuffer);
        listener(isBinary ? bytes : bytes.toString('utf8'));
      }),
    onClose: (listener) => ws.on('close', (code) => listener(code)),
    onPong: (listener) => ws.on('pong', listener),
  };
}

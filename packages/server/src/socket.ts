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

/** ws reports protocol violations as 'error' and then closes; the close is what Tandem acts on. */
function ignore(): void {}

/**
 * A class rather than an object literal of closures: its methods live once on the prototype, where
 * a literal costs every socket ten closures and their context (idle memory per connection).
 */
class WsSocket implements TandemSocket {
  constructor(private readonly ws: WebSocket) {
    // Without an 'error' listener a protocol violation (e.g. a frame over maxPayload) would crash
    // the process; ws closes the socket (1009, 1002, …) after reporting it.
    ws.on('error', ignore);
  }
  get protocol(): string {
    return this.ws.protocol;
  }
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }
  send(frame: string | Uint8Array): void {
    this.ws.send(frame);
  }
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  terminate(): void {
    this.ws.terminate();
  }
  ping(): void {
    this.ws.ping();
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  onMessage(listener: (frame: string | Uint8Array) => void): void {
    this.ws.on('message', (data, isBinary) => {
      // ws hands text frames over as Buffers too; text stays text so JSON decoding can use it directly.
      // ws delivers Buffers by default (binaryType 'nodebuffer'); only other binary types need wrapping.
      const bytes = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data as ArrayBuffer);
      listener(isBinary ? bytes : bytes.toString('utf8'));
    });
  }
  onClose(listener: (code: number) => void): void {
    // Directly, not wrapped (a closure per socket): the extra `reason` argument goes unread.
    this.ws.on('close', listener);
  }
  onPong(listener: () => void): void {
    this.ws.on('pong', listener);
  }
}

export function fromWs(ws: WebSocket): TandemSocket {
  return new WsSocket(ws);
}

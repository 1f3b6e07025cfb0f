/**
 * The small socket interface the core depends on (not `ws` itself), so a host can feed Tandem from
 * any WebSocket implementation. `fromWs` adapts a `ws` WebSocket.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { fastListeners } from '../sharedb/fast-map';
import { wireFrame } from './ws-frames';

/** What a socket reports to (Tandem's connection): an object with methods, not closures per socket. */
export interface SocketListener {
  socketMessage(frame: string | Uint8Array): void;
  socketClosed(code: number): void;
  /** The answer to a `ping`. */
  socketPong(): void;
}

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
  /** Report this socket's frames, close and pongs to `listener` (called once). */
  listen(listener: SocketListener): void;
}

/** WebSocket.OPEN */
const OPEN = 1;

/** ws reports protocol violations as 'error' and then closes; the close is what Tandem acts on. */
function ignore(): void {}

/** The listener a ws WebSocket reports to (set by `WsSocket.listen`). */
const LISTENER = Symbol('tandem.listener');
type ListenedWs = WebSocket & { [LISTENER]: SocketListener };

// Shared ws listeners: ws calls them with the WebSocket as `this` (no closure per socket).
function onWsMessage(this: WebSocket, data: unknown, isBinary: boolean): void {
  // ws hands text frames over as Buffers too; text stays text so JSON decoding can use it directly.
  // ws delivers Buffers by default (binaryType 'nodebuffer'); only other binary types need wrapping.
  const bytes = Buffer.isBuffer(data)
    ? data
    : Array.isArray(data)
      ? Buffer.concat(data)
      : Buffer.from(data as ArrayBuffer);
  (this as ListenedWs)[LISTENER].socketMessage(isBinary ? bytes : bytes.toString('utf8'));
}
function onWsClose(this: WebSocket, code: number): void {
  (this as ListenedWs)[LISTENER].socketClosed(code);
}
function onWsPong(this: WebSocket): void {
  (this as ListenedWs)[LISTENER].socketPong();
}

/**
 * A class rather than an object literal of closures: its methods live once on the prototype, where
 * a literal costs every socket ten closures and their context (idle memory per connection).
 */
class WsSocket implements TandemSocket {
  constructor(
    private readonly ws: WebSocket,
    private readonly raw?: Duplex,
  ) {
    fastListeners(ws);
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
    if (this.raw !== undefined && this.ws.readyState === OPEN) this.raw.write(wireFrame(frame));
    else this.ws.send(frame);
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
  listen(listener: SocketListener): void {
    const ws = this.ws as ListenedWs;
    ws[LISTENER] = listener;
    ws.on('message', onWsMessage);
    ws.on('close', onWsClose);
    ws.on('pong', onWsPong);
  }
}

export function fromWs(ws: WebSocket): TandemSocket {
  return new WsSocket(ws);
}

/**
 * A ws WebSocket with the socket it was upgraded on. Without extensions (no permessage-deflate) ws's
 * sender never queues: it writes each frame to that socket at once, so frames can be written there
 * directly, framed once per fan-out (ws-frames.ts), in the same order. Only when ws holds that very
 * socket (`_socket`, checked rather than assumed: a later ws could wrap it); else ws.send.
 */
export function fromUpgradedWs(ws: WebSocket, socket: Duplex): TandemSocket {
  const direct = ws.extensions === '' && (ws as unknown as { _socket?: unknown })._socket === socket;
  return new WsSocket(ws, direct ? socket : undefined);
}

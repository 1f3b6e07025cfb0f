/**
 * A reconnecting socket with the interface ShareDB's `Connection` drives (readyState, send, close,
 * onopen/onmessage/onclose/onerror). ShareDB keeps its own state across our reconnects: it
 * re-handshakes with its previous id, resends the in-flight op (the server deduplicates it by
 * src/seq, so it commits once) and resubscribes. We own backoff, tokens, the codec, batch frames
 * and Tandem's own messages, which never reach ShareDB.
 */
import { backoffDelay, type Codec, isTandemMessage, type TandemMessage } from '@tandem/protocol';
import type { ShareDbSocket } from './sharedb';

/**
 * An event handler slot. Declared as a method so that it is checked bivariantly: implementations
 * type their events more precisely (the DOM's `MessageEvent`, ws's `WebSocket.MessageEvent`), and
 * their classes must still fit without casts.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the WebSocket API we use: the browser's and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  binaryType: string;
  onopen: Handler<unknown> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket class: `globalThis.WebSocket` in browsers, `ws`'s default export in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface BackoffOptions {
  /** First retry delay. @default 250 */
  minDelayMs?: number;
  /** Ceiling for the delay. @default 10_000 */
  maxDelayMs?: number;
}

export interface SocketHooks {
  /** The URL to open next (called before every attempt, so tokens can be refreshed). */
  url(): Promise<string>;
  onTandemMessage(message: TandemMessage): void;
  onDecodeError(error: unknown): void;
}

const OPEN = 1;
const CLOSED = 3;

export class ReconnectingSocket implements ShareDbSocket {
  readyState = 0;
  onopen: (() => void) | null = null;
  onclose: ((reason: string) => void) | null = null;
  onerror: ((error: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  private ws: WebSocketLike | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  /** Sends wait for this (write-ahead of the offline queue); see holdUntil. */
  private holding: Promise<void> | undefined;
  private held: { ws: WebSocketLike; text: string }[] = [];

  constructor(
    private readonly WebSocketImpl: WebSocketConstructor,
    private readonly codec: Codec,
    private readonly hooks: SocketHooks,
    private readonly backoff: Required<BackoffOptions>,
  ) {
    void this.open();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    this.readyState = 0;
    let url: string;
    try {
      url = await this.hooks.url();
    } catch (error) {
      this.onerror?.(error);
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const ws = new this.WebSocketImpl(url, [this.codec.subprotocol]);
    // Node's ws can hand over its own Buffer (a Uint8Array) instead of copying each frame into an
    // ArrayBuffer. A browser's WebSocket only knows 'arraybuffer' (and warns about other values);
    // other implementations may turn an unknown value into 'blob': keep 'arraybuffer' for them.
    const native = (globalThis as { WebSocket?: unknown }).WebSocket;
    if (this.WebSocketImpl !== native) ws.binaryType = 'nodebuffer';
    if (ws.binaryType !== 'nodebuffer') ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.readyState = OPEN;
      this.onopen?.();
    };
    ws.onmessage = (event) => {
      if (ws === this.ws) this.receive(event.data);
    };
    ws.onerror = (event) => {
      if (ws === this.ws) this.onerror?.(event);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      const wasOpen = this.readyState === OPEN;
      this.readyState = CLOSED;
      // 'closed' would tell ShareDB we closed on purpose; anything else means "will reconnect".
      if (wasOpen || !this.stopped) this.onclose?.(this.stopped ? 'closed' : `disconnected ${event.code}`);
      this.scheduleReconnect();
    };
  }

  private receive(data: unknown): void {
    let decoded: unknown;
    try {
      decoded = this.codec.decode(
        typeof data === 'string' || data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer),
      );
    } catch (error) {
      this.hooks.onDecodeError(error);
      return;
    }
    if (Array.isArray(decoded)) for (const message of decoded) this.dispatch(message);
    else this.dispatch(decoded);
  }

  private dispatch(message: unknown): void {
    if (isTandemMessage(message)) this.hooks.onTandemMessage(message);
    else this.onmessage?.({ data: message });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.timer !== undefined) return;
    const delay = backoffDelay(this.attempt++, this.backoff.minDelayMs, this.backoff.maxDelayMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.open();
    }, delay);
  }

  /** ShareDB sends JSON text; re-encode for binary codecs. */
  send(text: string): void {
    const ws = this.ws;
    if (ws === undefined || this.readyState !== OPEN) return;
    if (this.holding !== undefined) {
      this.held.push({ ws, text });
      return;
    }
    this.write(ws, text);
  }

  private write(ws: WebSocketLike, text: string): void {
    ws.send(this.codec.binary ? this.codec.encode(JSON.parse(text)) : text);
  }

  /**
   * Hold every send (in order) until `ready` settles: an op leaves only after its identity is
   * persisted, so a crash can never lose track of an op the server may have committed. Messages
   * held for a socket that closed meanwhile are dropped; ShareDB resends what matters after it
   * reconnects.
   */
  holdUntil(ready: Promise<unknown>): void {
    const hold: Promise<void> = (this.holding ?? Promise.resolve())
      .then(() => ready)
      .then(
        () => undefined,
        () => undefined,
      );
    this.holding = hold;
    void hold.then(() => {
      if (this.holding !== hold) return; // a later hold will drain
      this.holding = undefined;
      const held = this.held;
      this.held = [];
      for (const { ws, text } of held) if (ws === this.ws && this.readyState === OPEN) this.write(ws, text);
    });
  }

  /** Send one of Tandem's own messages; false when offline. */
  sendTandem(message: TandemMessage): boolean {
    // A socket closing (reconnect) would drop the message silently.
    if (this.ws === undefined || this.readyState !== OPEN || this.ws.readyState !== OPEN) return false;
    this.ws.send(this.codec.encode(message));
    return true;
  }

  /** Drop the current socket and reconnect now (e.g. after a token refresh or for tests). */
  reconnect(): void {
    this.attempt = 0;
    if (this.timer !== undefined) {
      // Waiting out a backoff (e.g. the network just came back): try now instead.
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.open();
      return;
    }
    this.ws?.close(4000, 'reconnect');
  }

  close(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    const wasOpen = this.readyState !== CLOSED;
    this.readyState = CLOSED;
    ws?.close(1000, 'closed by client');
    if (wasOpen) this.onclose?.('closed');
  }
}

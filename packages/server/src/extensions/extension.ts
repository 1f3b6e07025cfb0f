/**
 * The one way a feature plugs into the server, modelled on Hocuspocus's `Extension` and Fastify's
 * per-hook arrays: an extension installs into the ShareDB backend once, answers its own client
 * calls, follows connections, talks to its instances on other processes, reports metrics and
 * closes. Built-in features and the host's own (`options.extensions`) use the same interface;
 * `tandem.ts` installs them in one listed order.
 */
import type { IncomingMessage } from 'node:http';
import type { DocIO } from '@tandem/conflicts';
import type { TandemError } from '@tandem/protocol';
import type { AccessAction, Principal, RequestInfo, TandemHooks } from '../hooks';
import type { Logger } from '../logger';
import type { ResolvedOptions } from '../options';
import type { WebhookEventType } from './webhooks';

/** The ShareDB backend the extension installs into (`backend.use`, `backend.connect`, …). */
export type ExtensionBackend = import('sharedb');

/** Who is calling, on which socket. */
export interface Caller {
  /** The socket's connection id (also the session a lock or presence belongs to). */
  connectionId: string;
  principal: Principal;
}

/**
 * A socket as an extension sees it. `principal` is read when used (a refreshed token replaces it);
 * before the socket is first admitted it has none, and reading it throws.
 */
export interface ExtensionConnection extends Caller {
  /** Send `data` to this socket as a `push` from this extension (the client's `push` event). */
  push(data: unknown): void;
  /** Send the client a typed `error` (counted and audited like Tandem's own); the socket stays open. */
  report(error: TandemError): void;
  /** Send the client a typed `error`, then close the socket. @default code 1008 (policy) */
  fail(error: TandemError, code?: number): void;
  /** Stop reading the socket (TCP pushes back on the sender), and read again; no-ops where the socket cannot. */
  pause(): void;
  resume(): void;
}

/** A socket's message as a gate sees it: decoded, size-, depth- and shape-checked. */
export type ClientMessage = Record<string, unknown>;

/**
 * One socket's gate on its incoming messages (`Extension.gate`): every message goes through
 * `push`, in arrival order; the gate calls the `next` it was made with to pass it on (now, later, or
 * never: a dropped message should be answered with `report`, a sender that must go with `fail`).
 * Messages are never copied for a gate: a socket without gates pays nothing.
 */
export interface MessageGate {
  push(message: ClientMessage): void;
  /**
   * An `op` message this socket's ShareDB agent sends it: the answer (ack or error) to one of its
   * ops, or an op of another client not on the fast path. A gate holding ops per document uses it.
   */
  answered?(message: ClientMessage): void;
  /** The socket closed (or could not be served): drop what is held, stop timers, release shares. */
  stop?(): void;
}

export interface ExtensionContext {
  readonly backend: ExtensionBackend;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  /**
   * Tandem's records in reserved collections (`_tandem_…`, closed to clients), read and written by
   * a server-side agent the reserved-collection guard trusts; also reads any document and its ops.
   */
  readonly records: DocIO;
  /** The one access check (the `authorize` hook, reserved collections refused): resolves or throws FORBIDDEN. */
  access(principal: Principal, action: AccessAction, collection: string, id: string): Promise<void>;
  /** Deliver `data` to this extension's `event` on every server process, this one included. */
  publish(data: unknown): Promise<void>;
  /** This process's open, served sockets of a user. */
  connectionsOf(userId: string): Iterable<ExtensionConnection>;
  /** Every open, served socket of this process. */
  connections(): Iterable<ExtensionConnection>;
  /** Queue a signed webhook (no-op without `options.webhooks`). */
  webhook(type: WebhookEventType, data: unknown): void;
}

/** A client call `{ t: 'call', ext, method, args }`; the result (or a thrown TandemError) is the answer. */
export type CallHandler = (args: readonly unknown[], caller: Caller) => Promise<unknown> | unknown;

export interface Extension {
  /** Unique; also the `ext` of its client calls and pushes. */
  readonly name: string;
  /** Host hooks this extension adds; they run after the host's own, in install order. */
  readonly hooks?: TandemHooks;
  /** Once, when the backend exists, in install order: add middleware, open stores, subscribe. */
  install?(context: ExtensionContext): void | Promise<void>;
  /** Client calls by method name. Arguments are untrusted JSON: check every one. */
  readonly calls?: Readonly<Record<string, CallHandler>>;
  /**
   * An upgrade request authenticated as `principal` (by the `authenticate` hook), before a socket
   * exists; throw a TandemError to refuse it (HTTP 401 with its code). Runs once the server is
   * ready, in install order.
   */
  authenticated?(principal: Principal, request: IncomingMessage | RequestInfo): void | Promise<void>;
  /**
   * `principal` is about to be given this socket: before it is served, and on every token refresh
   * (`connection.principal` is still the previous one then). Throw a TandemError to refuse: the
   * socket is closed (1008 for UNAUTHORIZED and SESSION_ENDED, else 1013), or the refresh fails and
   * the socket closes. In install order, each awaited.
   */
  admit?(connection: ExtensionConnection, principal: Principal): void | Promise<void>;
  /**
   * The socket is about to be served: return a gate its messages go through (undefined: none).
   * Gates chain in install order; `next` passes a message to the next one, and after the last to
   * Tandem and ShareDB. Called on the hot path's setup, once per socket; throwing fails the socket.
   */
  gate?(connection: ExtensionConnection, next: (message: ClientMessage) => void): MessageGate | undefined;
  /** A socket is authenticated and served. */
  connected?(connection: ExtensionConnection): void;
  /** Every `heartbeatMs`, for each served socket (e.g. end what expired: `connection.fail`). */
  heartbeat?(connection: ExtensionConnection, now: number): void;
  /** A served socket closed. */
  disconnected?(connection: ExtensionConnection, code: number): void;
  /** Data this extension published on any process (`context.publish`). */
  event?(data: unknown): void;
  /** Counters for `tandem.metrics().extensions[name]` (read when scraped, never on the hot path). */
  metrics?(): Record<string, unknown>;
  /** Release what `install` opened; runs in reverse install order before the store closes. */
  close?(): void | Promise<void>;
}

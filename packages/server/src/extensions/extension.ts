/**
 * The one way a feature plugs into the server, modelled on Hocuspocus's `Extension` and Fastify's
 * per-hook arrays: an extension installs into the ShareDB backend once, answers its own client
 * calls, follows connections, talks to its instances on other processes, reports metrics and
 * closes. Built-in features and the host's own (`options.extensions`) use the same interface;
 * `tandem.ts` installs them in one listed order.
 */
import type { DocIO } from '@tandem/conflicts';
import type { AccessAction, Principal, TandemHooks } from '../hooks';
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

/** A socket as an extension sees it. */
export interface ExtensionConnection extends Caller {
  /** Send `data` to this socket as a `push` from this extension (the client's `push` event). */
  push(data: unknown): void;
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
  /** This process's open, authenticated sockets of a user. */
  connectionsOf(userId: string): Iterable<ExtensionConnection>;
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
  /** A socket is authenticated and served. */
  connected?(connection: ExtensionConnection): void;
  /** A served socket closed. */
  disconnected?(connection: ExtensionConnection, code: number): void;
  /** Data this extension published on any process (`context.publish`). */
  event?(data: unknown): void;
  /** Counters for `tandem.metrics().extensions[name]` (read when scraped, never on the hot path). */
  metrics?(): Record<string, unknown>;
  /** Release what `install` opened; runs in reverse install order before the store closes. */
  close?(): void | Promise<void>;
}

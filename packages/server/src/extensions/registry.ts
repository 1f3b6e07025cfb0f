/**
 * The installed extensions, built-in and the host's: installs them in order, routes client calls
 * and cross-process events to them by name, runs their connection hooks (upgrade check, admission,
 * message gates, heartbeat, connected/disconnected), gathers their metrics and closes them in
 * reverse order. One extension failing in a notification (connected, disconnected, heartbeat,
 * event) is logged and never reaches the others or the socket; a failing check (authenticated,
 * admit, gate) costs the socket it was checking.
 */
import type { IncomingMessage } from 'node:http';
import { ErrorCode, type ExtensionCallMessage, TANDEM_ACTION, TandemError } from '@tandem/protocol';
import type { Principal, RequestInfo } from '../hooks';
import type { Logger } from '../logger';
import { CloseCode, type Connection } from '../transport/connection';
import type {
  Caller,
  ClientMessage,
  Extension,
  ExtensionConnection,
  ExtensionContext,
  MessageGate,
} from './extension';

/** What an extension's context needs from the server, shared by all of them. */
export type ServerContext = Omit<ExtensionContext, 'publish' | 'connectionsOf' | 'connections'> & {
  publish(ext: string, data: unknown): Promise<void>;
  connections(): Iterable<Connection>;
};

/**
 * A socket as one extension sees it: one small object per socket and extension (made when first
 * needed), its methods on the prototype rather than closures, since idle sockets are many.
 */
class ConnectionView implements ExtensionConnection {
  readonly #connection: Connection;
  readonly #ext: string;
  constructor(connection: Connection, ext: string) {
    this.#connection = connection;
    this.#ext = ext;
  }
  get connectionId(): string {
    return this.#connection.id;
  }
  get principal(): Principal {
    if (this.#connection.principal === undefined) throw new Error('connection has no principal yet');
    return this.#connection.principal;
  }
  push(data: unknown): void {
    this.#connection.sendTandem({ a: TANDEM_ACTION, t: 'push', ext: this.#ext, data });
  }
  report(error: TandemError): void {
    this.#connection.reportError(error);
  }
  fail(error: TandemError, code: number = CloseCode.policy): void {
    this.#connection.fail(error, code);
  }
  pause(): void {
    this.#connection.socket.pause?.();
  }
  resume(): void {
    this.#connection.socket.resume?.();
  }
}

/** Served: authenticated, admitted and given its ShareDB agent; and not closed or closing. */
function isServed(connection: Connection): boolean {
  return connection.principal !== undefined && connection.agent !== undefined && !connection.isEnding;
}

const MAX_NAME_CHARS = 64;

function badCall(reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad extension call: ${reason}`, { reason });
}

export class Extensions {
  private readonly byName = new Map<string, Extension>();
  /** Each extension's views of sockets (no map per socket: idle sockets are many). */
  private readonly views = new Map<string, WeakMap<Connection, ExtensionConnection>>();
  /** Events may arrive (from other processes) before an extension finished installing. */
  private readonly installed = new Set<string>();

  private readonly list: readonly Extension[];
  /** Those with each connection hook, so a socket's setup and heartbeat only visit those. */
  private readonly checking: readonly Extension[];
  private readonly admitting: readonly Extension[];
  private readonly gating: readonly Extension[];
  private readonly beating: readonly Extension[];

  /** Built-ins first (their names are taken), then the host's, each list in install order. */
  constructor(
    builtIns: readonly Extension[],
    host: readonly Extension[],
    private readonly logger: Logger,
  ) {
    this.list = [...builtIns, ...host];
    for (const extension of this.list) {
      if (this.byName.has(extension.name))
        throw new TandemError(
          ErrorCode.INVALID_CONFIG,
          `invalid option extensions: the name '${extension.name}' is taken (built-in names: ${builtIns.map((e) => e.name).join(', ')})`,
          { option: 'extensions', reason: 'duplicate name' },
        );
      this.byName.set(extension.name, extension);
    }
    this.checking = this.list.filter((e) => e.authenticated !== undefined);
    this.admitting = this.list.filter((e) => e.admit !== undefined);
    this.gating = this.list.filter((e) => e.gate !== undefined);
    this.beating = this.list.filter((e) => e.heartbeat !== undefined);
  }

  /** Install every extension, in list order (each may rely on those before it). */
  async install(server: ServerContext): Promise<void> {
    for (const extension of this.list) {
      const ext = extension.name;
      await extension.install?.({
        ...server,
        publish: (data) => server.publish(ext, data),
        connectionsOf: (userId) => this.served(server.connections(), ext, userId),
        connections: () => this.served(server.connections(), ext, undefined),
      });
      this.installed.add(ext);
    }
  }

  /** Answer `{ t: 'call' }`: untrusted names are checked before anything is looked up. */
  async call(connection: Connection, message: ExtensionCallMessage): Promise<unknown> {
    const { ext, method, args } = message;
    if (typeof ext !== 'string' || ext.length > MAX_NAME_CHARS) throw badCall('ext must be a name');
    if (typeof method !== 'string' || method.length > MAX_NAME_CHARS) throw badCall('method must be a name');
    if (!Array.isArray(args)) throw badCall('args must be an array');
    const calls = this.byName.get(ext)?.calls;
    const handler = calls !== undefined && Object.hasOwn(calls, method) ? calls[method] : undefined;
    if (handler === undefined)
      throw new TandemError(ErrorCode.NOT_FOUND, `no call ${ext}.${method} on this server`, { ext, method });
    if (connection.principal === undefined)
      throw new TandemError(ErrorCode.UNAUTHORIZED, 'the session is not authenticated yet');
    const caller: Caller = { connectionId: connection.id, principal: connection.principal };
    return handler(args, caller);
  }

  /** An authenticated upgrade request: any extension may refuse it (the error is the answer). */
  async authenticated(principal: Principal, request: IncomingMessage | RequestInfo): Promise<void> {
    for (const extension of this.checking) await extension.authenticated?.(principal, request);
  }

  /** Before a socket is served and on each token refresh: any extension may refuse `principal`. */
  async admit(connection: Connection, principal: Principal): Promise<void> {
    for (const extension of this.admitting)
      await extension.admit?.(this.view(connection, extension.name), principal);
  }

  /**
   * The socket's gates, first to last (undefined: none). Made last first, so each is given the
   * one after it; if one throws, those made are stopped and the error fails the socket.
   */
  gates(connection: Connection): MessageGate[] | undefined {
    if (this.gating.length === 0) return undefined;
    /** Last first. */
    const made: MessageGate[] = [];
    let next = (message: ClientMessage) => connection.pass(message);
    try {
      for (let i = this.gating.length - 1; i >= 0; i--) {
        const extension = this.gating[i];
        const gate = extension.gate?.(this.view(connection, extension.name), next);
        if (gate === undefined) continue;
        made.push(gate);
        // A gate may pass messages on from its own timers (the throttle's drain), outside any
        // socket handler: a later gate that throws there must cost this socket, not the process.
        if (i > 0)
          next = (message) => {
            try {
              gate.push(message);
            } catch (error) {
              connection.internalError(error, 'in a message gate');
            }
          };
      }
    } catch (error) {
      this.stop(made);
      throw error;
    }
    // Kept for the socket's life: an exact-size copy, not the growable array.
    return made.length === 0 ? undefined : made.reverse().slice();
  }

  /** The socket closed: its gates let go of what they hold. */
  stop(gates: readonly MessageGate[]): void {
    for (const gate of gates)
      try {
        gate.stop?.();
      } catch (error) {
        this.logger.error('a message gate failed to stop', { error: String(error) });
      }
  }

  /** Each heartbeat, for each served socket. */
  heartbeat(connection: Connection, now: number): void {
    for (const extension of this.beating)
      this.safely(extension, 'heartbeat', () =>
        extension.heartbeat?.(this.view(connection, extension.name), now),
      );
  }

  connected(connection: Connection): void {
    for (const extension of this.list)
      if (extension.connected !== undefined)
        this.safely(extension, 'connected', () =>
          extension.connected?.(this.view(connection, extension.name)),
        );
  }

  disconnected(connection: Connection, code: number): void {
    for (const extension of this.list)
      if (extension.disconnected !== undefined)
        this.safely(extension, 'disconnected', () =>
          extension.disconnected?.(this.view(connection, extension.name), code),
        );
  }

  /** Data published by `ext` on some process. */
  event(ext: string, data: unknown): void {
    const extension = this.byName.get(ext);
    if (extension?.event !== undefined && this.installed.has(ext))
      this.safely(extension, 'event', () => extension.event?.(data));
  }

  metrics(): Record<string, Record<string, unknown>> {
    const all: Record<string, Record<string, unknown>> = {};
    for (const extension of this.list) {
      const counts = extension.metrics?.();
      if (counts !== undefined) all[extension.name] = counts;
    }
    return all;
  }

  /** Reverse install order: an extension may still use those it relied on while it closes. */
  async close(): Promise<void> {
    for (const extension of [...this.list].reverse()) {
      try {
        await extension.close?.();
      } catch (error) {
        this.logger.error(`extension ${extension.name} failed to close`, { error: String(error) });
      }
    }
  }

  /** Served sockets, of one user or (undefined) all. */
  private *served(all: Iterable<Connection>, ext: string, userId: string | undefined) {
    for (const connection of all)
      if (isServed(connection) && (userId === undefined || connection.principal?.id === userId))
        yield this.view(connection, ext);
  }

  private view(connection: Connection, ext: string): ExtensionConnection {
    let views = this.views.get(ext);
    if (views === undefined) {
      views = new WeakMap();
      this.views.set(ext, views);
    }
    let view = views.get(connection);
    if (view === undefined) {
      view = new ConnectionView(connection, ext);
      views.set(connection, view);
    }
    return view;
  }

  private safely(extension: Extension, what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.logger.error(`extension ${extension.name} failed in ${what}`, { error: String(error) });
    }
  }
}

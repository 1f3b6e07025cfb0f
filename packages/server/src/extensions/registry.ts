/**
 * The installed extensions, built-in and the host's: installs them in order, routes client calls
 * and cross-process events to them by name, tells them about connections, gathers their metrics
 * and closes them in reverse order. One extension failing in a connection callback is logged and
 * never reaches the others or the socket.
 */
import { ErrorCode, type ExtensionCallMessage, TANDEM_ACTION, TandemError } from '@tandem/protocol';
import type { Logger } from '../logger';
import type { Connection } from '../transport/connection';
import type { Caller, Extension, ExtensionConnection, ExtensionContext } from './extension';

/** What an extension's context needs from the server, shared by all of them. */
export type ServerContext = Omit<ExtensionContext, 'publish' | 'connectionsOf'> & {
  publish(ext: string, data: unknown): Promise<void>;
  connections(): Iterable<Connection>;
};

const MAX_NAME_CHARS = 64;

function badCall(reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad extension call: ${reason}`, { reason });
}

export class Extensions {
  private readonly byName = new Map<string, Extension>();
  private readonly views = new WeakMap<Connection, Map<string, ExtensionConnection>>();

  constructor(
    private readonly list: readonly Extension[],
    private readonly logger: Logger,
  ) {
    for (const extension of list) this.byName.set(extension.name, extension);
  }

  /** Install every extension, in list order (each may rely on those before it). */
  async install(server: ServerContext): Promise<void> {
    for (const extension of this.list) {
      const ext = extension.name;
      await extension.install?.({
        ...server,
        publish: (data) => server.publish(ext, data),
        connectionsOf: (userId) => this.connectionsOf(server.connections(), ext, userId),
      });
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
    if (extension?.event !== undefined) this.safely(extension, 'event', () => extension.event?.(data));
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

  private *connectionsOf(all: Iterable<Connection>, ext: string, userId: string) {
    for (const connection of all)
      if (connection.principal?.id === userId && connection.agent !== undefined && !connection.isClosed)
        yield this.view(connection, ext);
  }

  private view(connection: Connection, ext: string): ExtensionConnection {
    let views = this.views.get(connection);
    if (views === undefined) {
      views = new Map();
      this.views.set(connection, views);
    }
    let view = views.get(ext);
    if (view === undefined) {
      view = {
        connectionId: connection.id,
        // Read when used: a refreshed token updates the principal of a live socket.
        get principal() {
          if (connection.principal === undefined) throw new Error('connection has no principal');
          return connection.principal;
        },
        push: (data) => connection.sendTandem({ a: TANDEM_ACTION, t: 'push', ext, data }),
      };
      views.set(ext, view);
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

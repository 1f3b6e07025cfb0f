/**
 * The convenience server: puts the Tandem endpoint on a host's own HTTP server (sharing its port),
 * on an Express app, or on a fresh server for `{ port }`. Authentication happens at the upgrade:
 * a refused request gets HTTP 401 and never becomes a socket.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, selectSubprotocol, TandemError } from '@tandem/protocol';
import { WebSocketServer } from 'ws';
import type { TandemOptions } from '../options';
import { createTandem, type Tandem } from '../tandem';
import { fromUpgradedWs } from '../transport/socket';

/**
 * An Express or Connect app. `attach` finds the server that serves it either way: `app.listen`
 * (wrapped) or `http.createServer(app)` (the server is taken from the app's first request, through
 * `app.handle`, which Express and Connect call for every request).
 */
export interface ListeningApp {
  // Loose on purpose: Express's own request/response types must fit without a dependency on them.
  (...args: any[]): unknown;
  listen(...args: any[]): Server;
  handle?: (...args: any[]) => unknown;
}

export interface PortTarget {
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
}

export type AttachTarget = Server | ListeningApp | PortTarget;

export interface AttachedTandem {
  readonly tandem: Tandem;
  /**
   * The HTTP server carrying the endpoint; for an Express app, set once `app.listen` was called or
   * the app's first request arrived through `http.createServer(app)`.
   */
  readonly server: Server | undefined;
  /** `ws://host:port/path` once the server listens. */
  url(): string;
  /** Close Tandem (sockets get 1001), stop accepting upgrades, and close a server `attach` created. */
  close(): Promise<void>;
}

function isServer(target: AttachTarget): target is Server {
  return typeof (target as Server).on === 'function' && typeof (target as Server).address === 'function';
}

function refuse(socket: Duplex, status: number, text: string, error: TandemError): void {
  const body = JSON.stringify(error.toJSON());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function first<T>(set: Set<T>): T | undefined {
  for (const value of set) return value;
  return undefined;
}

function isOurUpgrade(request: IncomingMessage, path: string): boolean {
  return (
    request.headers.upgrade?.toLowerCase() === 'websocket' &&
    new URL(request.url ?? '/', 'http://localhost').pathname === path
  );
}

function respondNotYetBound(response: ServerResponse): void {
  const error = new TandemError(
    ErrorCode.INVALID_CONFIG,
    'this server was not yet known to attach(app) (http.createServer(app) is bound on its first ' +
      'request): retry, or pass the http.Server to attach() to serve the first upgrade too',
  );
  const body = JSON.stringify(error.toJSON());
  response.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '0', Connection: 'close' });
  response.end(body);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function attach(target: AttachTarget, options: TandemOptions = {}): Promise<AttachedTandem> {
  const tandem = createTandem(options);
  const { path, maxPayloadBytes } = tandem.options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    // Compression costs ~300 KB per socket in zlib state; ops are tiny.
    perMessageDeflate: false,
    // Tandem tracks its connections; ws's own set would cost every socket a listener and an entry.
    clientTracking: false,
    handleProtocols: (offered) => selectSubprotocol(offered) || false,
  });

  const onUpgrade = function (this: Server, request: IncomingMessage, socket: Duplex, head: Buffer) {
    // The path as sent (`//tandem` is a path, not a host); the query carries the token.
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) !== path) {
      // Another upgrade handler of the host's may want it; with none, nobody would ever answer and
      // the socket would stay open for free.
      if (this.listenerCount('upgrade') === 1) {
        socket.on('error', destroyOnError);
        refuse(socket, 404, 'Not Found', new TandemError(ErrorCode.NOT_FOUND, 'no WebSocket endpoint here'));
      }
      return;
    }
    // Until ws owns the socket (it adds its own handlers), a client reset must not crash the host.
    // A plain function, not a closure: a listener left on the socket would otherwise keep this
    // handler's scope (the whole IncomingMessage and `head`) alive for the connection's lifetime.
    socket.on('error', destroyOnError);
    if (tandem.closing) {
      refuse(
        socket,
        503,
        'Service Unavailable',
        new TandemError(ErrorCode.SHUTTING_DOWN, 'server is shutting down'),
      );
      return;
    }
    const badOrigin = tandem.checkOrigin(request);
    if (badOrigin !== undefined) {
      tandem.options.logger.info('upgrade refused', { code: badOrigin.code, origin: request.headers.origin });
      refuse(socket, 403, 'Forbidden', badOrigin);
      return;
    }
    tandem.authenticate(request).then(
      (principal) =>
        wss.handleUpgrade(request, socket, head, (ws) => {
          socket.off('error', destroyOnError);
          tandem.handleConnection(fromUpgradedWs(ws, socket), request, { principal });
        }),
      (error: unknown) => {
        const wire = TandemError.from(error, ErrorCode.UNAUTHORIZED);
        tandem.options.logger.info('upgrade refused', { code: wire.code });
        refuse(socket, 401, 'Unauthorized', wire);
      },
    );
  };

  const servers = new Set<Server>();
  let owned = false;
  const bind = (s: Server) => {
    if (servers.has(s)) return;
    servers.add(s);
    s.on('upgrade', onUpgrade);
  };

  if (isServer(target)) {
    bind(target);
  } else if (typeof target === 'function') {
    const app = target;
    // `app.listen` creates its server inside: wrap it so that server carries the endpoint.
    const listen = app.listen.bind(app);
    app.listen = (...args: unknown[]) => {
      const s = listen(...args);
      bind(s);
      return s;
    };
    // `http.createServer(app)` never tells the app its server: take it from the first request.
    const handle = app.handle;
    if (typeof handle === 'function') {
      app.handle = function (
        this: unknown,
        request: IncomingMessage,
        response: ServerResponse,
        ...rest: unknown[]
      ) {
        const s = (request.socket as { server?: unknown }).server;
        if (s instanceof EventEmitter && !servers.has(s as Server)) {
          bind(s as Server);
          // Node hands an upgrade to the app only while no 'upgrade' listener exists, so this
          // socket cannot become a WebSocket: refuse it clearly; the next attempt is served.
          if (isOurUpgrade(request, path)) {
            tandem.options.logger.warn('upgrade before attach(app) knew its server; refused once', { path });
            respondNotYetBound(response);
            return;
          }
        }
        return handle.call(this, request, response, ...rest);
      };
    }
  } else {
    owned = true;
    const s = createServer((_request, response) => {
      response.statusCode = 404;
      response.end();
    });
    bind(s);
    await listen(s, target.port, target.host ?? '127.0.0.1');
  }
  try {
    await tandem.ready;
  } catch (error) {
    // Nothing attach set up may outlive a failed start (a missing optional package, an unreachable store).
    for (const s of servers) s.off('upgrade', onUpgrade);
    if (owned) for (const s of servers) s.close();
    wss.close();
    throw error;
  }

  return {
    tandem,
    get server() {
      return first(servers);
    },
    url() {
      const address = first(servers)?.address() as AddressInfo | null | undefined;
      if (address == null) throw new TandemError(ErrorCode.INVALID_CONFIG, 'the server is not listening yet');
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      return `ws://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}${path}`;
    },
    async close() {
      for (const s of servers) s.off('upgrade', onUpgrade);
      await tandem.close();
      wss.close();
      if (owned) {
        for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    },
  };
}

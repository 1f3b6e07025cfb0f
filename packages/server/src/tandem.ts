/**
 * The embeddable core: `createTandem(options)` gives a `handleConnection(socket, request, context)`
 * that any WebSocket server can feed. It composes the pieces (options, storage, ShareDB backend,
 * middleware, connections, heartbeat) and owns the lifecycle; `attach` adds the HTTP side.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type ConflictRecord, type ConflictsHandle, createDocIO, type DocIO } from '@tandem/conflicts';
import type { History } from '@tandem/history';
import { type ConflictReport, ErrorCode, TANDEM_ACTION, TandemError } from '@tandem/protocol';
import type ShareDB from 'sharedb';
import { builtInExtensions } from './extensions/built-in';
import { toReport } from './extensions/conflict-reports';
import { createPluginCalls } from './extensions/plugin-calls';
import type { Plugins } from './extensions/plugins';
import { Extensions } from './extensions/registry';
import { type WebhookCounts, Webhooks } from './extensions/webhooks';
import type { Principal, RequestInfo } from './hooks';
import { Metrics, type MetricsSnapshot } from './metrics';
import { type ResolvedOptions, resolveOptions, type TandemOptions } from './options';
import { type EventsChannel, type EventsMessage, openEventsChannel } from './pubsub/events';
import { HookRunner } from './run-hook';
import { createAccessCheck } from './security/access';
import { Audit } from './security/audit';
import { checkOrigin } from './security/origin';
import { anonymousPrincipal, userInfo } from './security/principal';
import type { Sessions } from './security/sessions';
import { refused } from './security/tokens';
import { carryErrorDetails, installFastOpDelivery } from './sharedb/agent';
import { type Backend, createBackend, readProbe } from './sharedb/backend';
import { assertSupported } from './sharedb/fence';
import { subscribedDocuments } from './sharedb/subscriptions';
import { resolveStorage, type Storage } from './storage';
import { codecFor } from './transport/codecs';
import { CloseCode, Connection, type ConnectionEnvironment } from './transport/connection';
import { FlushScheduler } from './transport/flush-scheduler';
import { keepRequest } from './transport/request-info';
import type { TandemSocket } from './transport/socket';
import { createTandemMessageHandler } from './transport/tandem-messages';

export interface Readiness {
  ready: boolean;
  store: boolean;
  /** Absent without `options.redis`. */
  redis?: boolean;
}

/** A probe slower than this counts as down: a load balancer must not wait on a hung store. */
const PROBE_TIMEOUT_MS = 2_000;

function probe(check: () => Promise<unknown>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
    timer.unref();
    check().then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

export interface ConnectionContext {
  /** The principal when the host already authenticated (as `attach` does at the upgrade). */
  principal?: Principal;
}

export interface Tandem {
  /** The resolved options (defaults filled in). */
  readonly options: ResolvedOptions;
  /** Resolves when storage is open and connections are served; rejects on a storage failure. */
  readonly ready: Promise<void>;
  /** The ShareDB backend, once ready: for server-side `connect()` and extra middleware. */
  backend(): Promise<ShareDB>;
  /** Run the `authenticate` hook (or the anonymous default) for an upgrade request; refusals are audited. */
  authenticate(request: IncomingMessage): Promise<Principal>;
  /** FORBIDDEN (audited) when the request's browser Origin is not allowed (`allowedOrigins`); else undefined. */
  checkOrigin(request: IncomingMessage): TandemError | undefined;
  /** Serve one open socket. Never throws: failures are reported to the socket and counted. */
  handleConnection(socket: TandemSocket, request?: IncomingMessage, context?: ConnectionContext): void;
  /**
   * Counters; `webhooks` is there when `options.webhooks` is set, `extensions` (by name) when an
   * extension reports any.
   */
  metrics(): MetricsSnapshot & {
    webhooks?: WebhookCounts;
    extensions?: Record<string, Record<string, unknown>>;
  };
  /** Whether the store answers a read and (with `options.redis`) Redis answers a PING, each within 2 s. */
  readiness(): Promise<Readiness>;
  /** Session records and revocation (every process); methods wait for `ready`. */
  readonly sessions: Sessions;
  /** @tandem/conflicts' handle, once ready: locks, stored records, resolving manual conflicts. */
  conflicts(): Promise<ConflictsHandle>;
  /** @tandem/history's API, once ready; undefined when `options.history` is false. */
  history(): Promise<History | undefined>;
  /**
   * Report a conflict (what @tandem/conflicts calls for each record): runs `onConflict` here and
   * sends the report to the authors' Tandem connections on every server process.
   */
  reportConflict(record: ConflictRecord): void;
  /** True once close() was called: new connections are refused. */
  readonly closing: boolean;
  /** Stop accepting, flush, close every socket with 1001, close pub/sub and storage. */
  close(): Promise<void>;
}

/** The token a client passes in the `token` query parameter of the WebSocket URL. */
export function tokenOf(request: IncomingMessage | undefined): string | undefined {
  if (request?.url === undefined) return undefined;
  return new URL(request.url, 'http://localhost').searchParams.get('token') ?? undefined;
}

/** How long close() waits for sockets to finish their closing handshake. */
const CLOSE_GRACE_MS = 2_000;

export function createTandem(options: TandemOptions = {}): Tandem {
  // Before anything else: the ShareDB internals the server patches must be the ones it knows.
  assertSupported();
  const resolved = resolveOptions(options);
  const hooks = new HookRunner(resolved.hooks, resolved.logger);
  const metrics = new Metrics();
  const audit = new Audit(resolved.audit, resolved.logger);
  const webhooks =
    resolved.webhooks === undefined ? undefined : new Webhooks(resolved.webhooks, resolved.logger);
  const who = (connection: Connection) => ({
    userId: connection.principal?.id,
    connectionId: connection.id,
    remoteAddress: connection.request?.remoteAddress,
  });
  const connections = new Set<Connection>();
  /** Sockets fully served: `connected` and `onConnect` ran for them, so `disconnected` and `onDisconnect` will. */
  const served = new WeakSet<Connection>();
  /** `close()` waiting for these sockets to close. */
  const closeWaiters = new Map<Connection, () => void>();
  let closing = false;
  let storage: Storage | undefined;
  /** Redis pub/sub (with `options.redis`) and ordered delivery, once the backend exists. */
  let pubsub: Pick<Backend, 'redis' | 'delivery'> | undefined;

  /** Hand a report to this process's connections of the authors involved (from any process). */
  const deliverReport = (report: ConflictReport): void => {
    for (const connection of connections) {
      const id = connection.principal?.id;
      if (id !== undefined && report.authors.includes(id)) {
        connection.sendTandem({ a: TANDEM_ACTION, t: 'conflict', report });
      }
    }
  };

  /** Distinct documents subscribed on this process (counted when scraped, never on the hot path). */
  const openDocuments = (): number => {
    const open = new Set<string>();
    for (const connection of connections) {
      if (connection.agent === undefined) continue;
      for (const [collection, id] of subscribedDocuments(connection.agent)) open.add(`${collection}/${id}`);
    }
    return open.size;
  };

  const builtIns = builtInExtensions({
    metrics,
    hooks,
    webhooks,
    audit,
    rateLimits: resolved.rateLimits,
    redis: () => pubsub?.redis?.commands,
    reportConflict: (r) => reportConflict(r),
  });
  const extensions = new Extensions(builtIns.list, resolved.extensions, resolved.logger);

  const deliverEvent = (message: EventsMessage): void => {
    if (message.t === 'conflict') deliverReport(message.report);
    else extensions.event(message.ext, message.data);
  };

  const reportConflict = (record: ConflictRecord): void => {
    metrics.conflicts[record.kind] = (metrics.conflicts[record.kind] ?? 0) + 1;
    const report = toReport(record);
    hooks.notify('onConflict', { record, report });
    webhooks?.emit('conflict.detected', report);
    readyPromise.then(
      ({ events }) => events.publish({ t: 'conflict', report }),
      () => {},
    );
  };

  const readyPromise: Promise<{
    backend: ShareDB;
    plugins: Plugins;
    events: EventsChannel;
    records: DocIO;
  }> = resolveStorage(resolved.storage).then(async (opened) => {
    storage = opened;
    let backend: ShareDB | undefined;
    let events: EventsChannel | undefined;
    let records: DocIO | undefined;
    try {
      const created = await createBackend(opened, resolved.redis, resolved.logger);
      backend = created.sharedb;
      pubsub = created;
      const channel = await openEventsChannel(backend, deliverEvent, resolved.logger);
      events = channel;
      // Tandem's records in reserved collections, for extensions (trusted by conflicts' guard).
      records = createDocIO(backend);
      // Built-ins first, in their listed order (extensions/built-in.ts), then the host's.
      await extensions.install({
        backend,
        options: resolved,
        logger: resolved.logger,
        records,
        access: createAccessCheck(hooks),
        webhook: (type, data) => webhooks?.emit(type, data),
        publish: (ext, data) => channel.publish({ t: 'ext', ext, data }),
        connections: () => connections,
      });
      return { backend, plugins: builtIns.plugins(), events: channel, records };
    } catch (error) {
      // A failed start leaves nothing open: node-redis would retry its connections forever and keep
      // the process alive. close() then finds nothing left to close.
      storage = undefined;
      pubsub = undefined;
      await extensions.close();
      events?.close();
      records?.close();
      const backendPubSub = backend?.pubsub;
      if (backendPubSub !== undefined)
        await new Promise<void>((resolve) => backendPubSub.close(() => resolve()));
      await opened.close();
      throw error;
    }
  });
  /** The host's `tandem.sessions`: its methods wait for `ready`. */
  const sessionsPromise = readyPromise.then(() => builtIns.sessions());
  sessionsPromise.catch(() => {});
  const backendPromise = readyPromise.then((r) => r.backend);
  const pluginsPromise = readyPromise.then((r) => r.plugins);
  // Connections wait on these; an unobserved rejection must not crash the host.
  readyPromise.catch((error: unknown) =>
    resolved.logger.error('storage or pub/sub failed to open', { error: String(error) }),
  );
  backendPromise.catch(() => {});
  pluginsPromise.catch(() => {});

  const releaseLocks = (connection: Connection): void => {
    pluginsPromise
      .then((plugins) => plugins.conflicts.locks.releaseOwner(connection.id))
      .catch((error: unknown) =>
        resolved.logger.warn('could not release locks', { connection: connection.id, error: String(error) }),
      );
  };

  const env: ConnectionEnvironment = {
    onError: (connection, error) => audit.error(error, who(connection)),
    gatesFor: (connection) => extensions.gates(connection),
    stopGates: (gates) => extensions.stop(gates),
    options: resolved,
    metrics,
    scheduler: new FlushScheduler(),
    onTandemMessage: createTandemMessageHandler(
      hooks,
      createPluginCalls(pluginsPromise, createAccessCheck(hooks)),
      extensions,
    ),
    onClosed(connection, code) {
      connections.delete(connection);
      closeWaiters.get(connection)?.();
      closeWaiters.delete(connection);
      metrics.connections--;
      if (connection.principal !== undefined) {
        // Locks belong to the socket's session: a closed tab must not keep others out for a TTL.
        releaseLocks(connection);
      }
      // Only what was announced connected is announced gone (serving can fail half-way).
      if (served.delete(connection) && connection.principal !== undefined) {
        extensions.disconnected(connection, code);
        hooks.notify('onDisconnect', { principal: connection.principal, connectionId: connection.id, code });
      }
    },
  };

  /**
   * Every beat: extensions' checks on served sockets (the sessions extension ends expired
   * sessions), then tokens that ran out without a refresh (authentication is the core's, not an
   * extension's), then the ping.
   */
  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) {
      if (connection.agent !== undefined && !connection.isEnding) extensions.heartbeat(connection, now);
      const tokenExpiresAt = connection.principal?.expiresAt;
      if (typeof tokenExpiresAt === 'number' && tokenExpiresAt <= now && !connection.isEnding) {
        // The client reconnects with a fresh token (getToken); a refresh before expiry avoids this.
        connection.fail(refused('expired', 'token expired'), CloseCode.policy);
      }
      connection.heartbeat(now);
    }
  }, resolved.heartbeatMs);
  heartbeat.unref();

  const authenticate = (request: IncomingMessage): Promise<Principal> =>
    authenticateOnce(request).catch((error: unknown) => {
      const wire = TandemError.from(error, ErrorCode.UNAUTHORIZED);
      audit.error(wire, { remoteAddress: request.socket?.remoteAddress });
      throw wire;
    });

  const authenticateOnce = async (request: IncomingMessage): Promise<Principal> => {
    if (!hooks.has('authenticate')) return anonymousPrincipal();
    const principal = await hooks.call(
      'authenticate',
      { request, token: tokenOf(request), refresh: false },
      ErrorCode.UNAUTHORIZED,
    );
    if (typeof principal?.id !== 'string' || principal.id === '') {
      throw new TandemError(ErrorCode.UNAUTHORIZED, 'authenticate returned no principal id');
    }
    // Extensions may refuse it before a socket exists (the sessions extension: an ended session).
    // They may read their stores, so this waits until the server is ready; a start that failed is
    // the server's fault, never the caller's, and its cause (logged at start) stays here.
    await readyPromise.catch(() => {
      throw new TandemError(ErrorCode.STORAGE_UNAVAILABLE, 'the server is not ready');
    });
    await extensions.authenticated(principal, request);
    return principal;
  };

  async function serve(
    connection: Connection,
    request: IncomingMessage | undefined,
    given: Principal | undefined,
  ) {
    const principal = given ?? (request === undefined ? anonymousPrincipal() : await authenticate(request));
    const backend = await backendPromise;
    await extensions.admit(connection, principal);
    if (connection.isClosed) return;
    connection.setPrincipal(principal);
    connection.sendTandem({
      a: TANDEM_ACTION,
      t: 'hello',
      connectionId: connection.id,
      user: userInfo(principal),
      limits: { maxMessageBytes: resolved.maxMessageBytes },
      ...(typeof principal.expiresAt === 'number' ? { expiresAt: principal.expiresAt } : {}),
    });
    const agent = backend.listen(connection.stream as never, request);
    carryErrorDetails(agent as never);
    connection.agent = agent as never;
    installFastOpDelivery(agent as never);
    connection.start();
    served.add(connection);
    extensions.connected(connection);
    hooks.notify('onConnect', {
      principal,
      connectionId: connection.id,
      request,
      codec: connection.codec.name,
    });
  }

  return {
    options: resolved,
    ready: readyPromise.then(() => undefined),
    backend: () => backendPromise,
    conflicts: () => pluginsPromise.then((p) => p.conflicts),
    history: () => pluginsPromise.then((p) => p.history),
    authenticate,
    get closing() {
      return closing;
    },
    handleConnection(socket, request, context = {}) {
      const info: RequestInfo | undefined = request === undefined ? undefined : keepRequest(request);
      const connection = new Connection(
        randomUUID(),
        socket,
        codecFor(socket.protocol),
        info,
        undefined,
        env,
      );
      connections.add(connection);
      metrics.connections++;
      metrics.connectionsTotal++;
      if (closing) {
        connection.fail(
          new TandemError(ErrorCode.SHUTTING_DOWN, 'server is shutting down'),
          CloseCode.goingAway,
        );
        return;
      }
      serve(connection, request, context.principal).catch((error: unknown) => {
        const wire = TandemError.from(error);
        if (wire.code === ErrorCode.INTERNAL)
          resolved.logger.error('connection failed', { error: String(error) });
        connection.fail(
          wire,
          wire.code === ErrorCode.UNAUTHORIZED || wire.code === ErrorCode.SESSION_ENDED
            ? CloseCode.policy
            : CloseCode.tryAgainLater,
        );
      });
    },
    metrics: () => {
      const snapshot = metrics.snapshot(
        [...connections].map((c) => c.rtt),
        audit.counts,
        openDocuments(),
        pubsub === undefined ? undefined : { ...pubsub.delivery.counts, ...pubsub.redis?.counts },
      );
      const extensionCounts = extensions.metrics();
      return {
        ...snapshot,
        ...(webhooks === undefined ? {} : { webhooks: webhooks.snapshot() }),
        ...(Object.keys(extensionCounts).length === 0 ? {} : { extensions: extensionCounts }),
      };
    },
    async readiness() {
      const backend = await backendPromise.catch(() => undefined);
      if (backend === undefined || closing) return { ready: false, store: false };
      const store = await probe(() => readProbe(backend));
      const client = pubsub?.redis;
      if (client === undefined) return { ready: store, store };
      const redis = await probe(() => client.ping());
      return { ready: store && redis, store, redis };
    },
    checkOrigin(request) {
      const refused = checkOrigin(request, resolved.allowedOrigins);
      if (refused !== undefined) audit.error(refused, { remoteAddress: request.socket?.remoteAddress });
      return refused;
    },
    sessions: {
      get: (id) => sessionsPromise.then((s) => s.get(id)),
      list: (filter) => sessionsPromise.then((s) => s.list(filter)),
      revoke: (target, reason) => sessionsPromise.then((s) => s.revoke(target, reason)),
    },
    reportConflict,
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      const closed = [...connections].map(
        (connection) =>
          new Promise<void>((resolve) => {
            closeWaiters.set(connection, resolve);
            connection.fail(
              new TandemError(ErrorCode.SHUTTING_DOWN, 'server is shutting down'),
              CloseCode.goingAway,
            );
            setTimeout(resolve, CLOSE_GRACE_MS).unref();
          }),
      );
      await Promise.all(closed);
      const ready = await readyPromise.catch(() => undefined);
      if (ready !== undefined) {
        // Conflicts' records in flight are stored and reported before pub/sub goes.
        await extensions.close();
        ready.records.close();
      }
      // Last events are queued now; they are flushed (bounded by closeTimeoutMs) while the rest closes.
      const flushed = webhooks?.close();
      if (ready !== undefined) {
        ready.events.close();
        await new Promise<void>((resolve) => ready.backend.pubsub.close(() => resolve()));
      }
      await storage?.close();
      await flushed;
    },
  };
}

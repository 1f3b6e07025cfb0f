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
import { toReport } from './extensions/conflict-reports';
import { createPluginCalls } from './extensions/plugin-calls';
import { installPlugins, type Plugins } from './extensions/plugins';
import { Extensions } from './extensions/registry';
import { installValidation } from './extensions/validation';
import { installCommitWebhooks, type WebhookCounts, Webhooks } from './extensions/webhooks';
import type { Principal, RequestInfo } from './hooks';
import { installTimings, Metrics, type MetricsSnapshot } from './metrics';
import { type ResolvedOptions, resolveOptions, type TandemOptions } from './options';
import { type EventsChannel, type EventsMessage, openEventsChannel } from './pubsub/events';
import { HookRunner } from './run-hook';
import { createAccessCheck } from './security/access';
import { Audit } from './security/audit';
import { installMiddleware } from './security/middleware';
import { checkOrigin } from './security/origin';
import { anonymousPrincipal, userInfo } from './security/principal';
import {
  Admission,
  RedisUserBuckets,
  Throttle,
  type UserBucketPool,
  UserBuckets,
} from './security/rate-limit';
import { createSessionManager, ended, type SessionManager, type Sessions } from './security/sessions';
import { refused } from './security/tokens';
import { carryErrorDetails, installFastOpDelivery } from './sharedb/agent';
import { type Backend, createBackend } from './sharedb/backend';
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
  /** `close()` waiting for these sockets to close. */
  const closeWaiters = new Map<Connection, () => void>();
  let closing = false;
  let storage: Storage | undefined;
  /** Redis pub/sub (with `options.redis`) and ordered delivery, once the backend exists. */
  let pubsub: Pick<Backend, 'redis' | 'delivery'> | undefined;
  /** Per-user buckets: shared over Redis when configured (set once the backend exists), else per process. */
  let userBuckets: UserBucketPool | undefined =
    resolved.rateLimits === undefined ? undefined : new UserBuckets(resolved.rateLimits.user);
  /** The process-wide ops budget (`rateLimits.process`), fair across users. */
  const admission =
    resolved.rateLimits?.process === undefined ? undefined : new Admission(resolved.rateLimits.process);

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

  /** Close this process's sockets of ended sessions (a session id, a connection id, or a user). */
  const endSessions = (ids: readonly string[], reason: string, userId: string | undefined): void => {
    const wanted = new Set(ids);
    for (const connection of connections) {
      const sessionId = connection.session?.id ?? connection.id;
      if (wanted.has(sessionId) || wanted.has(connection.id) || connection.principal?.id === userId) {
        connection.fail(ended(reason, sessionId), CloseCode.policy);
      }
    }
  };

  const extensions = new Extensions(resolved.extensions, resolved.logger);

  const deliverEvent = (message: EventsMessage): void => {
    if (message.t === 'conflict') deliverReport(message.report);
    else if (message.t === 'ext') extensions.event(message.ext, message.data);
    else endSessions(message.sessionIds, message.reason, message.userId);
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
    sessions: SessionManager;
    records: DocIO;
  }> = resolveStorage(resolved.storage).then(async (opened) => {
    storage = opened;
    const created = await createBackend(opened, resolved.redis, resolved.logger);
    const backend = created.sharedb;
    pubsub = created;
    if (resolved.rateLimits !== undefined && resolved.redis !== undefined && created.redis !== undefined) {
      userBuckets = new RedisUserBuckets(
        created.redis.commands,
        resolved.redis.prefix,
        resolved.rateLimits.user,
        (error) =>
          resolved.logger.warn('rate limit lease failed; using a local share', { error: String(error) }),
      );
    }
    installTimings(backend as never, metrics);
    installValidation(backend, resolved.validation);
    installMiddleware(backend, hooks, resolved.logger);
    if (webhooks !== undefined) installCommitWebhooks(backend, webhooks);
    const plugins = installPlugins(backend, resolved, reportConflict, (ref, version) =>
      webhooks?.emit('version.created', { collection: ref.collection, id: ref.id, ...version }),
    );
    const events = await openEventsChannel(backend, deliverEvent, resolved.logger);
    const sessions = createSessionManager(
      backend,
      plugins.conflicts.trustAgent,
      resolved.sessions,
      (sessionIds, reason, userId) => events.publish({ t: 'session-ended', sessionIds, reason, userId }),
    );
    const records = createDocIO(backend);
    await extensions.install({
      backend,
      options: resolved,
      logger: resolved.logger,
      records,
      access: createAccessCheck(hooks),
      webhook: (type, data) => webhooks?.emit(type, data),
      publish: (ext, data) => events.publish({ t: 'ext', ext, data }),
      connections: () => connections,
    });
    return { backend, plugins, events, sessions, records };
  });
  const sessionsPromise = readyPromise.then((r) => r.sessions);
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

  const throttled = new WeakMap<Connection, string>();

  const env: ConnectionEnvironment = {
    onError: (connection, error) => audit.error(error, who(connection)),
    throttleFor(connection) {
      const limits = resolved.rateLimits;
      if (limits === undefined || userBuckets === undefined) return undefined;
      const userId = connection.principal?.id;
      if (userId !== undefined) throttled.set(connection, userId);
      return new Throttle(
        limits,
        {
          deliver: (message) => connection.pass(message),
          limited: (error) => connection.reportError(error),
          violated: (error) => connection.fail(error, CloseCode.policy),
          pause: () => connection.socket.pause?.(),
          resume: () => connection.socket.resume?.(),
        },
        userId === undefined ? undefined : userBuckets.acquire(userId, Date.now()),
        Date.now(),
        admission && { admission, flow: userId === undefined ? admission.flow() : admission.acquire(userId) },
      );
    },
    options: resolved,
    metrics,
    scheduler: new FlushScheduler(),
    onTandemMessage: createTandemMessageHandler(
      hooks,
      createPluginCalls(pluginsPromise, createAccessCheck(hooks)),
      extensions,
      (connection, principal) => admit(connection, principal),
    ),
    onClosed(connection, code) {
      connections.delete(connection);
      closeWaiters.get(connection)?.();
      closeWaiters.delete(connection);
      const throttledUser = throttled.get(connection);
      if (throttledUser !== undefined) userBuckets?.release(throttledUser);
      if (throttledUser !== undefined) admission?.release(throttledUser);
      metrics.connections--;
      if (connection.principal !== undefined) {
        // Locks belong to the socket's session: a closed tab must not keep others out for a TTL.
        releaseLocks(connection);
        if (connection.agent !== undefined) extensions.disconnected(connection, code);
        hooks.notify('onDisconnect', { principal: connection.principal, connectionId: connection.id, code });
      }
    },
  };

  /** Sessions and tokens that ran out while their socket was open end here. */
  const checkExpiry = (connection: Connection, now: number): void => {
    const session = connection.session;
    if (session !== undefined && session.expiresAt <= now) {
      connection.session = undefined;
      sessionsPromise
        .then((sessions) => sessions.expire(session.id))
        .catch((error: unknown) =>
          resolved.logger.warn('could not expire a session', { error: String(error) }),
        );
      connection.fail(ended('expired', session.id), CloseCode.policy);
      return;
    }
    const tokenExpiresAt = connection.principal?.expiresAt;
    if (typeof tokenExpiresAt === 'number' && tokenExpiresAt <= now) {
      // The client reconnects with a fresh token (getToken); a refresh before expiry avoids this.
      connection.fail(refused('expired', 'token expired'), CloseCode.policy);
    }
  };

  const heartbeat = setInterval(() => {
    const now = Date.now();
    for (const connection of connections) {
      checkExpiry(connection, now);
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
    // An ended session is refused at the upgrade, before a socket exists.
    if (typeof principal.sessionId === 'string') {
      const record = await (await sessionsPromise).get(principal.sessionId);
      if (record !== undefined && (record.state === 'revoked' || record.state === 'expired'))
        throw ended(record.reason ?? record.state, record.id);
    }
    return principal;
  };

  /** Admit a principal's stored session (if it names one) for this connection. */
  const admit = async (connection: Connection, principal: Principal): Promise<void> => {
    if (typeof principal.sessionId !== 'string') return;
    const record = await (await sessionsPromise).admit(principal, principal.sessionId);
    connection.session = { id: record.id, expiresAt: record.expiresAt };
  };

  async function serve(
    connection: Connection,
    request: IncomingMessage | undefined,
    given: Principal | undefined,
  ) {
    const principal = given ?? (request === undefined ? anonymousPrincipal() : await authenticate(request));
    const backend = await backendPromise;
    await admit(connection, principal);
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
    if (connection.session !== undefined) {
      const id = connection.session.id;
      sessionsPromise
        .then((sessions) => sessions.activate(id))
        .catch((error: unknown) =>
          resolved.logger.warn('could not activate a session', { error: String(error) }),
        );
    }
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
      const db = backend.db as unknown as {
        getSnapshot(c: string, id: string, f: null, o: null, cb: (e: unknown) => void): void;
      };
      const store = await probe(
        () =>
          new Promise<void>((resolve, reject) =>
            db.getSnapshot('_tandem_health', 'probe', null, null, (e) => (e ? reject(e) : resolve())),
          ),
      );
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
      revoke: async (target, reason) => {
        const revoked = await (await sessionsPromise).revoke(target, reason);
        for (const record of revoked) {
          audit.record('session_revoked', ended(record.reason ?? 'revoked', record.id), {
            userId: record.userId,
          });
          webhooks?.emit('session.revoked', {
            sessionId: record.id,
            userId: record.userId,
            reason: record.reason,
            revokedAt: record.endedAt,
          });
        }
        return revoked;
      },
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
      admission?.stop();
      const ready = await readyPromise.catch(() => undefined);
      if (ready !== undefined) {
        await extensions.close();
        ready.records.close();
        // Records in flight are stored and reported before pub/sub goes.
        await ready.plugins.conflicts.close();
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

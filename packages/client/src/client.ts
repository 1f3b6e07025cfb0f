/**
 * `connect(url, options)`: one connection to a Tandem server, for browsers (native WebSocket) and
 * Node (`ws`, or Node's global WebSocket). Reconnects with exponential backoff and jitter; ShareDB
 * resubscribes and resends pending ops over the new socket.
 */
import { type } from '@tandem/ot';
import {
  AUTHOR_FIELD,
  COMMENTS_EXTENSION,
  type CommentsPush,
  type ConflictReport,
  clientIdAlias,
  ErrorCode,
  type ExtensionCallMessage,
  type HistoryCallMessage,
  type LockMessage,
  type OpAuthor,
  TANDEM_ACTION,
  TandemError,
  type TandemMessage,
  type UserInfo,
} from '@tandem/protocol';
import { type CodecName, clientCodec } from './codecs';
import type { CommentsContext } from './comments';
import { TandemDoc, toTandemError } from './doc';
import { Emitter } from './emitter';
import { DocHistory } from './history';
import { Notifications } from './notifications';
import type { OfflineStore } from './offline';
import { createConnection, registerType, routeLogs, type ShareDbConnection, typeFor } from './sharedb';
import { type BackoffOptions, ReconnectingSocket, type WebSocketConstructor } from './socket';

registerType(type);

/** Library code never writes to the console: diagnostics go to an injected logger. */
export interface Logger {
  info(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

const nothing = (): void => {};
const silentLogger: Logger = { info: nothing, warn: nothing, error: nothing };

/** `ended`: the server ended the session (revoked or expired); the client no longer reconnects. */
export type ConnectionStatus = 'connecting' | 'online' | 'offline' | 'ended';

export interface ConnectOptions {
  /** A fixed token, sent as the `token` query parameter. */
  token?: string;
  /**
   * Called before every (re)connect for a fresh token, and before the credentials expire (when the
   * server's hello says when) to refresh them on the live socket; wins over `token`.
   */
  getToken?: () => string | Promise<string>;
  /** How long before expiry the credentials are refreshed (at most half their remaining life). @default 30_000 */
  refreshBeforeMs?: number;
  /** Wire codec. @default 'msgpack' */
  codec?: CodecName;
  /** WebSocket implementation. @default globalThis.WebSocket (pass `ws`'s in Node 20) */
  WebSocket?: WebSocketConstructor;
  /** Reconnect backoff. @default { minDelayMs: 250, maxDelayMs: 10_000 } */
  reconnect?: BackoffOptions;
  /** Persist unacknowledged ops here so they survive a restart. @default none (memory only) */
  offlineStore?: OfflineStore;
  /** Application-level ping for round-trip time. @default 10_000 */
  pingIntervalMs?: number;
  /** Where diagnostics go (ShareDB's client logger is process-wide: the last client's wins). @default silent */
  logger?: Logger;
}

type ClientEvents = {
  status: (status: ConnectionStatus) => void;
  error: (error: TandemError) => void;
  /** Total unacknowledged ops over all documents changed. */
  unsynced: (count: number) => void;
  /** A conflict involving this user, on any document (also emitted by the document, if open here). */
  conflict: (report: ConflictReport) => void;
  /** Data a server extension sent unasked (`ext` names it), e.g. a notification. */
  push: (ext: string, data: unknown) => void;
};

/** Requests answered with a `result`; the client numbers them. */
export type TandemRequest =
  | Omit<HistoryCallMessage, 'a' | 'rid'>
  | Omit<LockMessage, 'a' | 'rid'>
  | Omit<ExtensionCallMessage, 'a' | 'rid'>;

export class TandemClient extends Emitter<ClientEvents> {
  /** The ShareDB connection underneath (escape hatch; its ops bypass Tandem's doc wrappers). */
  readonly connection: ShareDbConnection;
  /** The user the server authenticated, from its hello. */
  user: UserInfo | undefined;
  /** Last application-level round-trip time in ms. */
  rtt: number | undefined;
  private readonly socket: ReconnectingSocket;
  private readonly docs = new Map<string, TandemDoc<any>>();
  private currentStatus: ConnectionStatus = 'connecting';
  private author: OpAuthor | undefined;
  private lastUnsynced = 0;
  private nextRid = 1;
  private readonly requests = new Map<
    number,
    { resolve(value: unknown): void; reject(error: unknown): void }
  >();
  private readonly pinger: ReturnType<typeof setInterval>;
  private notificationsView: Notifications | undefined;
  private commentsLink: CommentsContext | undefined;

  private urlIndex = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why the server ended the session (SESSION_ENDED); set once, after which nothing reconnects. */
  endedBy: TandemError | undefined;

  /** @param url one endpoint, or several to fail over between (tried in turn after a disconnect) */
  constructor(
    url: string | readonly string[],
    private readonly options: ConnectOptions = {},
  ) {
    super();
    routeLogs(options.logger ?? silentLogger);
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) {
      throw new TandemError(
        ErrorCode.INVALID_CONFIG,
        'no WebSocket available: pass options.WebSocket (e.g. from ws)',
        {
          option: 'WebSocket',
        },
      );
    }
    this.socket = new ReconnectingSocket(
      WebSocketImpl,
      clientCodec(options.codec ?? 'msgpack'),
      {
        url: async () => {
          const urls = typeof url === 'string' ? [url] : url;
          // After a disconnect the next endpoint is tried: any server process can take any client.
          const next = urls[this.urlIndex++ % urls.length];
          const token = options.getToken !== undefined ? await options.getToken() : options.token;
          if (token === undefined) return next;
          const u = new URL(next);
          u.searchParams.set('token', token);
          return u.toString();
        },
        onTandemMessage: (message) => this.onTandemMessage(message),
        onDecodeError: (error) => this.emit('error', toTandemError(error)),
      },
      {
        minDelayMs: options.reconnect?.minDelayMs ?? 250,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 10_000,
      },
    );
    this.connection = createConnection(this.socket);
    // The author of an op message is read while ShareDB applies it, synchronously, in handleMessage.
    this.connection.on('receive', (request: { data: Record<string, unknown> }) => {
      const data = request.data;
      this.author = data?.a === 'op' ? (data[AUTHOR_FIELD] as OpAuthor | undefined) : undefined;
      // Others see a client id only as its alias; an op or presence of our own comes back under it
      // too when it was sent under an earlier id (a restart). ShareDB must see our id to know it.
      const src = data?.src;
      if (typeof src === 'string' && src.startsWith('~')) {
        const own = this.ownIds.get(src);
        if (own !== undefined) data.src = own;
      }
    });
    // Write-ahead: an op going out has its identity (src/seq) now; it is persisted before the socket
    // may send it, so after a crash a restart resends it (deduplicated) instead of submitting it anew.
    // Connection emits 'send' just before calling socket.send.
    this.connection.on('send', (message: { a?: string; c?: string; d?: string }) => {
      if (message.a !== 'op' || this.options.offlineStore === undefined) return;
      const doc = this.docs.get(`${message.c}/${message.d}`);
      if (doc !== undefined) this.socket.holdUntil(doc.persistNow());
    });
    this.connection.on('state', (state: string) => {
      const id = this.connection.id;
      if (state === 'connected' && id !== null) this.ownClientId(id);
      const next: ConnectionStatus =
        this.endedBy !== undefined
          ? 'ended'
          : state === 'connected'
            ? 'online'
            : state === 'connecting'
              ? 'connecting'
              : 'offline';
      if (next === this.currentStatus) return;
      // Answers come on the socket a call went out on: once it is gone, none will.
      if (this.currentStatus === 'online') this.abandonRequests();
      this.currentStatus = next;
      this.emit('status', next);
    });
    this.connection.on('error', (error: unknown) => this.emit('error', toTandemError(error)));
    this.pinger = setInterval(() => {
      this.socket.sendTandem({ a: TANDEM_ACTION, t: 'ping', ts: Date.now() });
    }, options.pingIntervalMs ?? 10_000);
    (this.pinger as { unref?: () => void }).unref?.();
  }

  /** Client ids this client has held, by the alias others see them under (see clientIdAlias). */
  private readonly ownIds = new Map<string, string>();

  private ownClientId(id: string): void {
    const alias = clientIdAlias(id);
    if (alias !== undefined) this.ownIds.set(alias, id);
  }

  get status(): ConnectionStatus {
    return this.currentStatus;
  }

  /** Resolves when online (immediately if already). */
  online(signal?: AbortSignal): Promise<void> {
    if (this.currentStatus === 'online') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('status', (status) => {
        if (status !== 'online') return;
        off();
        resolve();
      });
      signal?.addEventListener('abort', () => {
        off();
        reject(signal.reason);
      });
    });
  }

  /** Ops submitted on any document and not yet acknowledged. */
  get unsyncedCount(): number {
    let n = 0;
    for (const doc of this.docs.values()) n += doc.pendingCount;
    return n;
  }

  doc<T = unknown>(collection: string, id: string): TandemDoc<T> {
    const key = `${collection}/${id}`;
    let doc = this.docs.get(key);
    if (doc === undefined) {
      doc = new TandemDoc<T>(this.connection.get(collection, id), {
        currentAuthor: () => this.author,
        presenceFor: (c, d) => this.connection.getDocPresence(c, d),
        store: this.options.offlineStore,
        connectionId: () => this.connection.id,
        ownClientId: (ownId) => this.ownClientId(ownId),
        watchOnline: (listener) => {
          this.on('status', (status) => {
            if (status !== 'connecting') listener(status === 'online');
          });
        },
        typeFor,
        pendingChanged: () => this.unsyncedChanged(),
        call: (message, signal) => this.call(message, signal),
        comments: this.commentsContext(),
      });
      this.docs.set(key, doc);
    }
    return doc as TandemDoc<T>;
  }

  /** This user's notifications, through the server's `comments` extension (created on first use). */
  notifications(): Notifications {
    this.notificationsView ??= new Notifications(this.commentsContext());
    return this.notificationsView;
  }

  private commentsContext(): CommentsContext {
    this.commentsLink ??= {
      call: (method, args, signal) => this.call({ t: 'call', ext: COMMENTS_EXTENSION, method, args }, signal),
      onPush: (listener) =>
        this.on('push', (ext, data) => {
          if (ext === COMMENTS_EXTENSION && typeof data === 'object' && data !== null)
            listener(data as CommentsPush);
        }),
      onOnline: (listener) => {
        // Only a reconnect: the first connection serves the first call anyway.
        let wasOnline = this.currentStatus === 'online';
        return this.on('status', (status) => {
          if (status !== 'online') return;
          if (wasOnline) listener();
          wasOnline = true;
        });
      },
      onReceive: (listener) => {
        const handler = (request: { data: Record<string, unknown> }) => listener(request.data);
        this.connection.on('receive', handler);
        return () => this.connection.removeListener('receive', handler);
      },
      userId: () => this.user?.id,
    };
    return this.commentsLink;
  }

  /** The history of a document, through the server's @tandem/history (the document need not be open). */
  history(collection: string, id: string): DocHistory {
    return new DocHistory(collection, id, (method, params, signal) =>
      this.call({ t: 'history', method, args: [params] }, signal),
    );
  }

  /** Send one Tandem request and wait for its result (typed errors reject). */
  call<R>(message: TandemRequest, signal?: AbortSignal): Promise<R> {
    return this.request<R>(
      { ...message, a: TANDEM_ACTION, rid: this.nextRid++ } as TandemMessage & {
        rid: number;
      },
      signal,
    );
  }

  /** Replace the credentials of the live connection (e.g. before a token expires). */
  refreshAuth(token: string, signal?: AbortSignal): Promise<UserInfo> {
    return this.request<UserInfo>({ a: TANDEM_ACTION, t: 'auth', rid: this.nextRid++, token }, signal);
  }

  /** Drop the socket and reconnect now (pending ops are resent; mostly for tests and network changes). */
  reconnect(): void {
    this.socket.reconnect();
  }

  close(): Promise<void> {
    clearInterval(this.pinger);
    clearTimeout(this.refreshTimer);
    this.socket.close();
    for (const { reject } of this.requests.values())
      reject(new TandemError(ErrorCode.SHUTTING_DOWN, 'client closed'));
    this.requests.clear();
    return Promise.resolve();
  }

  private request<R>(message: TandemMessage & { rid: number }, signal?: AbortSignal): Promise<R> {
    // A call made while the socket is still connecting waits for that attempt, not for ever.
    if (this.currentStatus === 'connecting') {
      return new Promise<void>((resolve) => {
        const stop = this.on('status', () => {
          stop();
          resolve();
        });
      }).then(() => this.request<R>(message, signal));
    }
    return new Promise<R>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      if (!this.socket.sendTandem(message)) {
        reject(new TandemError(ErrorCode.OFFLINE, 'not connected: the call was not sent'));
        return;
      }
      this.requests.set(message.rid, { resolve: resolve as (v: unknown) => void, reject });
      signal?.addEventListener('abort', () => {
        this.requests.delete(message.rid);
        reject(signal.reason);
      });
    });
  }

  /** Calls in flight when the socket closed: they may or may not have taken effect. */
  private abandonRequests(): void {
    const error = new TandemError(
      ErrorCode.OFFLINE,
      'the connection closed before the answer came: the call may or may not have taken effect',
      { reason: 'closed' },
    );
    for (const { reject } of this.requests.values()) reject(error);
    this.requests.clear();
  }

  /**
   * The session is over (revoked or expired): reconnecting would only be refused, and must not
   * silently resurrect a revoked user. Stop the socket and say so.
   */
  private end(error: TandemError): void {
    if (this.endedBy !== undefined) return;
    this.endedBy = error;
    clearInterval(this.pinger);
    clearTimeout(this.refreshTimer);
    this.socket.close();
    if (this.currentStatus !== 'ended') {
      this.currentStatus = 'ended';
      this.emit('status', 'ended');
    }
  }

  /** Refresh the credentials on the live socket before `expiresAt` (needs `getToken`). */
  private scheduleRefresh(expiresAt: number | undefined): void {
    clearTimeout(this.refreshTimer);
    const getToken = this.options.getToken;
    if (expiresAt === undefined || getToken === undefined || this.endedBy !== undefined) return;
    const remaining = expiresAt - Date.now();
    const delay = Math.max(0, remaining - Math.min(this.options.refreshBeforeMs ?? 30_000, remaining / 2));
    this.refreshTimer = setTimeout(() => {
      Promise.resolve()
        .then(() => getToken())
        .then((token) => this.refreshAuth(token))
        .then(
          (user) => this.scheduleRefresh((user as UserInfo & { expiresAt?: number }).expiresAt),
          // A refused refresh closes the socket; the reconnect fetches a fresh token anyway.
          (error: unknown) => this.emit('error', toTandemError(error)),
        );
    }, delay);
    (this.refreshTimer as { unref?: () => void }).unref?.();
  }

  private unsyncedChanged(): void {
    const count = this.unsyncedCount;
    if (count === this.lastUnsynced) return;
    this.lastUnsynced = count;
    this.emit('unsynced', count);
  }

  private onTandemMessage(message: TandemMessage): void {
    switch (message.t) {
      case 'hello':
        this.user = message.user;
        this.scheduleRefresh(message.expiresAt);
        return;
      case 'pong':
        this.rtt = Date.now() - message.ts;
        return;
      case 'error': {
        const error = TandemError.fromJSON(message.error);
        if (error.code === ErrorCode.SESSION_ENDED) this.end(error);
        this.emit('error', error);
        return;
      }
      case 'conflict':
        this.docs.get(`${message.report.collection}/${message.report.docId}`)?.reportConflict(message.report);
        this.emit('conflict', message.report);
        return;
      case 'push':
        if (typeof message.ext === 'string') this.emit('push', message.ext, message.data);
        return;
      case 'result': {
        const pending = this.requests.get(message.rid);
        if (pending === undefined) return;
        this.requests.delete(message.rid);
        if (message.error !== undefined) pending.reject(TandemError.fromJSON(message.error));
        else pending.resolve(message.value);
        return;
      }
      default:
        return;
    }
  }
}

/** Connect to a Tandem endpoint, e.g. `connect('ws://localhost:3000/tandem', { token })`. */
export function connect(url: string | readonly string[], options?: ConnectOptions): TandemClient {
  return new TandemClient(url, options);
}

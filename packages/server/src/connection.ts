/**
 * One socket's session: decodes frames, routes Tandem's own messages away from ShareDB, feeds the
 * rest to this socket's ShareDB agent, and writes what the agent owes the socket — coalesced into
 * one frame per tick where the codec allows batching. Limits (message size, buffered bytes,
 * heartbeat) are enforced here; bad input gets a typed error and is counted, never a crash.
 */
import { EventEmitter } from 'node:events';
import {
  type Codec,
  ErrorCode,
  type Frame,
  isTandemError,
  isTandemMessage,
  TANDEM_ACTION,
  TandemError,
  type TandemMessage,
} from '@tandem/protocol';
import { encodeShared, type FlushScheduler, type PublishedOp, sharedOpFrame } from './fanout';
import { fastListeners } from './fast-map';
import type { Principal, RequestInfo } from './hooks';
import { type Metrics, observeFanout } from './metrics';
import type { ResolvedOptions } from './options';
import type { Throttle } from './security/rate-limit';
import { toReplyError } from './sharedb-errors';
import type { SocketListener, TandemSocket } from './socket';

/** Actions a ShareDB client may send; anything else is answered by us, not by ShareDB. */
const SHAREDB_ACTIONS = new Set([
  'hs',
  'qf',
  'qs',
  'qu',
  'bf',
  'bs',
  'bu',
  'f',
  's',
  'u',
  'op',
  'nf',
  'nt',
  'pp',
  'p',
  'ps',
  'pu',
  'pr',
]);

/**
 * Messages buffered while authentication or storage is pending. A client legitimately sends a
 * handshake and a burst of subscriptions; anything beyond this is a flood that must not grow memory.
 */
const MAX_EARLY_MESSAGES = 256;

/** Field of a ShareDB error reply that carries the TandemError's details (stock clients ignore it). */
export const ERROR_DETAILS_FIELD = 'ed';

interface ReplyingAgent {
  stream: AgentStream;
  _reply(request: Record<string, unknown>, error: unknown, message?: unknown): void;
}

function replyWithDetails(
  this: ReplyingAgent,
  request: Record<string, unknown>,
  shareError: unknown,
  message?: unknown,
): void {
  const error = toReplyError(shareError);
  if (isTandemError(error)) {
    if (error.details !== undefined) request[ERROR_DETAILS_FIELD] = error.details;
    this.stream.connection.requestFailed(error, request);
  }
  // ShareDB's own reply, from the Agent prototype (the instance's is this function).
  Object.getPrototypeOf(this)._reply.call(this, request, error, message);
}

/**
 * ShareDB replies to a failed request with `{ code, message }` only; the details a client needs
 * (the failing schema path, a limit, `retryAfterMs`) ride next to it in `ed`. A shared function,
 * not a closure per agent (idle memory per connection).
 */
export function carryErrorDetails(agent: ReplyingAgent): void {
  agent._reply = replyWithDetails;
}

/** WebSocket close codes used by Tandem (docs/protocol.md). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tryAgainLater: 1013,
} as const;

/** The object stream a ShareDB agent reads from and writes to (what `backend.listen` takes). */
export class AgentStream extends EventEmitter {
  /** Not a server-internal stream: counts as a remote agent in ShareDB's statistics. */
  readonly isServer = false;
  constructor(readonly connection: Connection) {
    super();
    fastListeners(this);
  }
  write(message: Record<string, unknown>): boolean {
    this.connection.deliver(message);
    return true;
  }
  /** The agent closes its stream when it gives up on the client. */
  end(): void {
    this.connection.close(CloseCode.policy, 'closed by server');
  }
}

export interface ConnectionEnvironment {
  options: ResolvedOptions;
  metrics: Metrics;
  scheduler: FlushScheduler;
  /** Tandem-namespace messages from the client. */
  onTandemMessage(connection: Connection, message: TandemMessage): void;
  onClosed(connection: Connection, code: number): void;
  /** Every typed error this socket is sent (security events are audited from here). */
  onError(connection: Connection, error: TandemError): void;
  /** This socket's rate limiter, once its principal is known (undefined: unlimited). */
  throttleFor(connection: Connection): Throttle | undefined;
}

export class Connection implements SocketListener {
  readonly stream: AgentStream = new AgentStream(this);
  /** Heartbeat round-trip time in ms; undefined until the first pong. */
  rtt: number | undefined;
  /** The stored session this socket belongs to (principals with a `sessionId` only). */
  session: { id: string; expiresAt: number } | undefined;
  /** The ShareDB agent serving this socket, once started. */
  agent: { custom: Record<string, unknown> } | undefined;
  private outbox: Frame[] = [];
  private marked = false;
  private started = false;
  /** Messages that arrived before `start` (undefined once started). */
  private early: unknown[] | undefined = [];
  private throttle: Throttle | undefined;
  private closed = false;
  private awaitingPong = false;
  private pingSentAt = 0;

  constructor(
    readonly id: string,
    readonly socket: TandemSocket,
    readonly codec: Codec,
    readonly request: RequestInfo | undefined,
    public principal: Principal | undefined,
    private readonly env: ConnectionEnvironment,
  ) {
    socket.listen(this);
  }

  socketPong(): void {
    this.awaitingPong = false;
    this.rtt = Date.now() - this.pingSentAt;
  }

  /** Replace the principal (auth refresh) here and on the agent, where middleware reads it. */
  setPrincipal(principal: Principal): void {
    this.principal = principal;
    if (this.agent !== undefined) this.agent.custom.principal = principal;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether the peer speaks Tandem (negotiated a Tandem subprotocol) and so understands our namespace. */
  get isTandemClient(): boolean {
    return this.codec.subprotocol !== '';
  }

  /** Begin feeding ShareDB: replays messages that arrived while authentication or storage was pending. */
  start(): void {
    this.started = true;
    this.throttle = this.env.throttleFor(this);
    const early = this.early ?? [];
    this.early = undefined;
    for (const message of early) this.forward(message as Record<string, unknown>);
  }

  /** Through the rate limiter (which may hold it, in order), then to ShareDB or Tandem's handler. */
  private forward(message: Record<string, unknown>): void {
    if (this.throttle !== undefined) this.throttle.push(message);
    else this.pass(message);
  }

  /** Hand a message past the limiter. */
  pass(message: Record<string, unknown>): void {
    if (this.closed) return;
    if (message.a === TANDEM_ACTION) this.env.onTandemMessage(this, message as unknown as TandemMessage);
    else this.stream.emit('data', message);
  }

  /** A frame from the client. */
  socketMessage(frame: Frame): void {
    if (this.closed) return;
    const size = typeof frame === 'string' ? frame.length : frame.byteLength;
    this.env.metrics.bytesIn += size;
    // String length counts UTF-16 units, at most the byte length of its UTF-8 form divided by ~1: a
    // conservative-enough bound that avoids encoding the frame just to measure it.
    if (size > this.env.options.maxMessageBytes) {
      this.reportError(
        new TandemError(ErrorCode.TOO_LARGE, 'message over the size limit', {
          what: 'message',
          limit: this.env.options.maxMessageBytes,
          actual: size,
        }),
      );
      return;
    }
    let decoded: unknown;
    try {
      decoded = this.codec.decode(frame);
    } catch (error) {
      this.reportError(TandemError.from(error, ErrorCode.INVALID_MESSAGE));
      return;
    }
    if (Array.isArray(decoded) && this.codec.batching) {
      for (const message of decoded) this.dispatch(message);
    } else {
      this.dispatch(decoded);
    }
  }

  private dispatch(message: unknown): void {
    this.env.metrics.messagesIn++;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.reportError(
        new TandemError(ErrorCode.INVALID_MESSAGE, 'a message must be an object', { reason: 'shape' }),
      );
      return;
    }
    const action = (message as { a?: unknown }).a;
    if (action === TANDEM_ACTION) {
      // History calls are metered; other Tandem messages (ping, auth, locks) are cheap and answered now.
      if (isTandemMessage(message) && message.t === 'history' && this.started) this.forward(message as never);
      else if (isTandemMessage(message)) this.env.onTandemMessage(this, message);
      else
        this.reportError(
          new TandemError(ErrorCode.INVALID_MESSAGE, 'Tandem message without a type', { reason: 'shape' }),
        );
      return;
    }
    if (typeof action !== 'string' || !SHAREDB_ACTIONS.has(action)) {
      this.reportError(
        new TandemError(ErrorCode.INVALID_MESSAGE, 'unknown message action', {
          reason: 'action',
          action: String(action),
        }),
      );
      return;
    }
    if (this.started) this.forward(message as Record<string, unknown>);
    else if (this.early !== undefined && this.early.length < MAX_EARLY_MESSAGES) this.early.push(message);
    else
      this.fail(
        new TandemError(ErrorCode.TOO_LARGE, 'too many messages before the session started', {
          what: 'early messages',
          limit: MAX_EARLY_MESSAGES,
        }),
        CloseCode.policy,
      );
  }

  /** A message from this socket's ShareDB agent. */
  deliver(message: Record<string, unknown>): void {
    if (this.closed) return;
    if (message.a === 'op') this.throttle?.replied(message);
    this.enqueue(encodeShared(this.codec, message, this.env.metrics));
  }

  /** A published op for this socket's subscriptions (the fast path, see fanout.ts). */
  deliverOp(collection: string, id: string, op: PublishedOp): void {
    if (this.closed) return;
    observeFanout(this.env.metrics, collection, id, op.v);
    this.enqueue(sharedOpFrame(this.codec, collection, id, op, this.env.metrics));
  }

  /** One of Tandem's own messages. Plain ShareDB clients only get errors (they log and ignore them). */
  sendTandem(message: TandemMessage): void {
    if (this.closed) return;
    if (!this.isTandemClient && message.t !== 'error') return;
    this.enqueue(this.codec.encode(message));
  }

  /** A request of this socket's that ShareDB answered with an error (see carryErrorDetails). */
  requestFailed(error: TandemError, request: Record<string, unknown>): void {
    const metrics = this.env.metrics;
    if (request.a === 'op') metrics.opsRejected[error.code] = (metrics.opsRejected[error.code] ?? 0) + 1;
    this.env.onError(this, error);
  }

  reportError(error: TandemError): void {
    this.env.metrics.countError(error.code);
    this.env.onError(this, error);
    this.env.options.logger.debug('client error', {
      connection: this.id,
      code: error.code,
      message: error.message,
    });
    this.sendTandem({ a: TANDEM_ACTION, t: 'error', error: error.toJSON() });
  }

  private enqueue(frame: Frame): void {
    this.outbox.push(frame);
    if (!this.marked) {
      this.marked = true;
      this.env.scheduler.mark(this);
    }
    this.env.scheduler.queued();
  }

  /** Write everything owed: one frame when the codec batches, else one frame per message. */
  flush(): void {
    this.marked = false;
    const outbox = this.outbox;
    if (this.closed || outbox.length === 0) {
      outbox.length = 0;
      return;
    }
    const metrics = this.env.metrics;
    if (outbox.length === 1 || !this.codec.batching) {
      for (let i = 0; i < outbox.length; i++) this.write(outbox[i]);
    } else {
      this.write(this.env.scheduler.batches.batch(this.codec, outbox, metrics));
    }
    metrics.framesOut += this.codec.batching ? 1 : outbox.length;
    outbox.length = 0;
    const buffered = this.socket.bufferedAmount;
    if (buffered > this.env.options.maxBufferedBytes) {
      this.fail(
        new TandemError(ErrorCode.BACKPRESSURE, 'receiver too slow; closing', {
          bufferedBytes: buffered,
          limit: this.env.options.maxBufferedBytes,
        }),
        CloseCode.tryAgainLater,
      );
    }
  }

  private write(frame: Frame): void {
    this.env.metrics.bytesOut += typeof frame === 'string' ? frame.length : frame.byteLength;
    this.socket.send(frame);
  }

  /** Send a typed error now, then close. A peer that never completes the close is terminated. */
  fail(error: TandemError, code: number): void {
    if (this.closed) return;
    this.env.metrics.countError(error.code);
    this.env.onError(this, error);
    // Bypass the outbox: the error must go before the close frame.
    if (this.isTandemClient || error.code !== ErrorCode.SHUTTING_DOWN) {
      this.write(this.codec.encode({ a: TANDEM_ACTION, t: 'error', error: error.toJSON() }));
    }
    this.close(code, error.code);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.flush();
    this.socket.close(code, reason);
    // A peer that neither reads nor answers the close handshake must not hold memory forever.
    setTimeout(() => {
      if (!this.closed) this.socket.terminate();
    }, 2_000).unref();
  }

  /** Called every heartbeat interval: a ping still unanswered from the last interval means dead. */
  heartbeat(now: number): void {
    if (this.closed || this.socket.ping === undefined) return;
    if (this.awaitingPong) {
      this.env.options.logger.info('heartbeat missed; terminating', { connection: this.id });
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.pingSentAt = now;
    this.socket.ping();
  }

  socketClosed(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.throttle?.stop();
    this.outbox.length = 0;
    this.stream.emit('close');
    this.env.onClosed(this, code);
  }
}

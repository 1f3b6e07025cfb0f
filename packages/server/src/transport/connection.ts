/**
 * One socket's session: decodes frames, routes Tandem's own messages away from ShareDB, feeds the
 * rest to this socket's ShareDB agent, and writes what the agent owes the socket — coalesced into
 * few frames where the codec allows batching. Every frame is checked here before anything else
 * sees it (size in bytes, decoding, JSON values and depth, each message's shape), and whatever goes
 * wrong while serving the socket (a reply that cannot be encoded included) costs this socket at
 * most: a typed error, counted, never a crash.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  type Codec,
  ErrorCode,
  type Frame,
  isTandemMessage,
  TANDEM_ACTION,
  TandemError,
  type TandemMessage,
} from '@tandem/protocol';
import type { MessageGate } from '../extensions/extension';
import type { Principal, RequestInfo } from '../hooks';
import { type Metrics, observeFanout } from '../metrics';
import type { ResolvedOptions } from '../options';
import { TokenBucket } from '../security/rate-limit';
import { ERROR_DETAILS_FIELD } from '../sharedb/agent';
import { fastListeners } from '../sharedb/fast-map';
import type { FlushScheduler } from './flush-scheduler';
import { encodeShared, type PublishedOp, sharedOpFrame, wireSrc } from './frames';
import { checkJsonValue } from './json-value';
import { SHAREDB_ACTIONS, type ShapeLimits, shapeMessage } from './shapes';
import type { SocketListener, TandemSocket } from './socket';

/**
 * Messages buffered while authentication or storage is pending. A client legitimately sends a
 * handshake and a burst of subscriptions; anything beyond this is a flood that must not grow memory.
 */
const MAX_EARLY_MESSAGES = 256;

/**
 * Messages one batch frame may hold. Clients send one message per frame (only the server batches);
 * a batch is accepted for symmetry, and bounded so one frame cannot queue unbounded work.
 */
const MAX_BATCH_MESSAGES = 256;

/** A client is asked to resend its presence at most this often per channel. */
const PRESENCE_REQUEST_INTERVAL_MS = 1_000;

/** Documents one message may name (bulk subscribe, query resubscribe); the limiter charges each. */
const SHAPE_LIMITS: ShapeLimits = { maxBulkIds: 1_000 };

/**
 * Codes of refusals by the engine (ShareDB's replies) that are charged to the sender's fault
 * budget: a socket sending nothing but bad requests is closed instead of being answered forever.
 * Refusals honest clients meet while working (locks, conflicts, schemas, document and op size
 * limits) are not charged; every refusal at the transport (undecodable, malformed, too large or too
 * deep messages) is.
 */
const ENGINE_FAULTS: ReadonlySet<string> = new Set([
  ErrorCode.INVALID_MESSAGE,
  ErrorCode.INVALID_OP,
  ErrorCode.FORBIDDEN,
  ErrorCode.NOT_FOUND,
]);

/** A short string or a safe integer: a field that identifies a request and is safe to echo. */
function identifier(value: unknown): boolean {
  return (typeof value === 'string' && value.length <= 1_024) || Number.isSafeInteger(value);
}

/**
 * The reply a refused request's sender waits for, when it can be told which request it answers:
 * ShareDB's reply shape (the request's identifying fields and `error`, the details in `ed`), or a
 * Tandem call's `result`. Only identifying fields are echoed, never the refused payload.
 */
function refusalOf(
  request: unknown,
  error: TandemError,
  tandemClient: boolean,
): Record<string, unknown> | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return undefined;
  const m = request as Record<string, unknown>;
  // Plain ShareDB clients are sent no Tandem results: they get the `error` message instead.
  if (m.a === TANDEM_ACTION)
    return tandemClient && Number.isSafeInteger(m.rid)
      ? { a: TANDEM_ACTION, t: 'result', rid: m.rid, error: error.toJSON() }
      : undefined;
  if (typeof m.a !== 'string' || !SHAREDB_ACTIONS.has(m.a)) return undefined;
  const reply: Record<string, unknown> = { a: m.a };
  for (const key of ['c', 'd', 'ch', 'id', 'seq', 'src']) if (identifier(m[key])) reply[key] = m[key];
  // A bulk request's documents: ShareDB's client hands the error to each of them.
  if (Array.isArray(m.b) && m.b.every((id) => typeof id === 'string')) reply.b = m.b;
  else if (typeof m.b === 'object' && m.b !== null) reply.b = Object.keys(m.b);
  reply.error = { code: error.code, message: error.message };
  if (error.details !== undefined) reply[ERROR_DETAILS_FIELD] = error.details;
  return reply;
}

/**
 * A submit's reply: its ack (no op of its own) or its refusal (ShareDB and the transport send the
 * request back with `error`). A ShareDB client sends nothing more until it arrives, so the socket
 * is written before the rest of the room (FlushScheduler.markFirst). Ops for subscribers always
 * carry `op`, `create` or `del`.
 */
function isSubmitReply(message: Record<string, unknown>): boolean {
  return (
    message.a === 'op' &&
    (message.error !== undefined ||
      (!('op' in message) && message.create === undefined && message.del === undefined))
  );
}

/** WebSocket close codes used by Tandem (docs/protocol.md). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  internalError: 1011,
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
  /**
   * This socket's message gates (extensions' `gate`: rate limits, …), first to last, once it is
   * served (undefined: none, and messages go straight on).
   */
  gatesFor(connection: Connection): MessageGate[] | undefined;
  /** The socket closed: its gates let go of what they hold. */
  stopGates(gates: readonly MessageGate[]): void;
}

export class Connection implements SocketListener {
  readonly stream: AgentStream = new AgentStream(this);
  /** Heartbeat round-trip time in ms; undefined until the first pong. */
  rtt: number | undefined;
  /** The ShareDB agent serving this socket, once started. */
  agent: { custom: Record<string, unknown> } | undefined;
  private outbox: Frame[] = [];
  private marked = false;
  private started = false;
  /** Messages that arrived before `start` (undefined once started). */
  private early: Record<string, unknown>[] | undefined = [];
  /** The first gate, and all of them (`answered` and `stop` reach each). */
  private gate: MessageGate | undefined;
  private gates: MessageGate[] | undefined;
  private closed = false;
  /** close() was called (the socket may not have closed yet). */
  private ending = false;
  private awaitingPong = false;
  private pingSentAt = 0;
  /** When each presence channel last asked this client for its presence (see presenceRequestDue). */
  private presenceAsked: Map<string, number> | undefined;
  /** Client faults this socket may still commit (undefined: rate limits are off). */
  private readonly faults: TokenBucket | undefined;

  constructor(
    readonly id: string,
    readonly socket: TandemSocket,
    readonly codec: Codec,
    readonly request: RequestInfo | undefined,
    public principal: Principal | undefined,
    private readonly env: ConnectionEnvironment,
  ) {
    const budget = env.options.rateLimits?.faults;
    this.faults = budget === undefined ? undefined : new TokenBucket(budget, Date.now());
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

  /** Closed, or closing: told why and sent its close frame. */
  get isEnding(): boolean {
    return this.ending || this.closed;
  }

  /** Whether the peer speaks Tandem (negotiated a Tandem subprotocol) and so understands our namespace. */
  get isTandemClient(): boolean {
    return this.codec.subprotocol !== '';
  }

  /** Begin feeding ShareDB: replays messages that arrived while authentication or storage was pending. */
  start(): void {
    const gates = this.env.gatesFor(this);
    this.gates = gates;
    this.gate = gates?.[0];
    this.started = true;
    const early = this.early ?? [];
    this.early = undefined;
    for (const message of early) this.forward(message);
  }

  /** Through the gates (which may hold it, in order), then to ShareDB or Tandem's handler. */
  private forward(message: Record<string, unknown>): void {
    const gate = this.gate;
    if (gate !== undefined) gate.push(message);
    else this.pass(message);
  }

  /** Hand a message past the gates. */
  pass(message: Record<string, unknown>): void {
    if (this.closed) return;
    try {
      if (message.a === TANDEM_ACTION) this.env.onTandemMessage(this, message as unknown as TandemMessage);
      else this.stream.emit('data', message);
    } catch (error) {
      this.internalError(error, 'handling a message');
    }
  }

  /** A frame from the client. Whatever it holds costs this socket at most, never the process. */
  socketMessage(frame: Frame): void {
    if (this.closed) return;
    try {
      this.receive(frame);
    } catch (error) {
      this.internalError(error, 'receiving a frame');
    }
  }

  /** Size, decoding, JSON values and depth, then each message's shape: nothing else sees it before. */
  private receive(frame: Frame): void {
    // Bytes, not UTF-16 units: a frame of 3-byte characters is three times its string length.
    const size = typeof frame === 'string' ? Buffer.byteLength(frame, 'utf8') : frame.byteLength;
    this.env.metrics.bytesIn += size;
    const maxBytes = this.env.options.maxMessageBytes;
    let decoded: unknown;
    try {
      decoded = this.codec.decode(frame);
    } catch (error) {
      this.fault(TandemError.from(error, ErrorCode.INVALID_MESSAGE));
      return;
    }
    if (size > maxBytes) {
      // Decoded anyway (ws bounds a frame at maxPayloadBytes) so the request can be answered.
      this.fault(
        new TandemError(ErrorCode.TOO_LARGE, 'message over the size limit', {
          what: 'message',
          limit: maxBytes,
          actual: size,
        }),
        Array.isArray(decoded) ? undefined : decoded,
      );
      return;
    }
    if (!Array.isArray(decoded) || !this.codec.batching) {
      this.dispatch(decoded);
      return;
    }
    if (decoded.length > MAX_BATCH_MESSAGES) {
      this.fault(
        new TandemError(ErrorCode.TOO_LARGE, 'too many messages in one frame', {
          what: 'batch',
          limit: MAX_BATCH_MESSAGES,
          actual: decoded.length,
        }),
      );
      return;
    }
    for (const message of decoded) if (!this.closed) this.dispatch(message);
  }

  private dispatch(message: unknown): void {
    this.env.metrics.messagesIn++;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.fault(
        new TandemError(ErrorCode.INVALID_MESSAGE, 'a message must be an object', { reason: 'shape' }),
      );
      return;
    }
    const unsafe = checkJsonValue(message, this.env.options.validation.maxMessageDepth);
    if (unsafe !== undefined) {
      this.fault(unsafe, message);
      return;
    }
    const action = (message as { a?: unknown }).a;
    let accepted: Record<string, unknown> | TandemError;
    if (action === TANDEM_ACTION) {
      accepted = isTandemMessage(message)
        ? (message as unknown as Record<string, unknown>)
        : new TandemError(ErrorCode.INVALID_MESSAGE, 'Tandem message without a type', { reason: 'shape' });
    } else if (typeof action === 'string' && SHAREDB_ACTIONS.has(action)) {
      accepted = shapeMessage(message as Record<string, unknown>, SHAPE_LIMITS);
    } else {
      accepted = new TandemError(ErrorCode.INVALID_MESSAGE, 'unknown message action', {
        reason: 'action',
        action: String(action).slice(0, 64),
      });
    }
    if (accepted instanceof TandemError) {
      this.fault(accepted, message);
      return;
    }
    if (this.started) this.forward(accepted);
    else if (this.early !== undefined && this.early.length < MAX_EARLY_MESSAGES) this.early.push(accepted);
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
    if (message.a === 'op') {
      if (this.gates !== undefined) this.answered(this.gates, message);
    } else if (message.a === 'pr' && message.error === undefined && !this.presenceRequestDue(message)) return;
    this.sendShareDb(message);
  }

  private answered(gates: readonly MessageGate[], message: Record<string, unknown>): void {
    try {
      for (let i = 0; i < gates.length; i++) gates[i].answered?.(message);
    } catch (error) {
      this.internalError(error, 'in a message gate');
    }
  }

  /** A published op for this socket's subscriptions (the fast path, see sharedb/agent.ts). */
  deliverOp(collection: string, id: string, op: PublishedOp): void {
    if (this.closed) return;
    observeFanout(this.env.metrics, collection, id, op.v);
    let frame: Frame;
    try {
      frame = sharedOpFrame(this.codec, collection, id, op, this.env.metrics);
    } catch (error) {
      this.internalError(error, 'encoding an op');
      return;
    }
    this.enqueue(frame);
  }

  /**
   * A presence request asks this client to send its presence again (someone joined the channel).
   * Any reader of a document can ask, so each client is asked at most once per interval and
   * channel; a request within the interval is delivered when it ends (one at most). Otherwise one
   * reader asking in a loop would make every other client spend its presence rate limit.
   */
  private presenceRequestDue(message: Record<string, unknown>): boolean {
    const channel = message.ch as string;
    const now = Date.now();
    if (this.presenceAsked === undefined) this.presenceAsked = new Map();
    const asked = this.presenceAsked;
    const last = asked.get(channel);
    if (last === undefined || now - last >= PRESENCE_REQUEST_INTERVAL_MS) {
      if (asked.size >= 64)
        for (const [ch, at] of asked) if (now - at >= PRESENCE_REQUEST_INTERVAL_MS) asked.delete(ch);
      asked.set(channel, now);
      return true;
    }
    if (last > now) return false; // one is already scheduled
    const due = last + PRESENCE_REQUEST_INTERVAL_MS;
    asked.set(channel, due);
    setTimeout(() => {
      if (!this.closed) this.sendShareDb(message);
    }, due - now).unref();
    return false;
  }

  private sendShareDb(message: Record<string, unknown>): void {
    let frame: Frame;
    try {
      const agent = this.agent as { src?: string | null; clientId?: string } | undefined;
      const own = agent?.src ?? agent?.clientId;
      frame = encodeShared(this.codec, message, this.env.metrics, wireSrc(message, own));
    } catch (error) {
      this.internalError(error, 'encoding a reply');
      return;
    }
    this.enqueue(frame, isSubmitReply(message));
  }

  /** One of Tandem's own messages. Plain ShareDB clients only get errors (they log and ignore them). */
  sendTandem(message: TandemMessage): void {
    if (this.closed) return;
    if (!this.isTandemClient && message.t !== 'error') return;
    let frame: Frame;
    try {
      frame = this.codec.encode(message);
    } catch (error) {
      this.internalError(error, 'encoding a Tandem message');
      return;
    }
    this.enqueue(frame);
  }

  /**
   * The error as the client may see it: INTERNAL and STORAGE_UNAVAILABLE lose their message and
   * details (database text, stack-shaped messages) for a generic one and an id; the cause is logged
   * under that id.
   */
  wire(error: TandemError): TandemError {
    if (error.code !== ErrorCode.INTERNAL && error.code !== ErrorCode.STORAGE_UNAVAILABLE) return error;
    if (typeof error.details?.errorId === 'string') return error;
    const errorId = randomUUID();
    this.env.options.logger.error('request failed', {
      connection: this.id,
      errorId,
      code: error.code,
      message: error.message,
      cause: error.cause === undefined ? undefined : String(error.cause),
    });
    const retryAfterMs = error.details?.retryAfterMs;
    return new TandemError(
      error.code,
      error.code === ErrorCode.INTERNAL ? 'internal error' : 'storage unavailable; try again',
      typeof retryAfterMs === 'number' ? { errorId, retryAfterMs } : { errorId },
    );
  }

  /** A request of this socket's that ShareDB answered with an error (see sharedb/agent.ts carryErrorDetails). */
  requestFailed(error: TandemError, request: Record<string, unknown>): void {
    const metrics = this.env.metrics;
    if (request.a === 'op') metrics.opsRejected[error.code] = (metrics.opsRejected[error.code] ?? 0) + 1;
    this.env.onError(this, error);
    if (ENGINE_FAULTS.has(error.code)) this.charge();
  }

  /** Count and audit an error this socket is about to be told; returns it as `wire` makes it. */
  private noted(error: TandemError): TandemError {
    const sent = this.wire(error);
    this.env.metrics.countError(sent.code);
    this.env.onError(this, sent);
    this.env.options.logger.debug('client error', {
      connection: this.id,
      code: sent.code,
      message: sent.message,
    });
    return sent;
  }

  /** Send a typed error (as `wire` makes it) to the client, counted; returns what was sent. */
  reportError(error: TandemError): TandemError {
    const sent = this.noted(error);
    this.sendTandem({ a: TANDEM_ACTION, t: 'error', error: sent.toJSON() });
    return sent;
  }

  /**
   * A Tandem call failed: its `result` carries the error, and that is the only report (a Tandem
   * client rejects the call's promise; it does not also emit an `error`). A plain ShareDB client,
   * which is sent no results, gets an `error` message.
   */
  callFailed(rid: number, error: TandemError): void {
    if (!this.isTandemClient) {
      this.reportError(error);
      return;
    }
    const sent = this.noted(error);
    this.sendTandem({ a: TANDEM_ACTION, t: 'result', rid, error: sent.toJSON() });
  }

  /**
   * A bad message of the client's own making: answered, and charged to its fault budget. A request
   * is answered the way its sender waits for (ShareDB's reply with `error`, a call's `result`), so a
   * ShareDB client rolls back instead of waiting forever; anything else gets an `error` message.
   */
  fault(error: TandemError, request?: unknown): void {
    const sent = this.noted(error);
    const reply = request === undefined ? undefined : refusalOf(request, sent, this.isTandemClient);
    if (reply === undefined) this.sendTandem({ a: TANDEM_ACTION, t: 'error', error: sent.toJSON() });
    else if (reply.a === TANDEM_ACTION) this.sendTandem(reply as unknown as TandemMessage);
    else this.sendShareDb(reply);
    this.charge();
  }

  /** A client that keeps sending bad messages is closed rather than answered forever. */
  private charge(): void {
    const faults = this.faults;
    if (faults === undefined || this.closed) return;
    if (faults.wait(Date.now()) === 0) {
      faults.take();
      return;
    }
    this.fail(
      new TandemError(ErrorCode.RATE_LIMITED, 'too many bad messages; closing', {
        bucket: 'faults',
        retryAfterMs: 1_000,
      }),
      CloseCode.policy,
    );
  }

  /** Something Tandem did not expect while serving this socket: logged, and this socket (only) ends. */
  /** A bug while serving this socket (ours or an extension's): logged with an id, the socket closed with 1011. */
  internalError(error: unknown, doing: string): void {
    const errorId = randomUUID();
    this.env.options.logger.error(`internal error ${doing}`, {
      connection: this.id,
      errorId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    this.fail(new TandemError(ErrorCode.INTERNAL, 'internal error', { errorId }), CloseCode.internalError);
  }

  /** `awaited`: a reply the client waits on before it sends more (see isSubmitReply). */
  private enqueue(frame: Frame, awaited = false): void {
    this.outbox.push(frame);
    if (awaited) {
      this.marked = true;
      this.env.scheduler.markFirst(this);
    } else if (!this.marked) {
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
    const sent = this.wire(error);
    this.env.metrics.countError(sent.code);
    this.env.onError(this, sent);
    // What was owed goes first, then the error, then the close frame.
    this.flush();
    if (this.isTandemClient || sent.code !== ErrorCode.SHUTTING_DOWN) {
      this.write(this.codec.encode({ a: TANDEM_ACTION, t: 'error', error: sent.toJSON() }));
    }
    this.close(code, sent.code);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.ending = true;
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
    if (this.gates !== undefined) this.env.stopGates(this.gates);
    this.outbox.length = 0;
    this.stream.emit('close');
    this.env.onClosed(this, code);
  }
}

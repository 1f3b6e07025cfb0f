/**
 * Security events as structured records: auth failures, refused origins, forbidden requests, rate
 * limiting, invalid input, ended sessions, revocations and violations. Each is counted per kind
 * (`tandem.metrics().security`), written to a pino logger when one is given, and handed to a
 * pluggable sink (a SIEM, a database). A failing sink never affects the request.
 */
import { ErrorCode, type ErrorDetails, type TandemError } from '@tandem/protocol';
import type { Logger } from '../logger';

export type SecurityEventKind =
  | 'auth_failed'
  | 'origin_refused'
  | 'forbidden'
  | 'rate_limited'
  | 'violation'
  | 'invalid_input'
  | 'session_ended'
  | 'session_revoked';

export interface SecurityEvent {
  kind: SecurityEventKind;
  /** ms since the epoch */
  at: number;
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
  userId?: string;
  connectionId?: string;
  remoteAddress?: string;
}

/** A structured logger such as pino: an object to log and a message. */
export interface AuditLogger {
  warn(record: object, message: string): void;
}

export interface AuditOptions {
  /**
   * Where records go as structured JSON: `logger.warn(event, 'security event')`, the call shape of
   * pino (a pino logger fits as is). @default none
   */
  logger?: AuditLogger;
  /** Called with every event. @default none */
  sink?: (event: SecurityEvent) => void | Promise<void>;
}

/** The kind a client-facing error counts as, or undefined when it is not a security event. */
export function kindOf(error: TandemError): SecurityEventKind | undefined {
  switch (error.code) {
    case ErrorCode.UNAUTHORIZED:
      return 'auth_failed';
    case ErrorCode.FORBIDDEN:
      return error.details?.reason === 'origin' ? 'origin_refused' : 'forbidden';
    case ErrorCode.RATE_LIMITED:
      return error.details?.bucket === 'queue' ? 'violation' : 'rate_limited';
    case ErrorCode.TOO_LARGE:
    case ErrorCode.INVALID_MESSAGE:
    case ErrorCode.INVALID_OP:
    case ErrorCode.SCHEMA_VIOLATION:
      return 'invalid_input';
    case ErrorCode.SESSION_ENDED:
      return 'session_ended';
    default:
      return undefined;
  }
}

export class Audit {
  readonly counts: Partial<Record<SecurityEventKind, number>> = {};

  constructor(
    private readonly options: AuditOptions,
    private readonly diagnostics: Logger,
  ) {}

  /** Record an error sent to a client if it is a security event. */
  error(
    error: TandemError,
    context: Pick<SecurityEvent, 'userId' | 'connectionId' | 'remoteAddress'> = {},
  ): void {
    const kind = kindOf(error);
    if (kind !== undefined) this.record(kind, error, context);
  }

  record(
    kind: SecurityEventKind,
    error: TandemError,
    context: Pick<SecurityEvent, 'userId' | 'connectionId' | 'remoteAddress'> = {},
  ): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    const { logger, sink } = this.options;
    if (logger === undefined && sink === undefined) return;
    const event: SecurityEvent = { kind, at: Date.now(), code: error.code, message: error.message };
    if (error.details !== undefined) event.details = error.details;
    for (const key of ['userId', 'connectionId', 'remoteAddress'] as const) {
      if (context[key] !== undefined) event[key] = context[key];
    }
    logger?.warn(event, 'security event');
    if (sink !== undefined) {
      Promise.resolve()
        .then(() => sink(event))
        .catch((failure: unknown) => this.diagnostics.error('audit sink failed', { error: String(failure) }));
    }
  }
}

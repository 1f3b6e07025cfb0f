/**
 * The one error model of Tandem. Every package throws `TandemError`; only `{ code, message }` (plus
 * optional JSON-safe `details`) crosses the wire. Codes are stable strings equal to their names:
 * add new ones at the end, never rename or reuse a retired one. Each code is documented in
 * docs/errors.md (a test checks this).
 */
export const ErrorCode = {
  /** An op is malformed or cannot apply to the document. */
  INVALID_OP: 'INVALID_OP',
  /** A message or frame could not be decoded or has the wrong shape. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A frame, op, document, string or nesting depth is over its configured limit. */
  TOO_LARGE: 'TOO_LARGE',
  /** The caller is not authenticated (missing, malformed, forged or expired credentials). */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** The caller is authenticated but not permitted to perform the action. */
  FORBIDDEN: 'FORBIDDEN',
  /** The caller exceeded a rate limit; `details.retryAfterMs` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A conflict policy of `reject` refused the op. */
  CONFLICT_REJECTED: 'CONFLICT_REJECTED',
  /** The op touches a path locked by another owner. */
  LOCKED: 'LOCKED',
  /** The document or collection does not exist (or is not allowed). */
  NOT_FOUND: 'NOT_FOUND',
  /** A version or resource already exists / a version race was lost. */
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** The resulting document failed schema validation; `details.path` names the failing path. */
  SCHEMA_VIOLATION: 'SCHEMA_VIOLATION',
  /** The session was revoked or expired. */
  SESSION_ENDED: 'SESSION_ENDED',
  /** The store (database, pub/sub) could not be reached or failed. */
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  /** The client is not connected: a call was not sent (ops are kept and sent on reconnect). */
  OFFLINE: 'OFFLINE',
  /** A configuration value is invalid; raised at start-up. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** The receiver is too slow to keep up; the connection is closed. */
  BACKPRESSURE: 'BACKPRESSURE',
  /** The server is shutting down. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** Anything unexpected; the details stay in the server log. */
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** JSON-safe structured details that may accompany an error. */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/** What crosses the wire: never a stack, never an internal cause. */
export interface WireError {
  code: ErrorCode;
  message: string;
  details?: ErrorDetails;
}

const codes = new Set<string>(Object.values(ErrorCode));

export class TandemError extends Error {
  override readonly name = 'TandemError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** The wire form: `{ code, message, details? }`. */
  toJSON(): WireError {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }

  /** Rebuild from the wire; an unknown code becomes INTERNAL so callers can switch exhaustively. */
  static fromJSON(wire: unknown): TandemError {
    if (isWireError(wire)) return new TandemError(wire.code, wire.message, wire.details);
    return new TandemError(ErrorCode.INTERNAL, 'malformed error received');
  }

  /**
   * Wrap anything thrown: a TandemError passes through (one from another copy of this module, e.g.
   * the CJS build beside the ESM one, keeps its code and details), anything else becomes `code`.
   */
  static from(err: unknown, code: ErrorCode = ErrorCode.INTERNAL): TandemError {
    if (err instanceof TandemError) return err;
    if (isTandemError(err)) return new TandemError(err.code, err.message, err.details, { cause: err });
    const message = err instanceof Error ? err.message : String(err);
    return new TandemError(code, message, undefined, { cause: err });
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && codes.has(value);
}

export function isWireError(value: unknown): value is WireError {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    isErrorCode(v.code) &&
    typeof v.message === 'string' &&
    (v.details === undefined || (typeof v.details === 'object' && v.details !== null))
  );
}

/** Duck-typed check that also works across duplicated module copies (ESM + CJS in one process). */
export function isTandemError(value: unknown): value is TandemError {
  return (
    value instanceof TandemError ||
    (value instanceof Error && value.name === 'TandemError' && isErrorCode((value as TandemError).code))
  );
}

/** The result form used where failure is normal (`tryX`), next to a throwing form (`x`). */
export type Result<T, E = TandemError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E>(error: E): Result<never, E> => ({ ok: false, error });

/** Unwrap a result: the value, or throw its error. */
export function unwrap<T>(result: Result<T, TandemError>): T {
  if (result.ok) return result.value;
  throw result.error;
}

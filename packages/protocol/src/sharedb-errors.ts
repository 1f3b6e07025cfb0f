/**
 * ShareDB's own errors (`ERR_*` codes, or plain strings and Errors from middleware and adapters) in
 * Tandem's error model, on both sides of the socket: the server replies with them, and the client
 * turns the errors ShareDB's client raises locally (e.g. `create()` on a document that exists) into
 * the same TandemErrors. ShareDB's message is kept and its code stays in `details.sharedbCode`.
 */
import { ErrorCode, isTandemError, TandemError } from './errors';

const SHAREDB_CODES: Readonly<Record<string, ErrorCode>> = {
  // The request itself is malformed or asks for something this server does not offer.
  ERR_MESSAGE_BADLY_FORMED: ErrorCode.INVALID_MESSAGE,
  ERR_CLIENT_ID_BADLY_FORMED: ErrorCode.INVALID_MESSAGE,
  ERR_PROTOCOL_VERSION_NOT_SUPPORTED: ErrorCode.INVALID_MESSAGE,
  ERR_DEFAULT_TYPE_MISMATCH: ErrorCode.INVALID_MESSAGE,
  ERR_MILESTONE_ARGUMENT_INVALID: ErrorCode.INVALID_MESSAGE,
  ERR_DATABASE_ADAPTER_NOT_FOUND: ErrorCode.INVALID_MESSAGE,
  ERR_DATABASE_DOES_NOT_SUPPORT_SUBSCRIBE: ErrorCode.INVALID_MESSAGE,
  ERR_DATABASE_METHOD_NOT_IMPLEMENTED: ErrorCode.INVALID_MESSAGE,
  ERR_QUERY_CHANNEL_MISSING: ErrorCode.INVALID_MESSAGE,
  // The op is malformed, does not apply, or names a version or type it cannot have.
  ERR_OT_OP_BADLY_FORMED: ErrorCode.INVALID_OP,
  ERR_OT_OP_NOT_APPLIED: ErrorCode.INVALID_OP,
  ERR_OT_OP_NOT_PROVIDED: ErrorCode.INVALID_OP,
  ERR_OT_LEGACY_JSON: ErrorCode.INVALID_OP,
  ERR_OP_VERSION_NEWER_THAN_CURRENT_SNAPSHOT: ErrorCode.INVALID_OP,
  ERR_OP_VERSION_MISMATCH_AFTER_TRANSFORM: ErrorCode.INVALID_OP,
  ERR_OP_VERSION_MISMATCH_DURING_TRANSFORM: ErrorCode.INVALID_OP,
  ERR_APPLY_OP_VERSION_DOES_NOT_MATCH_SNAPSHOT: ErrorCode.INVALID_OP,
  ERR_OP_NOT_ALLOWED_IN_PROJECTION: ErrorCode.INVALID_OP,
  ERR_DOC_TYPE_NOT_RECOGNIZED: ErrorCode.INVALID_OP,
  ERR_DOC_WAS_DELETED: ErrorCode.INVALID_OP,
  ERR_DOC_MISSING_VERSION: ErrorCode.INVALID_OP,
  ERR_TYPE_DOES_NOT_SUPPORT_COMPOSE: ErrorCode.INVALID_OP,
  ERR_TYPE_DOES_NOT_SUPPORT_PRESENCE: ErrorCode.INVALID_OP,
  ERR_TYPE_CANNOT_BE_PROJECTED: ErrorCode.INVALID_OP,
  ERR_PRESENCE_TRANSFORM_FAILED: ErrorCode.INVALID_OP,
  ERR_CANNOT_FIXUP_DELETION: ErrorCode.INVALID_OP,
  ERR_FIXUP_IS_ONLY_VALID_ON_APPLY: ErrorCode.INVALID_OP,
  // Raised by ShareDB's client itself, before or instead of asking the server.
  ERR_OP_ALREADY_SUBMITTED: ErrorCode.INVALID_OP,
  ERR_DOC_IN_HARD_ROLLBACK: ErrorCode.INVALID_OP,
  ERR_PENDING_OP_REMOVED_BY_OP_SUBMIT_REJECTED: ErrorCode.INVALID_OP,
  ERR_INGESTED_SNAPSHOT_HAS_NO_VERSION: ErrorCode.INVALID_MESSAGE,
  ERR_DOC_ALREADY_CREATED: ErrorCode.ALREADY_EXISTS,
  ERR_DOC_DOES_NOT_EXIST: ErrorCode.NOT_FOUND,
  ERR_SNAPSHOT_READS_REJECTED: ErrorCode.FORBIDDEN,
  // The store lost a race too often or could not serve the ops a transform needs.
  ERR_MAX_SUBMIT_RETRIES_EXCEEDED: ErrorCode.STORAGE_UNAVAILABLE,
  ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND: ErrorCode.STORAGE_UNAVAILABLE,
};

/** ShareDB's code of an error, when it has one (`ERR_…`). */
function shareDbCode(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** A TandemError for anything ShareDB produced: its code mapped (INTERNAL if unknown), its message kept. */
export function fromShareDbError(error: unknown): TandemError {
  // Ours already, from this copy of the module or another (ESM and CJS builds side by side).
  if (isTandemError(error)) return TandemError.from(error);
  const code = shareDbCode(error);
  const raw = error as { message?: unknown } | null | undefined;
  const message = typeof raw?.message === 'string' ? raw.message : String(error);
  return new TandemError(
    (code !== undefined && SHAREDB_CODES[code]) || ErrorCode.INTERNAL,
    message,
    code === undefined ? undefined : { sharedbCode: code },
    { cause: error },
  );
}

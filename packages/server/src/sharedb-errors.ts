/**
 * ShareDB's own errors (`ERR_*` codes, or plain strings and Errors from middleware and adapters)
 * become TandemErrors where replies leave for the client, so every client sees one error model. The
 * ShareDB code stays in `details.sharedbCode` for debugging; stock ShareDB clients read only
 * `error.code` and `error.message` and treat any code alike, except the few control codes below.
 */
import { ErrorCode, isTandemError, TandemError } from '@tandem/protocol';

/**
 * Codes a ShareDB client acts on (silent rollback, cancelled subscription, no-op acknowledgement):
 * they are protocol signals, not errors to show, and pass unchanged.
 */
const CONTROL = new Set(['ERR_OP_SUBMIT_REJECTED', 'ERR_SNAPSHOT_READ_SILENT_REJECTION', 'ERR_NO_OP']);

const MAP: Readonly<Record<string, ErrorCode>> = {
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
  ERR_DOC_ALREADY_CREATED: ErrorCode.ALREADY_EXISTS,
  ERR_DOC_DOES_NOT_EXIST: ErrorCode.NOT_FOUND,
  ERR_SNAPSHOT_READS_REJECTED: ErrorCode.FORBIDDEN,
  // The store lost a race too often or could not serve the ops a transform needs.
  ERR_MAX_SUBMIT_RETRIES_EXCEEDED: ErrorCode.STORAGE_UNAVAILABLE,
  ERR_SUBMIT_TRANSFORM_OPS_NOT_FOUND: ErrorCode.STORAGE_UNAVAILABLE,
};

/**
 * The error to reply with: TandemErrors and ShareDB control codes unchanged, anything else a
 * TandemError (INTERNAL when the code is not ShareDB's) carrying the original code.
 */
export function fromShareDBError(error: unknown): unknown {
  if (error === undefined || error === null || isTandemError(error)) return error;
  const raw =
    typeof error === 'string' ? { message: error } : (error as { code?: unknown; message?: unknown });
  const code = typeof raw.code === 'string' ? raw.code : undefined;
  if (code !== undefined && CONTROL.has(code)) return error;
  const message = typeof raw.message === 'string' ? raw.message : String(error);
  return new TandemError(
    (code !== undefined && MAP[code]) || ErrorCode.INTERNAL,
    message,
    code === undefined ? undefined : { sharedbCode: code },
    { cause: error },
  );
}

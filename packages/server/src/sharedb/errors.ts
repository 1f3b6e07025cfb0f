/**
 * ShareDB's own errors become TandemErrors where replies leave for the client (the mapping is
 * @tandem/protocol's `fromShareDbError`, shared with the client), so every client sees one error
 * model. Stock ShareDB clients read only `error.code` and `error.message` and treat any code alike,
 * except the few control codes below.
 */
import { fromShareDbError, isTandemError } from '@tandem/protocol';

/**
 * Codes a ShareDB client acts on (silent rollback, cancelled subscription, no-op acknowledgement):
 * they are protocol signals, not errors to show, and pass unchanged.
 */
const CONTROL = new Set(['ERR_OP_SUBMIT_REJECTED', 'ERR_SNAPSHOT_READ_SILENT_REJECTION', 'ERR_NO_OP']);

/** The error to reply with: TandemErrors and ShareDB control codes unchanged, anything else a TandemError. */
export function toReplyError(error: unknown): unknown {
  if (error === undefined || error === null || isTandemError(error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONTROL.has(code)) return error;
  return fromShareDbError(error);
}

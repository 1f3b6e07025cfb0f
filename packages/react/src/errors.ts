import { ErrorCode, TandemError } from '@tandem/protocol';

/** Rejections from the client are TandemErrors already; anything else is wrapped as INTERNAL. */
export function toTandemError(error: unknown): TandemError {
  return error instanceof TandemError
    ? error
    : new TandemError(ErrorCode.INTERNAL, String((error as Error | undefined)?.message ?? error));
}

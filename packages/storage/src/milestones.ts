/** What the milestone adapters (SQLite, PostgreSQL) share: the default interval and argument checks. */
import { ErrorCode, TandemError } from '@tandem/protocol';

/**
 * Save a milestone every this many versions. The same default as sharedb-milestone-mongo, so all
 * stores behave alike; lower it when time travel must be fast on long histories.
 */
export const DEFAULT_MILESTONE_INTERVAL = 1000;

/** ShareDB's milestone suite expects these messages for missing arguments. */
export function invalidArgument(message: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, message);
}

/** ShareDB accepts `null` ("latest"/"earliest") or a non-negative integer. */
export function isVersionOrNull(value: unknown): value is number | null {
  return value === null || (Number.isInteger(value) && (value as number) >= 0);
}

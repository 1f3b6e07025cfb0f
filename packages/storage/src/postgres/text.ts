/**
 * PostgreSQL text cannot hold NUL, and node-postgres encodes an unpaired surrogate as U+FFFD, so two
 * different ids could name one row. Ids with either are refused; JSON keeps them as escapes in `json`
 * columns, and `jsonb` (queries) gets a copy with them replaced.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';

// With the `u` flag a paired surrogate is one code point, so \p{Surrogate} finds unpaired ones only.
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it finds.
const UNSTORABLE = /[\u0000\p{Surrogate}]/u;
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what it replaces.
const UNSTORABLE_ALL = /[\u0000\p{Surrogate}]/gu;
/** JSON.stringify writes NUL as `\u0000` and an unpaired surrogate as `\udXXX`, never raw. */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/** Whether a string, or any string or key inside a JSON value, holds NUL or an unpaired surrogate. */
export function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.some(hasUnstorableText);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([key, v]) => UNSTORABLE.test(key) || hasUnstorableText(v));
  return false;
}

/** Refuse an id (collection, document, op source) PostgreSQL would store as a different string. */
export function checkId(value: string, what: string): void {
  if (UNSTORABLE.test(value))
    throw new TandemError(
      ErrorCode.INVALID_MESSAGE,
      `a ${what} may not hold NUL or unpaired surrogate characters on PostgreSQL`,
      { reason: what },
    );
}

function replaceUnstorable(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(UNSTORABLE_ALL, '\ufffd');
  if (Array.isArray(value)) return value.map(replaceUnstorable);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [replaceUnstorable(key), replaceUnstorable(v)]),
    );
  return value;
}

/**
 * What `query_data` holds for snapshot JSON `text`: null when `text` casts to jsonb as it is (the
 * common case, found by a scan of the text), else the data with NUL and unpaired surrogates replaced.
 */
export function queryCopy(text: string, data: unknown): string | null {
  if (!UNSTORABLE_ESCAPE.test(text)) return null;
  return hasUnstorableText(data) ? JSON.stringify(replaceUnstorable(data)) : null;
}

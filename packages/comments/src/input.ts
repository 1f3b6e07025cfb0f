/**
 * Checks of untrusted call arguments. Each returns a fresh value built from what it checked (never
 * the caller's object), or throws a typed error naming what was wrong: INVALID_MESSAGE for a bad
 * shape, TOO_LARGE for a limit. Bodies are plain text: refused when they carry lone surrogates or
 * control characters (other than tab and newlines); markup is kept as the text it is.
 */
import type { Path } from '@tandem/ot';
import {
  type CommentAnchor,
  type CommentBody,
  ErrorCode,
  REACTIONS,
  type Reaction,
  TandemError,
} from '@tandem/protocol';
import type { ResolvedCommentsOptions } from './options';

/** Longest collection, document, thread or comment id, and user id in a mention. */
const MAX_ID_LENGTH = 1_024;
/** Deepest anchor path and longest key in it (documents are at most this deep by default). */
const MAX_PATH_KEYS = 64;
const MAX_KEY_LENGTH = 1_024;

export function invalid(reason: string, message: string): TandemError {
  return new TandemError(ErrorCode.INVALID_MESSAGE, `bad comments call: ${message}`, { reason });
}

export function tooLarge(limit: string, max: number, message: string): TandemError {
  return new TandemError(ErrorCode.TOO_LARGE, message, { limit, max });
}

export function id(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH)
    throw invalid(what, `${what} must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  return value;
}

export interface DocRef {
  collection: string;
  id: string;
}

export function docRef(collection: unknown, docId: unknown): DocRef {
  return { collection: id(collection, 'collection'), id: id(docId, 'id') };
}

export function flag(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw invalid(what, `${what} must be true or false`);
  return value;
}

export function reaction(value: unknown): Reaction {
  if (typeof value !== 'string' || !(REACTIONS as readonly string[]).includes(value))
    throw invalid('reaction', `reaction must be one of ${REACTIONS.join(', ')}`);
  return value as Reaction;
}

export function version(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw invalid('version', 'v must be a document version');
  return value;
}

const isOffset = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

export function anchor(value: unknown): CommentAnchor {
  if (typeof value !== 'object' || value === null) throw invalid('anchor', 'anchor must be an object');
  const { path, start, end } = value as Record<string, unknown>;
  if (
    !Array.isArray(path) ||
    path.length > MAX_PATH_KEYS ||
    !path.every(
      (k) =>
        (typeof k === 'string' && k.length <= MAX_KEY_LENGTH) ||
        (typeof k === 'number' && Number.isSafeInteger(k) && k >= 0),
    )
  )
    throw invalid('anchor', `anchor.path must be at most ${MAX_PATH_KEYS} keys (strings, list indexes)`);
  if (start === undefined && end === undefined) return { path: [...(path as Path)] };
  if (!isOffset(start) || !isOffset(end) || start >= end)
    throw invalid('anchor', 'anchor.start and anchor.end must be offsets with start < end');
  return { path: [...(path as Path)], start, end };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

export function body(value: unknown, limits: ResolvedCommentsOptions): CommentBody {
  if (typeof value !== 'object' || value === null) throw invalid('body', 'body must be { text, mentions }');
  const { text, mentions = [] } = value as Record<string, unknown>;
  if (typeof text !== 'string') throw invalid('body', 'body.text must be a string');
  // Bound the work before counting code points: a code point is at most two UTF-16 units.
  const length = text.length > 2 * limits.maxBodyLength ? Number.POSITIVE_INFINITY : [...text].length;
  if (length > limits.maxBodyLength)
    throw tooLarge(
      'maxBodyLength',
      limits.maxBodyLength,
      `a comment is at most ${limits.maxBodyLength} characters`,
    );
  if (text.trim() === '') throw invalid('body', 'body.text is empty');
  if (LONE_SURROGATE.test(text)) throw invalid('body', 'body.text has a lone surrogate (not UTF-16 text)');
  if (CONTROL.test(text)) throw invalid('body', 'body.text has control characters');
  if (!Array.isArray(mentions)) throw invalid('mentions', 'body.mentions must be a list');
  if (mentions.length > limits.maxMentions)
    throw tooLarge(
      'maxMentions',
      limits.maxMentions,
      `a comment mentions at most ${limits.maxMentions} users`,
    );
  const spans = mentions.map((m, i) => {
    const { start, end, userId } = (m ?? {}) as Record<string, unknown>;
    if (!isOffset(start) || !isOffset(end) || start >= end || end > length)
      throw invalid('mentions', `mention ${i}: start < end within the text (code points)`);
    return { start, end, userId: id(userId, 'mentions') };
  });
  for (let i = 1; i < spans.length; i++)
    if (spans[i].start < spans[i - 1].end)
      throw invalid('mentions', 'mentions must be ascending and not overlap');
  return { text, mentions: spans };
}

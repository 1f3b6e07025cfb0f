/** The extension's options, each with its default and the reason for it; checked once, at creation. */
import { ErrorCode, TandemError } from '@tandem/protocol';

export interface CommentsOptions {
  /**
   * Longest comment text, in code points. Bodies are stored in the thread's record, which is
   * rewritten on every change to the thread. @default 10_000
   */
  maxBodyLength?: number;
  /** Most mentions in one comment: each notifies a user. @default 20 */
  maxMentions?: number;
  /**
   * Most threads on one document (a thread whose comments are all deleted no longer counts).
   * Listing reads them all and every listing rebases their anchors. @default 2_000
   */
  maxThreadsPerDocument?: number;
  /** Most comments in one thread, deleted ones included (they keep their place). @default 500 */
  maxCommentsPerThread?: number;
  /** Notifications kept per user; past it the oldest read ones go first, then the oldest. @default 200 */
  maxNotifications?: number;
  /**
   * Anchors are moved lazily: when threads are listed, through the ops since they were last moved.
   * Every `rebaseEvery` versions of a document with threads, the process that committed that
   * version also moves them in the background, so a listing never has more than about this many
   * ops to catch up on. @default 1_000
   */
  rebaseEvery?: number;
  /** The clock for comment and notification times. @default Date.now */
  now?: () => number;
}

export type ResolvedCommentsOptions = Required<CommentsOptions>;

const DEFAULTS: Omit<ResolvedCommentsOptions, 'now'> = {
  maxBodyLength: 10_000,
  maxMentions: 20,
  maxThreadsPerDocument: 2_000,
  maxCommentsPerThread: 500,
  maxNotifications: 200,
  rebaseEvery: 1_000,
};

function invalid(option: string, reason: string): TandemError {
  return new TandemError(ErrorCode.INVALID_CONFIG, `invalid option comments.${option}: ${reason}`, {
    option: `comments.${option}`,
    reason,
  });
}

export function resolveCommentsOptions(options: unknown = {}): ResolvedCommentsOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalid('', 'must be an object');
  const given = options as Record<string, unknown>;
  const resolved: Record<string, unknown> = { ...DEFAULTS, now: Date.now };
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    if (key === 'now') {
      if (typeof value !== 'function') throw invalid(key, 'must be a function');
    } else if (!Object.hasOwn(DEFAULTS, key)) {
      throw invalid(key, 'unknown option');
    } else if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw invalid(key, 'must be a positive integer');
    }
    resolved[key] = value;
  }
  return resolved as ResolvedCommentsOptions;
}

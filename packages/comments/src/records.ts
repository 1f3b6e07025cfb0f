/**
 * What is stored, where, and how it goes on the wire. Three reserved collections (closed to
 * clients, stored by whatever backend the server uses):
 *
 * - `_tandem_comment_index`, one record per document (`<collection>/<id>`): each thread's anchor
 *   with the document version it was last moved to — the only record listing and rebasing touch.
 * - `_tandem_comments`, one record per thread (`<collection>/<id>/<threadId>`): quote, state and
 *   comments.
 * - `_tandem_notifications`, one record per user (the user id): newest first, capped.
 *
 * Every write is a compare-and-set (see `installCompareAndSet`), so a decision made on what was
 * read (the author of a comment, the thread count) holds when it is written.
 */
import { randomBytes } from 'node:crypto';
import { docKey } from '@tandem/conflicts';
import type { Path } from '@tandem/ot';
import type { CommentData, NotificationData, OpAuthor, Reaction, ThreadData } from '@tandem/protocol';
import type { DocRef } from './input';

export const INDEX_COLLECTION = '_tandem_comment_index';
export const THREADS_COLLECTION = '_tandem_comments';
export const NOTIFICATIONS_COLLECTION = '_tandem_notifications';
export const COLLECTIONS: ReadonlySet<string> = new Set([
  INDEX_COLLECTION,
  THREADS_COLLECTION,
  NOTIFICATIONS_COLLECTION,
]);

/**
 * A new thread, comment or notification id: 96 random bits in 16 URL-safe characters (a thousand
 * threads are listed and their anchors rewritten together: ids are a fair part of those bytes).
 */
export const newId = (): string => randomBytes(12).toString('base64url');

export const indexKey = (ref: DocRef): string => docKey(ref.collection, ref.id);
export const threadKey = (ref: DocRef, threadId: string): string =>
  `${indexKey(ref)}/${encodeURIComponent(threadId)}`;

/** An anchor (code points) as moved to document version `v`; `detached` once its text is gone. */
export interface StoredAnchor {
  path: Path;
  start?: number;
  end?: number;
  v: number;
  detached?: true;
}

export interface ThreadIndex {
  threads: Record<string, { a: StoredAnchor }>;
}

/** A comment as the wire's CommentData, except that reactions keep when each was made. */
export interface StoredComment extends Omit<CommentData, 'reactions'> {
  /** Who reacted and when, in order (a list, not a map: user ids are not safe object keys). */
  reactions: Partial<Record<Reaction, { u: string; at: number }[]>>;
}

export interface StoredThread {
  id: string;
  quote: string;
  createdBy: OpAuthor;
  createdAt: number;
  resolved: { by: OpAuthor; at: number } | null;
  comments: StoredComment[];
}

export interface NotificationRecord {
  items: NotificationData[];
}

/** A thread is listed while one of its comments is not deleted. */
export const isLive = (thread: StoredThread): boolean => thread.comments.some((c) => c.deleted === undefined);

export function commentToWire(comment: StoredComment): CommentData {
  const reactions: CommentData['reactions'] = {};
  for (const [kind, list] of Object.entries(comment.reactions) as [Reaction, { u: string }[]][])
    if (list.length > 0) reactions[kind] = list.map((r) => r.u);
  return {
    id: comment.id,
    author: comment.author,
    createdAt: comment.createdAt,
    ...(comment.editedAt === undefined ? {} : { editedAt: comment.editedAt }),
    ...(comment.deleted === undefined ? {} : { deleted: comment.deleted }),
    body: comment.body,
    reactions,
  };
}

export function threadToWire(thread: StoredThread, anchor: StoredAnchor, revision: number): ThreadData {
  return {
    id: thread.id,
    revision,
    anchor:
      anchor.start === undefined
        ? { path: anchor.path }
        : { path: anchor.path, start: anchor.start, end: anchor.end },
    detached: anchor.detached === true,
    quote: thread.quote,
    createdBy: thread.createdBy,
    createdAt: thread.createdAt,
    resolved: thread.resolved,
    comments: thread.comments.map(commentToWire),
  };
}

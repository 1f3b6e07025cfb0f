/**
 * Comments, reactions and notifications on the wire: the calls and pushes of the `comments` server
 * extension (@tandem/comments), which @tandem/client speaks. Text offsets (anchors, mention spans)
 * are code points here; the client API converts them to JS string indexes. Bodies are plain text
 * with mention spans, never markup. docs/protocol.md lists the calls.
 */
import type { DocPath } from './history';
import type { OpAuthor } from './messages';

/** The extension's name: the `ext` of its calls and pushes. */
export const COMMENTS_EXTENSION = 'comments';

export const REACTIONS = ['like', 'love', 'laugh', 'wow', 'sad', 'angry'] as const;
export type Reaction = (typeof REACTIONS)[number];

/** `text.slice(start, end)` (code points) mentions the user `userId`. */
export interface MentionSpan {
  start: number;
  end: number;
  userId: string;
}

export interface CommentBody {
  text: string;
  /** Ascending, not overlapping. */
  mentions: MentionSpan[];
}

/**
 * Where a thread hangs: a range of the string at `path` (`start < end`, code points), or the whole
 * value at `path` (a form field, a list item) when `start` and `end` are absent.
 */
export interface CommentAnchor {
  path: DocPath;
  start?: number;
  end?: number;
}

export interface CommentData {
  id: string;
  author: OpAuthor;
  createdAt: number;
  editedAt?: number;
  /** Set when deleted: the body is then empty and the reactions gone; the comment keeps its place. */
  deleted?: { by: string; at: number };
  body: CommentBody;
  /** Who reacted, by reaction, in the order they did. */
  reactions: Partial<Record<Reaction, string[]>>;
}

export interface ThreadData {
  id: string;
  /** Grows with every change to the thread: of two states of one thread, the higher is newer. */
  revision: number;
  /** At the version given with the thread (its last place, when detached). */
  anchor: CommentAnchor;
  /** The anchored text was deleted, or the path removed: the thread stays, with its quote. */
  detached: boolean;
  /** The anchored text when the thread was made (at most 1,000 code points; '' for a whole value). */
  quote: string;
  createdBy: OpAuthor;
  createdAt: number;
  resolved: { by: OpAuthor; at: number } | null;
  /** First comment, then replies, oldest first. A thread whose comments are all deleted is gone. */
  comments: CommentData[];
}

/** Threads of a document with their anchors at document version `v`. */
export interface ThreadList {
  v: number;
  threads: ThreadData[];
}

/** One thread as it is now, its anchor at document version `v` (the answer to every thread call). */
export interface ThreadUpdate {
  v: number;
  thread: ThreadData;
}

export type NotificationKind = 'mention' | 'reply' | 'reaction';

/** Higher first: a mention matters more than a reply, a reply more than a reaction. */
export const NOTIFICATION_PRIORITY: Readonly<Record<NotificationKind, number>> = {
  mention: 3,
  reply: 2,
  reaction: 1,
};

export interface NotificationData {
  id: string;
  kind: NotificationKind;
  priority: number;
  collection: string;
  docId: string;
  threadId: string;
  commentId: string;
  /** Who mentioned, replied or reacted. */
  by: OpAuthor;
  at: number;
  read: boolean;
  /** The start of the comment's text (mention, reply). */
  excerpt?: string;
  /** The reaction (reaction). */
  reaction?: Reaction;
}

/** A user's notifications, newest first, only of documents they can read now. */
export interface NotificationList {
  items: NotificationData[];
  unread: number;
}

/** Server -> client, as `{ t: 'push', ext: 'comments', data }`. */
export type CommentsPush =
  /** A thread of a watched document changed (or was made). */
  | ({ t: 'thread'; collection: string; docId: string } & ThreadUpdate)
  /** A new notification for this user. */
  | { t: 'notification'; notification: NotificationData }
  /** Notifications were marked read (on any socket of this user). */
  | { t: 'read'; ids: string[] | 'all' };

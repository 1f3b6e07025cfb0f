/** What webhook receivers get: the event types and bodies. */
import type { OpAuthor } from '@tandem/protocol';

export const WEBHOOK_EVENT_TYPES = [
  'document.committed',
  'version.created',
  'conflict.detected',
  'session.revoked',
  // Raised by @tandem/comments when it is installed.
  'comment.created',
  'comment.resolved',
  'mention.created',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a receiver gets as the JSON body. */
export interface WebhookEvent<T = unknown> {
  /** Unique per event; the same on every retry and for every endpoint. */
  id: string;
  type: WebhookEventType;
  /** When the event happened, ms since the epoch. */
  createdAt: number;
  data: T;
}

/** The payload of `document.committed`: the op, with who made it and the version it produced. */
export interface CommitEventData {
  collection: string;
  id: string;
  /** The document's version after this op (what `snapshotAt`/revert take). */
  version: number;
  kind: 'create' | 'op' | 'delete';
  author: OpAuthor | null;
  /** The json1 op (absent for create and delete). */
  op?: unknown;
}

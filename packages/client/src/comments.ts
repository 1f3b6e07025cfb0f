/**
 * `@tandem/client/comments`: threads anchored to text, replies, reactions, mentions and
 * notifications — the client side of the server's `comments` extension (@tandem/comments). Its own
 * entry point, so an app that shows no comments does not download them:
 *
 *   import { comments, notifications } from '@tandem/client/comments';
 *   const threads = comments(doc);          // one per document
 *   const inbox = notifications(client);    // one per client
 *
 * Everything here goes through the client's public API (calls, pushes, status, the ShareDB
 * connection's messages).
 */
import { COMMENTS_EXTENSION, type CommentsPush } from '@tandem/protocol';
import type { TandemClient } from './client';
import type { TandemDoc } from './doc';
import { type CommentsContext, DocComments } from './doc-comments';
import { Notifications } from './notifications';

export type {
  CommentAnchor,
  CommentBody,
  MentionSpan,
  NotificationData,
  NotificationKind,
  NotificationList,
  Reaction,
} from '@tandem/protocol';
export { REACTIONS } from '@tandem/protocol';
export type {
  Comment,
  CommentedDoc,
  CommentInput,
  CommentsContext,
  CommentText,
  Mention,
  Thread,
  ThreadAnchor,
} from './doc-comments';
export { DocComments } from './doc-comments';
export type { NotificationsContext } from './notifications';
export { Notifications } from './notifications';

const links = new WeakMap<TandemClient, CommentsContext>();
const views = new WeakMap<TandemDoc<any>, DocComments>();
const inboxes = new WeakMap<TandemClient, Notifications>();

function linkOf(client: TandemClient): CommentsContext {
  let link = links.get(client);
  if (link === undefined) {
    link = {
      call: (method, args, signal) =>
        client.call({ t: 'call', ext: COMMENTS_EXTENSION, method, args }, signal),
      onPush: (listener) =>
        client.on('push', (ext, data) => {
          if (ext === COMMENTS_EXTENSION && typeof data === 'object' && data !== null)
            listener(data as CommentsPush);
        }),
      onOnline: (listener) => {
        // Only a reconnect: the first connection serves the first call anyway.
        let wasOnline = client.status === 'online';
        return client.on('status', (status) => {
          if (status !== 'online') return;
          if (wasOnline) listener();
          wasOnline = true;
        });
      },
      onReceive: (listener) => {
        const handler = (request: { data: Record<string, unknown> }) => listener(request.data);
        client.connection.on('receive', handler);
        return () => client.connection.removeListener('receive', handler);
      },
      userId: () => client.user?.id,
    };
    links.set(client, link);
  }
  return link;
}

/** A document's comment threads (one open view per document; `list()` loads and follows them). */
export function comments(doc: TandemDoc<any>): DocComments {
  let view = views.get(doc);
  if (view === undefined || view.closed) {
    view = new DocComments(doc, linkOf(doc.client));
    views.set(doc, view);
  }
  return view;
}

/** This user's notifications (one per client; `list()` loads them, pushes keep them current). */
export function notifications(client: TandemClient): Notifications {
  let inbox = inboxes.get(client);
  if (inbox === undefined) {
    inbox = new Notifications(linkOf(client));
    inboxes.set(client, inbox);
  }
  return inbox;
}

/**
 * `comments(options)`: the server extension. Installs a compare-and-set on its records and the
 * background anchor rebase, answers the client calls (docs/protocol.md), routes its cross-process
 * events to watchers and users, and reports counters.
 */
import { isReservedCollection } from '@tandem/conflicts';
import { COMMENTS_EXTENSION, ErrorCode, TandemError } from '@tandem/protocol';
import type { Caller, CallHandler, Extension, ExtensionContext } from '@tandem/server';
import * as input from './input';
import { type NotificationEvent, Notifications } from './notifications';
import { type CommentsOptions, resolveCommentsOptions } from './options';
import { rebaseDocument } from './rebase';
import { COLLECTIONS } from './records';
import { Threads } from './threads';
import { type ThreadEvent, Watchers } from './watchers';

type Event = ThreadEvent | NotificationEvent;

interface Installed {
  threads: Threads;
  notifications: Notifications;
  watchers: Watchers;
}

interface ApplyRequest {
  collection: string;
  ops: unknown[];
}

interface WriteRequest {
  collection: string;
  id: string;
  snapshot?: { v?: number };
}

export function comments(options: CommentsOptions = {}): Extension {
  const resolved = resolveCommentsOptions(options);
  let installed: Installed | undefined;
  const rebasing = new Map<string, Promise<void>>();
  let backgroundRebases = 0;

  const ready = (): Installed => {
    if (installed === undefined) throw new TandemError(ErrorCode.INTERNAL, 'comments is not installed');
    return installed;
  };

  /** Every `rebaseEvery` versions of a document, its anchors move in the background. */
  const rebaseLater = (context: ExtensionContext, collection: string, id: string): void => {
    const key = `${collection}\u0000${id}`;
    if (rebasing.has(key)) return;
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => rebaseDocument(context.records, { collection, id }))
      .then(
        (moved) => {
          if (moved > 0) backgroundRebases++;
          installed?.threads.noteMoved(moved);
        },
        (error: unknown) =>
          context.logger.warn('comments: background rebase failed', { error: String(error) }),
      )
      .finally(() => rebasing.delete(key));
    rebasing.set(key, run);
  };

  const docCall =
    (
      handler: (caller: Caller, ref: input.DocRef, args: readonly unknown[]) => Promise<unknown>,
    ): CallHandler =>
    (args, caller) =>
      handler(caller, input.docRef(args[0], args[1]), args.slice(2));

  return {
    name: COMMENTS_EXTENSION,

    install(context) {
      const backend = context.backend as unknown as {
        use(action: string, fn: (request: never, next: (error?: unknown) => void) => void): void;
      };
      // A write decided on what was read (an author, a count) must not be transformed over a
      // concurrent write: it lost the race, and DocIO.update reads again and decides again.
      backend.use('apply', (request: ApplyRequest, next) => {
        if (COLLECTIONS.has(request.collection) && request.ops.length > 0)
          return next(new TandemError(ErrorCode.ALREADY_EXISTS, 'comment record changed concurrently'));
        next();
      });
      backend.use('afterWrite', (request: WriteRequest, next) => {
        next();
        const v = request.snapshot?.v;
        if (
          typeof v === 'number' &&
          v % resolved.rebaseEvery === 0 &&
          !isReservedCollection(request.collection)
        )
          rebaseLater(context, request.collection, request.id);
      });
      const watchers = new Watchers(context);
      const notifications = new Notifications(context, context.records, resolved);
      const threads = new Threads(context, context.records, resolved, notifications, watchers);
      installed = { threads, notifications, watchers };
    },

    calls: {
      list: docCall((caller, ref, [watch = false]) =>
        ready().threads.list(caller, ref, input.flag(watch, 'watch')),
      ),
      unwatch: docCall(async (caller, ref) => {
        ready().watchers.unwatch(caller.connectionId, ref);
      }),
      create: docCall((caller, ref, [thread]) => ready().threads.create(caller, ref, thread)),
      reply: docCall((caller, ref, [threadId, body]) =>
        ready().threads.reply(caller, ref, input.id(threadId, 'threadId'), body),
      ),
      edit: docCall((caller, ref, [threadId, commentId, body]) =>
        ready().threads.edit(
          caller,
          ref,
          input.id(threadId, 'threadId'),
          input.id(commentId, 'commentId'),
          body,
        ),
      ),
      delete: docCall((caller, ref, [threadId, commentId]) =>
        ready().threads.remove(caller, ref, input.id(threadId, 'threadId'), input.id(commentId, 'commentId')),
      ),
      resolve: docCall((caller, ref, [threadId]) =>
        ready().threads.setResolved(caller, ref, input.id(threadId, 'threadId'), true),
      ),
      reopen: docCall((caller, ref, [threadId]) =>
        ready().threads.setResolved(caller, ref, input.id(threadId, 'threadId'), false),
      ),
      react: docCall((caller, ref, [threadId, commentId, kind, on]) =>
        ready().threads.react(
          caller,
          ref,
          input.id(threadId, 'threadId'),
          input.id(commentId, 'commentId'),
          input.reaction(kind),
          input.flag(on, 'on'),
        ),
      ),
      notifications: (_args, caller) => ready().notifications.list(caller.principal),
      markRead: ([ids], caller) => ready().notifications.markRead(caller.principal, ids),
    },

    connected: (connection) => ready().watchers.connected(connection),
    disconnected: (connection) => ready().watchers.disconnected(connection),

    event(data) {
      const event = data as Event;
      if (event.t === 'thread') ready().watchers.deliver(event);
      else ready().notifications.deliver(event);
    },

    metrics() {
      if (installed === undefined) return {};
      const { threads, notifications, watchers } = installed;
      return {
        ...threads.counts,
        backgroundRebases,
        notifications: notifications.created,
        notificationsDelivered: notifications.delivered,
        threadPushes: watchers.pushed,
        watchedDocuments: watchers.watching,
      };
    },

    async close() {
      await Promise.all([...rebasing.values(), ...(installed?.threads.saving ?? [])]);
    },
  };
}

/**
 * `client.notifications()`: this user's notifications (mentions, replies in their threads,
 * reactions to their comments), newest first, with the unread count. New ones arrive live on every
 * socket of the user, on any server process; the list is fetched again after a reconnect. The
 * server only ever shows notifications of documents the user can read now.
 */
import type { CommentsPush, NotificationData, NotificationList } from '@tandem/protocol';
import { Emitter } from './emitter';

/** What notifications need from the client. */
export interface NotificationsContext {
  call<R>(method: string, args: unknown[], signal?: AbortSignal): Promise<R>;
  onPush(listener: (push: CommentsPush) => void): () => void;
  onOnline(listener: () => void): () => void;
}

type NotificationsEvents = {
  /** A new notification arrived. */
  notification: (notification: NotificationData) => void;
  /** The list or the unread count changed. */
  change: (list: NotificationList) => void;
};

export class Notifications extends Emitter<NotificationsEvents> {
  private current: NotificationList = { items: [], unread: 0 };
  private loaded = false;
  private readonly stops: (() => void)[];

  constructor(private readonly context: NotificationsContext) {
    super();
    this.stops = [
      context.onPush((push) => {
        if (push.t === 'notification') {
          if (this.current.items.some((n) => n.id === push.notification.id)) return;
          this.set([push.notification, ...this.current.items]);
          this.emit('notification', push.notification);
        } else if (push.t === 'read') {
          const ids = push.ids === 'all' ? undefined : new Set(push.ids);
          this.set(
            this.current.items.map((n) => (!n.read && (ids?.has(n.id) ?? true) ? { ...n, read: true } : n)),
          );
        }
      }),
      // Those that came while this client was away are in the store: fetch the list again.
      context.onOnline(() => {
        if (this.loaded) void this.list().catch(() => {});
      }),
    ];
  }

  /** The notifications and unread count as last known (empty before `list`). */
  get snapshot(): NotificationList {
    return this.current;
  }

  get unread(): number {
    return this.current.unread;
  }

  /** Fetch the list (and follow it: pushes keep `snapshot` current from then on). */
  async list(signal?: AbortSignal): Promise<NotificationList> {
    const list = await this.context.call<NotificationList>('notifications', [], signal);
    this.loaded = true;
    this.current = list;
    this.emit('change', list);
    return list;
  }

  /** Mark some notifications (by id), or all, read on every socket of this user. */
  async markRead(ids: readonly string[] | 'all', signal?: AbortSignal): Promise<NotificationList> {
    const list = await this.context.call<NotificationList>(
      'markRead',
      [ids === 'all' ? 'all' : [...ids]],
      signal,
    );
    this.current = list;
    this.emit('change', list);
    return list;
  }

  close(): void {
    for (const stop of this.stops.splice(0)) stop();
  }

  private set(items: NotificationData[]): void {
    this.current = { items, unread: items.filter((n) => !n.read).length };
    this.emit('change', this.current);
  }
}

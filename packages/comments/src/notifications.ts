/**
 * Notifications: one capped record per user, newest first. A new one is stored, then announced
 * to every server process, and pushed to each of the user's sockets whose principal may read the
 * document it is about — checked with that socket's principal at delivery, and again for every
 * listing, so nobody is told about a document they cannot read (now).
 */
import { randomUUID } from 'node:crypto';
import type { DocIO } from '@tandem/conflicts';
import { diff } from '@tandem/ot';
import {
  type CommentsPush,
  NOTIFICATION_PRIORITY,
  type NotificationData,
  type NotificationList,
} from '@tandem/protocol';
import type { ExtensionContext, Principal } from '@tandem/server';
import { invalid } from './input';
import type { ResolvedCommentsOptions } from './options';
import { NOTIFICATIONS_COLLECTION, type NotificationRecord } from './records';

/** Most ids in one `markRead` call. */
const MAX_MARK_IDS = 1_000;

export type NewNotification = Omit<NotificationData, 'id' | 'read' | 'priority'>;

/** Cross-process events of this module. */
export type NotificationEvent =
  | { t: 'notification'; userId: string; notification: NotificationData }
  | { t: 'read'; userId: string; ids: string[] | 'all' };

/** Newest first; past `max`, the oldest read items go first, then the oldest. */
function capped(items: NotificationData[], max: number): NotificationData[] {
  if (items.length <= max) return items;
  let excess = items.length - max;
  const drop = new Set<number>();
  for (let i = items.length - 1; i >= 0 && excess > 0; i--)
    if (items[i].read) {
      drop.add(i);
      excess--;
    }
  const kept = items.filter((_, i) => !drop.has(i));
  return kept.slice(0, max);
}

export class Notifications {
  created = 0;
  delivered = 0;

  constructor(
    private readonly context: ExtensionContext,
    private readonly io: DocIO,
    private readonly options: ResolvedCommentsOptions,
  ) {}

  /** Store a notification for `userId` and deliver it wherever the user is connected. */
  async notify(userId: string, item: NewNotification): Promise<void> {
    const notification: NotificationData = {
      id: randomUUID(),
      ...item,
      priority: NOTIFICATION_PRIORITY[item.kind],
      read: false,
    };
    await this.io.update(NOTIFICATIONS_COLLECTION, userId, (current) => {
      const record = current.data as NotificationRecord | undefined;
      const after: NotificationRecord = {
        items: capped([notification, ...(record?.items ?? [])], this.options.maxNotifications),
      };
      return record === undefined
        ? { create: after as never, result: undefined }
        : { op: diff(record as never, after as never), result: undefined };
    });
    this.created++;
    await this.context.publish({ t: 'notification', userId, notification } satisfies NotificationEvent);
  }

  /** The user's notifications of documents `principal` may read now. */
  async list(principal: Principal): Promise<NotificationList> {
    const record = (await this.io.read(NOTIFICATIONS_COLLECTION, principal.id)).data as
      | NotificationRecord
      | undefined;
    const items = await this.readable(principal, record?.items ?? []);
    return { items, unread: items.filter((n) => !n.read).length };
  }

  /** Mark some (by id) or all of the user's notifications read; answers the new listing. */
  async markRead(principal: Principal, raw: unknown): Promise<NotificationList> {
    let ids: string[] | 'all';
    if (raw === 'all') ids = 'all';
    else if (
      Array.isArray(raw) &&
      raw.length <= MAX_MARK_IDS &&
      raw.every((id) => typeof id === 'string' && id.length <= 64)
    )
      ids = raw as string[];
    else throw invalid('ids', `ids must be 'all' or a list of at most ${MAX_MARK_IDS} notification ids`);
    const wanted = ids === 'all' ? undefined : new Set(ids);
    await this.io.update(NOTIFICATIONS_COLLECTION, principal.id, (current) => {
      const record = current.data as NotificationRecord | undefined;
      if (record === undefined) return { result: undefined };
      const after = {
        items: record.items.map((n) => (!n.read && (wanted?.has(n.id) ?? true) ? { ...n, read: true } : n)),
      };
      return { op: diff(record as never, after as never), result: undefined };
    });
    await this.context.publish({ t: 'read', userId: principal.id, ids } satisfies NotificationEvent);
    return this.list(principal);
  }

  /** An event from any process: push it to this process's sockets of the user. */
  deliver(event: NotificationEvent): void {
    for (const connection of this.context.connectionsOf(event.userId)) {
      if (event.t === 'read') {
        connection.push({ t: 'read', ids: event.ids } satisfies CommentsPush);
        continue;
      }
      const { collection, docId } = event.notification;
      this.context.access(connection.principal, 'read', collection, docId).then(
        () => {
          this.delivered++;
          connection.push({ t: 'notification', notification: event.notification } satisfies CommentsPush);
        },
        () => {},
      );
    }
  }

  private async readable(principal: Principal, items: NotificationData[]): Promise<NotificationData[]> {
    const allowed = new Map<string, Promise<boolean>>();
    const check = (n: NotificationData) => {
      const key = `${n.collection}\u0000${n.docId}`;
      let verdict = allowed.get(key);
      if (verdict === undefined) {
        verdict = this.context.access(principal, 'read', n.collection, n.docId).then(
          () => true,
          () => false,
        );
        allowed.set(key, verdict);
      }
      return verdict;
    };
    const verdicts = await Promise.all(items.map(check));
    return items.filter((_, i) => verdicts[i]);
  }
}

/** The notifications bell: mentions, replies and reactions for this user, live, with unread count. */

import { notifications as notificationsOf } from '@tandem/client/comments';
import type { NotificationData } from '@tandem/protocol';
import { useClient } from '@tandem/react';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { COLLECTIONS, type Collection } from '../../shared/model';
import { href } from '../route';
import { EMOJI } from './reactions';

function describe(n: NotificationData): string {
  if (n.kind === 'reaction')
    return `${n.by.name} reacted ${n.reaction ? EMOJI[n.reaction] : ''} to your comment`;
  return `${n.by.name} ${n.kind === 'mention' ? 'mentioned you' : 'replied'}: “${n.excerpt ?? ''}”`;
}

export function NotificationBell() {
  const notifications = notificationsOf(useClient());
  const [open, setOpen] = useState(false);
  useEffect(() => {
    notifications.list().catch(() => {}); // fetched again after every reconnect
  }, [notifications]);
  const list = useSyncExternalStore(
    (onChange) => notifications.on('change', onChange),
    () => notifications.snapshot,
  );
  return (
    <div className="bell">
      <button type="button" aria-label="Notifications" aria-expanded={open} onClick={() => setOpen(!open)}>
        🔔
        {list.unread > 0 && (
          <span className="unread" data-testid="unread">
            {list.unread}
          </span>
        )}
      </button>
      {open && (
        <div className="bell-list" data-testid="notifications">
          {list.items.length === 0 ? (
            <p className="hint">Nothing yet.</p>
          ) : (
            <ul>
              {list.items.map((n) => (
                <li key={n.id} className={n.read ? 'read' : 'unread'}>
                  <a
                    href={
                      (COLLECTIONS as readonly string[]).includes(n.collection)
                        ? href({ page: 'doc', collection: n.collection as Collection, id: n.docId })
                        : undefined
                    }
                    onClick={() => notifications.markRead([n.id]).catch(() => {})}
                  >
                    {describe(n)}
                  </a>
                </li>
              ))}
            </ul>
          )}
          {list.unread > 0 && (
            <button
              type="button"
              className="link"
              onClick={() => notifications.markRead('all').catch(() => {})}
            >
              Mark all read
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** The signed-in app: header, document picker, and the page the route names. */
import { comments } from '@tandem/client/comments';
import { useClient, useSyncStatus } from '@tandem/react';
import { useEffect } from 'react';
import { canEdit, type DemoUser } from '../shared/model';
import { NotificationBell } from './comments/NotificationBell';
import { DocumentPicker } from './DocumentPicker';
import { FormPage } from './form/FormPage';
import { HistoryPage } from './history/HistoryPage';
import { NotesPage } from './notes/NotesPage';
import { OpsPage } from './ops/OpsPage';
import { href, useRoute } from './route';

function SyncStatus() {
  const { status, unsynced } = useSyncStatus();
  return (
    <span className="sync" data-status={status} data-testid="sync">
      {status}
      {unsynced > 0 ? ` · ${unsynced} unsynced` : ''}
    </span>
  );
}

export function App({ user, onSignOut }: { user: DemoUser; onSignOut: () => void }) {
  const client = useClient();
  const route = useRoute();
  useEffect(() => {
    // The browser says the network is back: reconnect now instead of at the next backoff step.
    const reconnect = () => client.reconnect();
    window.addEventListener('online', reconnect);
    // For tests and the curious: the client, and the comments of one of its documents.
    Object.assign(window, { tandemClient: client, tandemComments: comments });
    return () => window.removeEventListener('online', reconnect);
  }, [client]);

  return (
    <div className="app">
      <header className="top">
        <strong className="brand">Tandem demo</strong>
        <SyncStatus />
        <NotificationBell />
        <span className="me" style={{ borderColor: user.colour }}>
          {user.name} · {user.role}
        </span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div className="body">
        <DocumentPicker route={route} mayCreate={canEdit(user.role)} />
        <main>
          {route.page === 'ops' ? (
            <OpsPage />
          ) : (
            <>
              <nav className="tabs">
                <a href={href({ ...route, page: 'doc' })} aria-current={route.page === 'doc'}>
                  {route.collection === 'forms' ? 'Form' : 'Document'}
                </a>
                <a href={href({ ...route, page: 'history' })} aria-current={route.page === 'history'}>
                  History
                </a>
              </nav>
              {route.page === 'history' ? (
                <HistoryPage key={`${route.collection}/${route.id}`} {...route} user={user} />
              ) : route.collection === 'forms' ? (
                <FormPage key={route.id} id={route.id} user={user} />
              ) : (
                <NotesPage key={route.id} id={route.id} user={user} />
              )}
            </>
          )}
        </main>
      </div>
    </div>
  );
}

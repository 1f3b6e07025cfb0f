/** Every note and form this user may read, live (a subscribed query), and buttons to add one. */
import { useClient } from '@tandem/react';
import { useEffect, useState } from 'react';
import { type Collection, NEW_FORM, NEW_NOTE } from '../shared/model';
import { href, type Route } from './route';

interface Entry {
  id: string;
  title: string;
}

/** The query's documents and their titles, updated as documents are added or retitled. */
function useDocList(collection: Collection): Entry[] {
  const client = useClient();
  const [entries, setEntries] = useState<Entry[]>([]);
  useEffect(() => {
    const query = client.connection.createSubscribeQuery(collection, {});
    const read = () => {
      const next = (query.results ?? [])
        .map((doc) => ({ id: doc.id, title: (doc as { data?: { title?: string } }).data?.title ?? '' }))
        .sort((a, b) => a.title.localeCompare(b.title) || a.id.localeCompare(b.id));
      setEntries((last) => (JSON.stringify(last) === JSON.stringify(next) ? last : next));
    };
    const watched = new Set<unknown>();
    const update = () => {
      for (const doc of query.results ?? []) {
        if (watched.has(doc)) continue;
        watched.add(doc);
        doc.on('op', read);
        doc.on('load', read);
      }
      read();
    };
    query.on('ready', update);
    query.on('changed', update);
    return () => {
      for (const doc of query.results ?? []) {
        doc.removeListener('op', read);
        doc.removeListener('load', read);
      }
      query.destroy();
    };
  }, [client, collection]);
  return entries;
}

function Section({
  collection,
  label,
  route,
  mayCreate,
}: {
  collection: Collection;
  label: string;
  route: Route;
  mayCreate: boolean;
}) {
  const client = useClient();
  const entries = useDocList(collection);
  const create = async () => {
    const id = `${collection === 'forms' ? 'form' : 'note'}-${crypto.randomUUID().slice(0, 8)}`;
    await client.doc(collection, id).create(collection === 'forms' ? NEW_FORM : NEW_NOTE);
    location.hash = href({ page: 'doc', collection, id });
  };
  const current = route.page !== 'ops' && route.collection === collection ? route.id : undefined;
  return (
    <section>
      <h2>{label}</h2>
      <ul>
        {entries.map((entry) => (
          <li key={entry.id}>
            <a href={href({ page: 'doc', collection, id: entry.id })} aria-current={entry.id === current}>
              {entry.title || 'Untitled'}
            </a>
          </li>
        ))}
      </ul>
      {mayCreate && (
        <button type="button" className="link" onClick={create}>
          + New {collection === 'forms' ? 'form' : 'note'}
        </button>
      )}
    </section>
  );
}

export function DocumentPicker({ route, mayCreate }: { route: Route; mayCreate: boolean }) {
  return (
    <nav className="picker" aria-label="Documents">
      <Section collection="notes" label="Notes" route={route} mayCreate={mayCreate} />
      <Section collection="forms" label="Forms" route={route} mayCreate={mayCreate} />
      <section>
        <h2>Server</h2>
        <a href="#/ops" aria-current={route.page === 'ops'}>
          Operations
        </a>
      </section>
    </nav>
  );
}

/** Hash routes: `#/notes/welcome`, `#/forms/laptops/history`, `#/ops`. */
import { useEffect, useState } from 'react';
import { COLLECTIONS, type Collection } from '../shared/model';

export type Route = { page: 'ops' } | { page: 'doc' | 'history'; collection: Collection; id: string };

export function parseRoute(hash: string): Route {
  const [collection, id, tab] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (collection === 'ops') return { page: 'ops' };
  if ((COLLECTIONS as readonly string[]).includes(collection) && id)
    return { page: tab === 'history' ? 'history' : 'doc', collection: collection as Collection, id };
  return { page: 'doc', collection: 'notes', id: 'welcome' };
}

export function href(route: Route): string {
  if (route.page === 'ops') return '#/ops';
  const base = `#/${route.collection}/${encodeURIComponent(route.id)}`;
  return route.page === 'history' ? `${base}/history` : base;
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

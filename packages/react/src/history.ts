/**
 * `useHistory(collection, id)`: the document's history calls, and its latest page of entries
 * loaded on mount and on `refresh()` (not on every edit: a page is a server round trip).
 */
import type { DocHistory, HistoryPage, PageQuery } from '@tandem/client';
import type { TandemError } from '@tandem/protocol';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { toTandemError } from './errors';
import { useClient } from './provider';

export interface HistoryState {
  /** Every history call (versions, diff, blame, revert, …) for this document. */
  history: DocHistory;
  page: HistoryPage | undefined;
  loading: boolean;
  error: TandemError | undefined;
  /** Load the page again (e.g. after an edit, or when the history panel opens). */
  refresh(): void;
}

export function useHistory(collection: string, id: string, query: PageQuery = {}): HistoryState {
  const client = useClient();
  const history = useMemo(() => client.history(collection, id), [client, collection, id]);
  const queryKey = JSON.stringify(query);
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<{ page?: HistoryPage; loading: boolean; error?: TandemError }>({
    loading: true,
  });
  // biome-ignore lint/correctness/useExhaustiveDependencies: generation is the refresh trigger
  useEffect(() => {
    const abort = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    history.page(JSON.parse(queryKey) as PageQuery, abort.signal).then(
      (page) => setState({ page, loading: false }),
      (error: unknown) => {
        if (!abort.signal.aborted) setState((s) => ({ ...s, loading: false, error: toTandemError(error) }));
      },
    );
    return () => abort.abort();
  }, [history, queryKey, generation]);
  const refresh = useCallback(() => setGeneration((g) => g + 1), []);
  return { history, page: state.page, loading: state.loading, error: state.error, refresh };
}

/**
 * Comments and notifications: `useComments(doc)` loads a document's threads and follows them
 * (replies, reactions, anchors moving as anyone types); `useNotifications()` this user's
 * notifications with the unread count. Both take a selector: a component that selects, say, the
 * thread ids and comment counts does not re-render when an edit moves the anchors.
 */
import type { TandemDoc } from '@tandem/client';
import {
  comments,
  type DocComments,
  type Notifications,
  notifications,
  type Thread,
} from '@tandem/client/comments';
import type { NotificationList, TandemError } from '@tandem/protocol';
import { useCallback, useEffect, useState } from 'react';
import { toTandemError } from './errors';
import { useClient } from './provider';
import { shallowEqual, useSelected } from './store';

interface Loaded {
  loading: boolean;
  error: TandemError | undefined;
}

/** Run `load` once per `source` (aborted on unmount) and report its progress. */
function useLoad(source: object, load: (signal: AbortSignal) => Promise<unknown>): Loaded {
  const [state, setState] = useState<Loaded & { source: object }>({
    source,
    loading: true,
    error: undefined,
  });
  useEffect(() => {
    const abort = new AbortController();
    load(abort.signal).then(
      () => setState({ source, loading: false, error: undefined }),
      (error: unknown) => {
        if (!abort.signal.aborted) setState({ source, loading: false, error: toTandemError(error) });
      },
    );
    return () => abort.abort();
  }, [source, load]);
  return state.source === source ? state : { loading: true, error: undefined };
}

export interface CommentsState<R> extends Loaded {
  /** The calls: add, reply, edit, delete, resolve, reopen, react. */
  comments: DocComments;
  /** The threads (or what the selector took of them), oldest first. */
  threads: R;
}

const allThreads = (threads: readonly Thread[]): readonly Thread[] => threads;

/** A document's comment threads, loaded on mount and kept current. */
export function useComments<R = readonly Thread[]>(
  doc: TandemDoc<any>,
  selector: (threads: readonly Thread[]) => R = allThreads as (threads: readonly Thread[]) => R,
  isEqual: (a: R, b: R) => boolean = shallowEqual,
): CommentsState<R> {
  const view = comments(doc);
  const load = useCallback((signal: AbortSignal) => view.list(signal), [view]);
  const loaded = useLoad(view, load);
  const subscribe = useCallback((onChange: () => void) => view.on('change', onChange), [view]);
  const threads = useSelected(subscribe, () => view.threads, selector, isEqual);
  return { comments: view, threads, ...loaded };
}

export interface NotificationsState<R> extends Loaded {
  /** The calls: markRead (and list, to fetch again). */
  notifications: Notifications;
  /** `{ items, unread }` (or what the selector took of it). */
  list: R;
}

const wholeList = (list: NotificationList): NotificationList => list;

/** This user's notifications and unread count, loaded on mount and kept current. */
export function useNotifications<R = NotificationList>(
  selector: (list: NotificationList) => R = wholeList as (list: NotificationList) => R,
  isEqual: (a: R, b: R) => boolean = shallowEqual,
): NotificationsState<R> {
  const inbox = notifications(useClient());
  const load = useCallback((signal: AbortSignal) => inbox.list(signal), [inbox]);
  const loaded = useLoad(inbox, load);
  const subscribe = useCallback((onChange: () => void) => inbox.on('change', onChange), [inbox]);
  const list = useSelected(subscribe, () => inbox.snapshot, selector, isEqual);
  return { notifications: inbox, list, ...loaded };
}

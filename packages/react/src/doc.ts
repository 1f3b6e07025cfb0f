/**
 * Documents: `useDoc` opens and subscribes one (re-rendering only when it loads or fails), and
 * `useDocSelector` / `useText` read from it, re-rendering only when what they read changed. Edits
 * copy the containers along their path and keep every other subtree as it was, so a selector of
 * an untouched part returns the same reference and its component stays put.
 */
import type { TandemDoc } from '@tandem/client';
import { diffText, editText, type Path, spliceTextAtCodePoint, toCodePointIndex } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';
import { toTandemError } from './errors';
import { useClient } from './provider';
import { stopAll, useSelected } from './store';

export type DocStatus = 'loading' | 'ready' | 'error';

export interface DocState<T> {
  doc: TandemDoc<T>;
  /** `ready` once subscribed (the document may still not exist: `doc.data` is then undefined). */
  status: DocStatus;
  error: TandemError | undefined;
}

/** One subscription per document, shared by every component that uses it. */
interface Loading {
  status: DocStatus;
  error: TandemError | undefined;
  started: boolean;
  listeners: Set<() => void>;
}

const loads = new WeakMap<TandemDoc<any>, Loading>();

function loading(doc: TandemDoc<any>): Loading {
  let load = loads.get(doc);
  if (load === undefined) {
    load = { status: 'loading', error: undefined, started: false, listeners: new Set() };
    loads.set(doc, load);
  }
  return load;
}

/** Subscribe once (from an effect: rendering starts nothing). */
function start(doc: TandemDoc<any>, load: Loading): void {
  if (load.started) return;
  load.started = true;
  const settle = (status: DocStatus, error?: TandemError) => {
    load.status = status;
    load.error = error;
    for (const listener of [...load.listeners]) listener();
  };
  doc.subscribe().then(
    () => settle('ready'),
    (error: unknown) => settle('error', toTandemError(error)),
  );
}

/**
 * Open and subscribe to a document, typed by its data: `useDoc<Invoice>('invoices', id)`. The
 * subscription stays open for the client's lifetime (other components may share it).
 */
export function useDoc<T>(collection: string, id: string): DocState<T> {
  const client = useClient();
  const doc = client.doc<T>(collection, id);
  const load = loading(doc);
  useEffect(() => start(doc, load), [doc, load]);
  const subscribe = useCallback(
    (onChange: () => void) => {
      load.listeners.add(onChange);
      return () => load.listeners.delete(onChange);
    },
    [load],
  );
  const status = useSyncExternalStore(
    subscribe,
    () => load.status,
    () => load.status,
  );
  return useMemo(() => ({ doc, status, error: load.error }), [doc, status, load]);
}

/**
 * `selector(doc.data)`, re-rendering only when its result changes (`isEqual`, default Object.is):
 * `useDocSelector(doc, (d) => d?.title)` does not re-render when someone types in `d.body`.
 */
export function useDocSelector<T, S>(
  doc: TandemDoc<T>,
  selector: (data: T | undefined) => S,
  isEqual: (a: S, b: S) => boolean = Object.is,
): S {
  // Every change of the data: ops, and loads, creates and deletes.
  const subscribe = useCallback(
    (onChange: () => void) => stopAll(doc.on('change', onChange), doc.on('load', onChange)),
    [doc],
  );
  return useSelected(subscribe, () => doc.data, selector, isEqual);
}

function stringAt(data: unknown, path: Path): string | undefined {
  let node = data;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return typeof node === 'string' ? node : undefined;
}

/** A text edit needs a string to edit (an edit of a missing one would fail in ShareDB). */
function noString(path: Path): Promise<never> {
  return Promise.reject(
    new TandemError(ErrorCode.INVALID_OP, `no string at ${JSON.stringify(path)} to edit`, { path }),
  );
}

export interface TextState {
  /** The string at the path ('' when there is none). */
  value: string;
  /** Make the string `next` with the smallest edit (an input's change event). */
  set(next: string): Promise<void>;
  /** Replace `deleteCount` UTF-16 units at `index` with `text`. */
  splice(index: number, deleteCount: number, text: string): Promise<void>;
}

/** The string at `path`, re-rendering only when it changes, and edits of it. */
export function useText(doc: TandemDoc<any>, path: Path): TextState {
  const key = JSON.stringify(path);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the path by value, not by reference
  const select = useCallback((data: unknown) => stringAt(data, path) ?? '', [key]);
  const value = useDocSelector(doc, select);
  return useMemo(() => {
    const at = JSON.parse(key) as Path;
    return {
      value,
      set: (next: string) => {
        const current = stringAt(doc.data, at);
        if (current === undefined) return noString(at);
        const edit = diffText(current, next);
        return edit === null ? Promise.resolve() : doc.submit(editText(at, edit));
      },
      splice: (index: number, deleteCount: number, text: string) => {
        const current = stringAt(doc.data, at);
        if (current === undefined) return noString(at);
        const from = toCodePointIndex(current, index);
        const count = toCodePointIndex(current, index + deleteCount) - from;
        return doc.submit(spliceTextAtCodePoint(at, from, count, text));
      },
    };
  }, [doc, key, value]);
}

/**
 * Reading an external store without re-render storms: `useSyncExternalStore` over a source, with a
 * selector whose result is kept (same reference) while it is equal, so a component re-renders only
 * when what it selected changed.
 */
import { useRef, useSyncExternalStore } from 'react';

/** Equal when Object.is, or arrays / plain objects whose items are Object.is one level down. */
export function shallowEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every(
    (key) =>
      Object.hasOwn(b, key) &&
      Object.is((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

/**
 * `select(read())`, re-rendering when `subscribe` reports a change and the selection is no longer
 * `isEqual` to the last one. `read` returns an immutable source (the same reference means nothing
 * changed), or a fresh value per call for a mutable one. `subscribe` must be stable (useCallback).
 */
export function useSelected<S, R>(
  subscribe: (onChange: () => void) => () => void,
  read: () => S,
  select: (source: S) => R,
  isEqual: (a: R, b: R) => boolean,
): R {
  const memo = useRef<{ source: S; select: (source: S) => R; value: R } | null>(null);
  const snapshot = (): R => {
    const source = read();
    const last = memo.current;
    if (last !== null && Object.is(last.source, source) && last.select === select) return last.value;
    const next = select(source);
    // Same selection as before: hand back the same reference, so React sees no change.
    const value = last !== null && isEqual(last.value, next) ? last.value : next;
    memo.current = { source, select, value };
    return value;
  };
  return useSyncExternalStore(subscribe, snapshot, snapshot);
}

/** One unsubscribe for several (each `emitter.on(...)` returns its own). */
export function stopAll(...stops: (() => void)[]): () => void {
  return () => {
    for (const stop of stops) stop();
  };
}

/** Presence: who else is here (`useOthers`) and what this user shares (`usePresence`). */
import type { LocalPresence, PeerPresence, TandemDoc } from '@tandem/client';
import { useCallback, useEffect } from 'react';
import { shallowEqual, useSelected } from './store';

/** The peers array as of the last presence event (a stable reference between events). */
const current = new WeakMap<TandemDoc<any>, { peers: PeerPresence[] }>();

function peersOf(doc: TandemDoc<any>): { peers: PeerPresence[] } {
  let entry = current.get(doc);
  if (entry === undefined) {
    const state = { peers: doc.presence.peers() };
    entry = state;
    current.set(doc, state);
    // Registered before any component's listener, so it has updated when they read.
    doc.presence.on('change', (peers) => {
      state.peers = peers;
    });
  }
  return entry;
}

const all = (peers: PeerPresence[]): PeerPresence[] => peers;

/**
 * Everyone else in the document, or `selector(peers)`: a component that selects, say, names and
 * statuses (compared with `isEqual`, default shallow) does not re-render when a peer's caret moves.
 */
export function useOthers<R = PeerPresence[]>(
  doc: TandemDoc<any>,
  selector: (peers: PeerPresence[]) => R = all as (peers: PeerPresence[]) => R,
  isEqual: (a: R, b: R) => boolean = shallowEqual,
): R {
  const entry = peersOf(doc);
  const subscribe = useCallback((onChange: () => void) => doc.presence.on('change', onChange), [doc]);
  return useSelected(subscribe, () => entry.peers, selector, isEqual);
}

/**
 * Share `value` as this user's presence while it is given (sent again whenever it changes by
 * value; `undefined` sends nothing). Presence is best effort: offline it is resent on reconnect.
 */
export function usePresence(doc: TandemDoc<any>, value: LocalPresence | undefined): void {
  const key = value === undefined ? undefined : JSON.stringify(value);
  useEffect(() => {
    if (key === undefined) return;
    doc.presence.update(JSON.parse(key) as LocalPresence).catch(() => {});
  }, [doc, key]);
}

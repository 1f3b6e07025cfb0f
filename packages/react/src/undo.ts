/** `useUndo(doc)`: this user's undo/redo of the document (Tandem's per-user stack), for buttons. */
import type { TandemDoc } from '@tandem/client';
import { useCallback, useMemo } from 'react';
import { shallowEqual, stopAll, useSelected } from './store';

export interface UndoState {
  canUndo: boolean;
  canRedo: boolean;
  /** Resolves false when there was nothing to undo. */
  undo(): Promise<boolean>;
  redo(): Promise<boolean>;
}

const same = <T>(value: T): T => value;

export function useUndo(doc: TandemDoc<any>): UndoState {
  const subscribe = useCallback(
    // Any change can change them: a local edit pushes, a remote one can cancel an entry out.
    (onChange: () => void) => stopAll(doc.on('change', onChange), doc.on('load', onChange)),
    [doc],
  );
  // A fresh pair per read, kept (same reference) while equal to the last one.
  const can = useSelected(
    subscribe,
    () => ({ canUndo: doc.canUndo, canRedo: doc.canRedo }),
    same,
    shallowEqual,
  );
  return useMemo(() => ({ ...can, undo: () => doc.undo(), redo: () => doc.redo() }), [can, doc]);
}

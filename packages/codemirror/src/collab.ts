/** `tandemCollab({ doc, path })`: everything that binds one editor to one string of a document. */
import { type Extension, Prec } from '@codemirror/state';
import { type Command, type KeyBinding, keymap } from '@codemirror/view';
import type { TandemDoc } from '@tandem/client';
import type { Path } from '@tandem/ot';
import type { TandemError } from '@tandem/protocol';
import { binding } from './config';
import { remoteCursors } from './cursors';
import { textRanges } from './ranges';
import { needsString, syncPlugin } from './sync';

export interface TandemCollabOptions {
  /** The document (subscribe to it before or after: the editor follows its string either way). */
  doc: TandemDoc<any>;
  /** Where the string is in the document, e.g. `['body']`. */
  path: Path;
  /**
   * An edit of this editor was refused by the server (a viewer's edit, a locked path, a `reject`
   * policy): the client rolled it back, and the editor with it. @default ignore
   */
  onError?: (error: TandemError) => void;
  /** Key bindings for Tandem's undo/redo; `[]` to bind `tandemUndo`/`tandemRedo` yourself. @default tandemUndoKeymap */
  keymap?: readonly KeyBinding[];
}

function replay(kind: 'undo' | 'redo'): Command {
  return (view) => {
    const plugin = view.plugin(syncPlugin);
    const config = view.state.facet(binding);
    if (plugin === null || config === null) return false;
    plugin.replay(() => (kind === 'undo' ? config.doc.undo() : config.doc.redo()));
    return true;
  };
}

/**
 * Undo this user's last edit of the document (not only of this editor: Tandem keeps one undo stack
 * per document), leaving everyone else's edits in place.
 */
export const tandemUndo: Command = replay('undo');
export const tandemRedo: Command = replay('redo');

/** Mod-z undoes, Mod-y and Mod-Shift-z redo, as in CodeMirror's history keymap. */
export const tandemUndoKeymap: readonly KeyBinding[] = [
  { key: 'Mod-z', run: tandemUndo, preventDefault: true },
  { key: 'Mod-y', mac: 'Mod-Shift-z', run: tandemRedo, preventDefault: true },
  { linux: 'Ctrl-Shift-z', run: tandemRedo, preventDefault: true },
];

const ignore = (): void => {};

export function tandemCollab(options: TandemCollabOptions): Extension {
  return [
    binding.of({ doc: options.doc, path: [...options.path], onError: options.onError ?? ignore }),
    syncPlugin,
    needsString,
    remoteCursors,
    textRanges,
    // Above CodeMirror's own history keymap, should the editor also have it.
    Prec.high(keymap.of([...(options.keymap ?? tandemUndoKeymap)])),
  ];
}

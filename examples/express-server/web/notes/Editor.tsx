/** A CodeMirror 6 editor on one string of a document, through @tandem/codemirror. */
import { defaultKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import type { TandemDoc } from '@tandem/client';
import { setRanges, tandemCollab } from '@tandem/codemirror';
import { type Path, toCodePointIndex } from '@tandem/ot';
import { useEffect, useRef } from 'react';

/** A range of the text to mark (JS string indexes), e.g. where a comment thread hangs. */
export interface Mark {
  id: string;
  start: number;
  end: number;
}

interface Props {
  doc: TandemDoc<any>;
  path: Path;
  readOnly: boolean;
  onError: (error: Error) => void;
  /** Marked as `cm-comment` ranges, with `data-thread` = id; they move with every edit. */
  marks: readonly Mark[];
  /** The main selection changed (JS string indexes). */
  onSelection: (selection: { start: number; end: number }) => void;
}

export function Editor({ doc, path, readOnly, onError, marks, onSelection }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView>(null);
  const report = useRef({ onError, onSelection });
  report.current = { onError, onSelection };
  const key = JSON.stringify(path);
  useEffect(() => {
    const editor = new EditorView({
      parent: parent.current as HTMLElement,
      extensions: [
        // Text sync, peers' carets and selections, and Ctrl+Z / Ctrl+Y through Tandem's undo.
        tandemCollab({ doc, path, onError: (error) => report.current.onError(error) }),
        EditorView.updateListener.of((update) => {
          if (!update.selectionSet) return;
          const { from, to } = update.state.selection.main;
          report.current.onSelection({ start: from, end: to });
        }),
        keymap.of(defaultKeymap),
        lineNumbers(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
      ],
    });
    view.current = editor;
    return () => {
      view.current = null;
      editor.destroy();
    };
  }, [doc, key, readOnly]);
  // Ranges are given in code points of the string (the wire's unit); they follow edits on their own.
  useEffect(() => {
    const editor = view.current;
    if (editor === null) return;
    const text = editor.state.doc.toString();
    const ranges = marks
      .filter((m) => m.end <= text.length)
      .map((m) => ({
        from: toCodePointIndex(text, m.start),
        to: toCodePointIndex(text, m.end),
        className: 'cm-comment',
        attributes: { 'data-thread': m.id },
      }));
    editor.dispatch({ effects: setRanges(ranges) });
  }, [marks]);
  return <div ref={parent} className="editor" data-testid="editor" />;
}

/** A CodeMirror 6 editor on one string of a document, through @tandem/codemirror. */
import { defaultKeymap } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, keymap, lineNumbers } from '@codemirror/view';
import type { TandemDoc } from '@tandem/client';
import { tandemCollab } from '@tandem/codemirror';
import type { Path } from '@tandem/ot';
import { useEffect, useRef } from 'react';

interface Props {
  doc: TandemDoc<any>;
  path: Path;
  readOnly: boolean;
  onError: (error: Error) => void;
}

export function Editor({ doc, path, readOnly, onError }: Props) {
  const parent = useRef<HTMLDivElement>(null);
  const report = useRef(onError);
  report.current = onError;
  const key = JSON.stringify(path);
  useEffect(() => {
    const view = new EditorView({
      parent: parent.current as HTMLElement,
      extensions: [
        // Text sync, peers' carets and selections, and Ctrl+Z / Ctrl+Y through Tandem's undo.
        tandemCollab({ doc, path, onError: (error) => report.current(error) }),
        keymap.of(defaultKeymap),
        lineNumbers(),
        highlightActiveLine(),
        EditorView.lineWrapping,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
      ],
    });
    return () => view.destroy();
  }, [doc, key, readOnly]);
  return <div ref={parent} className="editor" data-testid="editor" />;
}

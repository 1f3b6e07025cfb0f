/** What both keystroke pages (Tandem's and the relay's) give the suite about their one editor. */
import type { EditorView } from '@codemirror/view';

export function editorHarness(editor: () => EditorView | undefined, arrived: Map<string, number>) {
  return {
    /** Put the caret at the end of line `line` (0-based) and focus: each typist has a line. */
    caret(line: number): void {
      const view = editor();
      if (view === undefined) return;
      view.focus();
      view.dispatch({ selection: { anchor: view.state.doc.line(line + 1).to } });
    },
    text: (): string => editor()?.state.doc.toString() ?? '',
    /** When each benchmark character arrived from another page, before the editor showed it. */
    arrivals: (): [string, number][] => [...arrived],
  };
}

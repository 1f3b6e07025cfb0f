/**
 * The keystroke suite's floor: the same editor and observer, with each keystroke relayed as
 * "append this to line n" over a bare WebSocket relay (no OT, no store, no acknowledgement). Each
 * typist appends to its own line, so the pages agree without any transform.
 */
import { Annotation } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { editorHarness } from './editor';

const relayed = Annotation.define<true>();
let view: EditorView | undefined;
/** When each relayed character arrived (the message event, before the editor). */
const arrived = new Map<string, number>();

export const harness = {
  async open(options: { url: string; lines: number }): Promise<void> {
    const socket = new WebSocket(options.url);
    await new Promise((resolve) => socket.addEventListener('open', resolve, { once: true }));
    const editor = new EditorView({
      doc: '\n'.repeat(options.lines - 1),
      extensions: [
        EditorView.lineWrapping,
        EditorView.updateListener.of((update) => {
          for (const tr of update.transactions) {
            if (tr.annotation(relayed)) continue;
            tr.changes.iterChanges((from, _to, _fromB, _toB, inserted) => {
              const line = update.startState.doc.lineAt(from).number;
              socket.send(JSON.stringify({ line, text: inserted.toString() }));
            });
          }
        }),
      ],
      parent: document.body,
    });
    socket.addEventListener('message', (event) => {
      const { line, text } = JSON.parse(String(event.data)) as { line: number; text: string };
      const now = performance.timeOrigin + performance.now();
      for (const ch of text) if (!arrived.has(ch)) arrived.set(ch, now);
      const at = editor.state.doc.line(line).to;
      editor.dispatch({ changes: { from: at, insert: text }, annotations: relayed.of(true) });
    });
    view = editor;
  },
  ...editorHarness(() => view, arrived),
};

(globalThis as { harness?: typeof harness }).harness = harness;

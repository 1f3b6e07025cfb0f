/**
 * The page the keystroke suite types into: one CodeMirror editor (line wrapping, no other
 * extensions) bound by @tandem/codemirror to the string `text` of one document. Any page with a
 * CodeMirror editor can be measured the same way (the observer only reads the DOM).
 */
import { EditorView } from '@codemirror/view';
import { connect, type TandemDoc } from '@tandem/client';
import { tandemCollab } from '@tandem/codemirror';
import { editorHarness } from './editor';

let view: EditorView | undefined;
/** When each benchmark character arrived in a peer's op (applied to the document, before the editor). */
const arrived = new Map<string, number>();
const now = () => performance.timeOrigin + performance.now();

export const harness = {
  /** Open the document (creating it with `lines` empty lines first when asked) in an editor. */
  async open(options: { url: string; token: string; id: string; create?: number }): Promise<void> {
    const client = connect(options.url, { token: options.token });
    const doc: TandemDoc<{ text: string }> = client.doc('keystroke', options.id);
    if (options.create !== undefined) await doc.create({ text: '\n'.repeat(options.create - 1) });
    await doc.subscribe();
    doc.on('change', ({ op, local }) => {
      if (local) return;
      const at = now();
      for (const ch of JSON.stringify(op))
        if (ch >= '\u4e00' && ch <= '\u9fff' && !arrived.has(ch)) arrived.set(ch, at);
    });
    view = new EditorView({
      doc: doc.data?.text ?? '',
      extensions: [EditorView.lineWrapping, tandemCollab({ doc, path: ['text'] })],
      parent: document.body,
    });
  },
  ...editorHarness(() => view, arrived),
};

(globalThis as { harness?: typeof harness }).harness = harness;

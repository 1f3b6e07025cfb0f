import { EditorView } from '@codemirror/view';
import { connect } from '@tandem/client';
import { tandemCollab } from '@tandem/codemirror';
import { TandemProvider } from '@tandem/react';
import { createRoot } from 'react-dom/client';

function App() {
  return <p>hello {String(typeof EditorView)} {String(typeof tandemCollab)} {String(typeof connect)}</p>;
}
createRoot(document.getElementById('root')!).render(<TandemProvider client={null as never}><App /></TandemProvider>);

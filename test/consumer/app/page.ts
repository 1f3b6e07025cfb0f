// A browser page of the host app, bundled by esbuild and by vite with no polyfills or aliases.
import { connect, isTandemError } from '@tandem/client';

interface Note {
  text: string;
}

const name = new URLSearchParams(location.search).get('name') ?? 'page';
const client = connect(`ws://${location.host}/tandem`, { token: name });
const doc = client.doc<Note>('notes', 'browser');

async function start(): Promise<void> {
  await doc.subscribe();
  if (doc.data === undefined) {
    // Both pages may try; one of them finds the document created (ALREADY_EXISTS) and goes on.
    await doc.create({ text: '' }).catch((error: unknown) => {
      if (!isTandemError(error) || error.code !== 'ALREADY_EXISTS') throw error;
    });
  }
  const text = doc.text(['text']);
  (window as unknown as { tandem: object }).tandem = {
    value: () => text.value,
    append: (s: string) => text.insert(text.value.length, s),
  };
}

start().catch((error: unknown) => {
  document.body.textContent = `failed: ${String(error)}`;
});

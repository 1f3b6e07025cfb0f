// The page is an ordinary Vite + React app (web/): `vite build` writes dist/, which the Express app
// serves. It imports the Tandem packages from their dist/ as any app does (`pnpm start` builds them).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('web', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('dist', import.meta.url)),
    emptyOutDir: true,
    // React, CodeMirror and the client in one file: fine for a demo (about 190 KB gzipped).
    chunkSizeWarningLimit: 1000,
  },
});

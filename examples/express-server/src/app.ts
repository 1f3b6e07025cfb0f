/**
 * The demo app: an ordinary Express app that embeds Tandem with `attach` and serves a page where
 * several windows co-edit one text and see each other's cursors and names.
 */
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type AttachedTandem, attach } from '@tandem/server';
import { healthHandler, prometheusHandler, readyHandler } from '@tandem/server/express';
import * as esbuild from 'esbuild';
import express from 'express';

export interface DemoOptions {
  /** @default 3000 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Storage URL. @default the SQLite default of @tandem/storage (./data/tandem.db) */
  storage?: string;
}

export interface Demo {
  url: string;
  tandem: AttachedTandem;
  close(): Promise<void>;
}

/**
 * The page's script, bundled as any app bundles @tandem/client: from the package's dist/ (`pnpm
 * start` builds it), with no polyfills.
 */
export async function bundlePage(): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('../page/app.js', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const page = await bundlePage();
  const app = express();
  const tandem = await attach(app, {
    storage: options.storage,
    hooks: {
      // Demo-grade identity: the page sends "id:name" as its token. A real app verifies a session
      // or a signed token here and throws to refuse (the upgrade then gets HTTP 401).
      authenticate: ({ token }) => {
        const [id, ...name] = (token ?? '').split(':');
        if (!id) throw new Error('a token "id:name" is required');
        return { id, name: name.join(':') || id };
      },
    },
  });
  app.get('/app.js', (_request, response) => {
    response.type('text/javascript').send(page);
  });
  // Operations endpoints a production host mounts the same way.
  app.get('/metrics', prometheusHandler(tandem.tandem));
  app.get('/health', healthHandler(tandem.tandem));
  app.get('/ready', readyHandler(tandem.tandem));
  app.use(express.static(fileURLToPath(new URL('../public', import.meta.url))));

  const port = options.port ?? 3000;
  const host = options.host ?? '127.0.0.1';
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  return {
    url: `http://${host}:${actualPort}/`,
    tandem,
    async close() {
      await tandem.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

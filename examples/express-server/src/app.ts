/**
 * The demo app: an ordinary Express app that embeds Tandem with `attach` and serves a page where
 * several windows co-edit one text and see each other's cursors and names.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type AttachedTandem, attach } from '@tandem/server';
import { healthHandler, prometheusHandler, readyHandler } from '@tandem/server/express';
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

/** The browser bundle of @tandem/client (built by `pnpm --filter @tandem/client build:browser`). */
export function clientBundlePath(): string {
  return createRequire(import.meta.url).resolve('@tandem/client/browser');
}

export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const bundle = clientBundlePath();
  if (!existsSync(bundle)) {
    throw new Error(
      `${bundle} is missing: run \`pnpm --filter @tandem/client build:browser\` (pnpm start does)`,
    );
  }
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
  app.get('/tandem-client.js', (_request, response) => response.sendFile(bundle));
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

/**
 * Real Chromium pages for browser tests (the CodeMirror binding's and the React hooks'): one HTTP
 * server serves a page whose module is bundled by esbuild from a test fixture, and carries the
 * Tandem endpoint on the same port. Workspace packages are bundled from src/ (the `source`
 * condition), so no build is needed and a stale dist/ cannot pass. The browser is the system
 * Chromium of test/chromium.ts.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type AttachedTandem, attach, type TandemOptions } from '@tandem/server';
import * as esbuild from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { haveChromium, launchChromium } from '../../../test/chromium';

export { haveChromium };

/**
 * Node built-ins ShareDB's client requires, swapped for the client package's own browser shims as
 * its build does (src/browser/ before issue 13's packaging rework, src/shims/ after it).
 */
function clientShims(): Record<string, string> {
  const client = fileURLToPath(new URL('../../client/src/', import.meta.url));
  for (const dir of ['shims', 'browser']) {
    const shims: Record<string, string> = {};
    for (const name of ['events', 'util', 'async'])
      if (existsSync(`${client}${dir}/${name}.ts`)) shims[name] = `${client}${dir}/${name}.ts`;
    if (shims.util !== undefined) shims.inherits = shims.util;
    if (Object.keys(shims).length > 0) return shims;
  }
  return {};
}

/** `alias` swaps packages in the bundle (absolute paths), e.g. React 18 for React 19. */
export async function bundle(entry: string, alias: Record<string, string> = {}): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser', 'import'],
    alias: { ...clientShims(), ...alias },
    external: ['ws'],
    define: { 'process.env.NODE_ENV': '"development"' },
    sourcemap: 'inline',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

export interface PageServer {
  readonly tandem: AttachedTandem;
  /** The endpoint, `ws://127.0.0.1:port/tandem`. */
  readonly wsUrl: string;
  /** A page in its own browser context (its own storage: another window), once its module ran. */
  open(): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Tokens in these tests are the principal itself as JSON (`{ id, name, colour }`), so a test can
 * sign in as anyone, hostile names included; no token is an anonymous guest.
 */
export const testAuth: TandemOptions['hooks'] = {
  authenticate: ({ token }) =>
    token === undefined ? { id: `guest-${Math.random().toString(36).slice(2, 8)}` } : JSON.parse(token),
};

export async function pageServer(
  entry: string,
  options: TandemOptions = {},
  alias: Record<string, string> = {},
): Promise<PageServer> {
  const script = await bundle(entry, alias);
  const http = createServer((request, response) => {
    if (request.url === '/app.js') {
      response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      response.end(script);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><meta charset="utf-8"><body><script type="module" src="/app.js"></script>');
  });
  const tandem = await attach(http, { storage: 'memory:', hooks: testAuth, ...options });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const wsUrl = tandem.url();
  const httpUrl = wsUrl.replace(/^ws/, 'http').replace(/\/tandem$/, '/');
  const browser: Browser = await launchChromium();
  return {
    tandem,
    wsUrl,
    async open() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
      await page.goto(httpUrl);
      await page.waitForFunction(() => (globalThis as { harness?: unknown }).harness !== undefined);
      return page;
    },
    async close() {
      await browser.close();
      await tandem.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * A typed caller of `globalThis.harness` in a page (every fixture exposes its API there):
 * `const call = caller<Harness>(() => page); await call('open', …)`.
 */
export function caller<H>(page: () => Page) {
  return <M extends keyof H & string>(
    method: M,
    ...args: H[M] extends (...a: infer A) => unknown ? A : never
  ): Promise<H[M] extends (...a: any[]) => infer R ? Awaited<R> : never> =>
    page().evaluate(
      ([m, a]) =>
        (globalThis as unknown as { harness: Record<string, (...x: unknown[]) => unknown> }).harness[m](...a),
      [method, args] as [string, unknown[]],
    ) as never;
}

/** The server's snapshot of a document (what every replica must converge to). */
export async function serverSnapshot(
  tandem: AttachedTandem,
  collection: string,
  id: string,
): Promise<{ v: number; data: any }> {
  const backend = await tandem.tandem.backend();
  const doc = backend.connect().get(collection, id);
  await new Promise<void>((resolve, reject) => doc.fetch((e) => (e ? reject(e) : resolve())));
  return { v: doc.version as number, data: doc.data };
}

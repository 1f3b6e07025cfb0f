import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Subprotocol } from '@tandem/protocol';
import { attach } from '@tandem/server';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, until } from './helpers';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listening(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/tandem`),
    ),
  );
}

function closing(server: Server): () => Promise<void> {
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Two clients on `url` edit one document and converge. */
async function converge(url: string, id: string): Promise<void> {
  const a = client(url);
  const b = client(url);
  cleanups.push(
    () => a.close(),
    () => b.close(),
  );
  const da = a.doc<{ text: string }>('notes', id);
  await da.create({ text: '' });
  await da.subscribe();
  const db = b.doc<{ text: string }>('notes', id);
  await db.subscribe();
  await da.text(['text']).insert(0, 'a');
  await db.text(['text']).insert(0, 'b');
  await until(() => da.data?.text.length === 2 && da.data.text === db.data?.text, 5_000, 'convergence');
}

/** The status and body of a WebSocket upgrade that is refused. */
function refusal(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_request, response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
  });
}

/** An Express app with a page, attached, then served by `http.createServer(app)`. */
async function createServerForApp() {
  const app = express();
  app.get('/', (_request, response) => {
    response.send('page');
  });
  const attached = await attach(app, { storage: 'memory:' });
  cleanups.push(() => attached.close());
  const server = createServer(app);
  cleanups.push(closing(server));
  const url = await listening(server);
  return { attached, server, url };
}

describe('attach serves an Express app however it is served', () => {
  it('app.listen()', async () => {
    const app = express();
    const attached = await attach(app, { storage: 'memory:' });
    cleanups.push(() => attached.close());
    const server = app.listen(0, '127.0.0.1');
    cleanups.push(closing(server));
    await new Promise((resolve) => server.once('listening', resolve));
    expect(attached.server).toBe(server);
    await converge(attached.url(), 'listen');
  });

  it('an existing http.Server', async () => {
    const app = express();
    const server = createServer(app);
    const attached = await attach(server, { storage: 'memory:' });
    cleanups.push(() => attached.close(), closing(server));
    await converge(await listening(server), 'server');
  });

  it('http.createServer(app): bound at the first request; a first-ever upgrade is refused clearly, once', async () => {
    const app = express();
    const attached = await attach(app, { storage: 'memory:' });
    cleanups.push(() => attached.close());
    const server = createServer(app);
    cleanups.push(closing(server));
    const url = await listening(server);
    expect(attached.server).toBeUndefined();
    // Nothing has told attach about this server yet: the upgrade reaches the app, which says so.
    expect(await refusal(url)).toEqual({
      status: 503,
      body: { code: 'INVALID_CONFIG', message: expect.stringContaining('pass the http.Server to attach()') },
    });
    expect(attached.server).toBe(server);
    // The client reconnects as it does after any refused upgrade, and is served.
    await converge(url, 'create-server');
  });

  it('http.createServer(app) after a page load: the first WebSocket is served', async () => {
    const { attached, server, url } = await createServerForApp();
    const page = await fetch(url.replace('ws://', 'http://').replace('/tandem', '/'));
    expect(await page.text()).toBe('page');
    const ws = new WebSocket(url, [Subprotocol.json]);
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    ws.close();
    expect(attached.server).toBe(server);
  });
});

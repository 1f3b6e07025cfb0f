import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '@tandem/client';
import { type AttachedTandem, attach } from '@tandem/server';
import ShareDBClient from 'sharedb/lib/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

// The stock client in this process shares ShareDB's type registry with the server, which registered
// @tandem/ot's type under the json1 name: the same wire ops a stock client using ot-json1 sends.
let server: AttachedTandem;

beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:' });
});
afterAll(async () => {
  await server.close();
});

function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error('timed out'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('wire compatibility', () => {
  it('a stock sharedb client over JSON and a Tandem client over msgpack co-edit one document', async () => {
    const socket = new WebSocket(server.url());
    const stock = new ShareDBClient.Connection(socket as never);
    const stockDoc = stock.get('notes', 'interop');
    await new Promise<void>((resolve, reject) =>
      stockDoc.create({ text: 'hello' }, 'json1', (e) => (e ? reject(e) : resolve())),
    );
    await new Promise<void>((resolve, reject) => stockDoc.subscribe((e) => (e ? reject(e) : resolve())));

    const client = connect(server.url(), { codec: 'msgpack', WebSocket });
    const doc = client.doc<{ text: string }>('notes', 'interop');
    await doc.subscribe();
    expect(doc.data).toEqual({ text: 'hello' });
    const authors: (string | undefined)[] = [];
    doc.on('change', (change) => authors.push(change.author?.id));

    const text = doc.text(['text']);
    await text.insert(5, ' world');
    await new Promise<void>((resolve, reject) =>
      stockDoc.submitOp(['text', { es: [0, 'Oh, '] }], {}, (e) => (e ? reject(e) : resolve())),
    );
    await until(() => stockDoc.data.text === 'Oh, hello world' && doc.data?.text === 'Oh, hello world');
    expect(authors.filter(Boolean).length).toBe(1);
    expect(authors.find(Boolean)).toMatch(/^anon-/);
    expect(server.tandem.metrics().errors).toEqual({});
    stock.close();
    await client.close();
  });

  it('a stock client in its own process (ot-json1, plain ws, no Tandem code) co-edits with a Tandem msgpack client', async () => {
    const client = connect(server.url(), { codec: 'msgpack', WebSocket });
    const doc = client.doc<{ text: string }>('notes', 'stock-process');
    await doc.create({ text: 'start' });
    await doc.subscribe();
    const fixture = fileURLToPath(new URL('./fixtures/stock-client.cjs', import.meta.url));
    const child = spawn(process.execPath, [fixture, server.url(), 'tandem!'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => doc.data?.text.includes(' stock') === true, 10_000);
    await doc.text(['text']).insert(0, 'tandem! ');
    expect(await exited).toBe(0);
    const stock = JSON.parse(out);
    await until(() => doc.version === stock.v);
    expect(stock.data).toEqual(doc.data);
    expect(doc.data?.text).toBe('tandem! start stock');
    await client.close();
  });
});

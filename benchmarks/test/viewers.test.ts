/**
 * The room shape's viewers count ops without decoding them and then prove, against the server's
 * state, that they received all of them. These tests drive them against tiny fake servers speaking
 * just enough protocol, so both outcomes — complete and short — are exercised deterministically.
 */
import type { AddressInfo } from 'node:net';
import { decode, encode } from '@msgpack/msgpack';
import { batchedJsonCodec, msgpackCodec, plainJsonCodec } from '@tandem/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { LoadStats } from '../src/e2e/stats';
import type { LoadConfig, SystemName } from '../src/e2e/types';
import { occurrences, viewerOpener } from '../src/e2e/viewers';

const msgpack = msgpackCodec({ encode: (v) => encode(v, { ignoreUndefined: true }), decode });

const op = (v: number) => ({
  a: 'op',
  c: 'rooms',
  d: 'r',
  v,
  src: '~abc',
  seq: v,
  op: ['text', { es: [v, 'x'] }],
  au: { id: 'u' },
});

describe('counting ops in a frame without decoding it', () => {
  it('finds every op message in JSON and msgpack batches, and nothing in other messages', () => {
    const messages = [op(1), { a: 'f', c: 'rooms', d: 'r', data: { v: 3 } }, op(2), op(3)];
    const json = Buffer.from(
      batchedJsonCodec.batch(messages.map((m) => batchedJsonCodec.encode(m))) as string,
    );
    const packed = Buffer.from(msgpack.batch(messages.map((m) => msgpack.encode(m))) as Uint8Array);
    expect(occurrences(json, Buffer.from('"a":"op"'))).toBe(3);
    expect(occurrences(packed, Buffer.from([0xa1, 0x61, 0xa2, 0x6f, 0x70]))).toBe(3);
    expect(occurrences(Buffer.from(plainJsonCodec.encode(op(1)) as string), Buffer.from('"a":"op"'))).toBe(1);
    expect(occurrences(Buffer.from('{"a":"hs"}'), Buffer.from('"a":"op"'))).toBe(0);
  });
});

/** A fake ShareDB server: answers `s` at version 1, then sends `ops` ops, and answers `f` with `fetchV`. */
async function fakeShareDb(wire: 'plain' | 'json' | 'msgpack', ops: number, fetchV: number) {
  const codec = wire === 'msgpack' ? msgpack : wire === 'json' ? batchedJsonCodec : plainJsonCodec;
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (p) => [...p][0] ?? false });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data: Buffer) => {
      const message = codec.decode(wire === 'msgpack' ? new Uint8Array(data) : data.toString()) as {
        a: string;
      };
      if (message.a === 's') {
        ws.send(codec.encode({ data: { v: 1, type: 'json1' }, a: 's', c: 'rooms', d: 'r' }));
        const frames = Array.from({ length: ops }, (_, i) => codec.encode(op(i + 1)));
        // Batching codecs get them in one batch; plain JSON one per frame.
        if (codec.batching) ws.send(codec.batch(frames));
        else for (const frame of frames) ws.send(frame);
      }
      if (message.a === 'f') ws.send(codec.encode({ data: { v: fetchV }, a: 'f', c: 'rooms', d: 'r' }));
    });
  });
  await new Promise((resolve) => wss.once('listening', resolve));
  return wss;
}

let server: WebSocketServer | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

const configFor = (system: SystemName, url: string): LoadConfig => ({
  kind: 'load',
  system,
  url,
  clients: 2,
  typists: 1,
  rate: 0,
  warmupMs: 0,
  measureMs: 0,
  drainMs: 0,
  collection: 'rooms',
  docId: 'r',
  seed: 1,
});
const urlOf = (wss: WebSocketServer) => `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;

describe('ShareDB-protocol viewers prove completeness against a fetch', () => {
  const cases = [
    ['tandem-stock', 'plain'],
    ['tandem-json', 'json'],
    ['tandem-msgpack', 'msgpack'],
  ] as const;
  for (const [system, wire] of cases) {
    it(`${system}: complete when subscribed version + counted ops = fetched version, short otherwise`, async () => {
      server = await fakeShareDb(wire, 4, 5);
      const stats = new LoadStats();
      stats.windowStart = 0;
      const viewer = await viewerOpener(system, configFor(system, urlOf(server)), stats)(1);
      expect(await viewer.verify(0, performance.now() + 2_000)).toBeUndefined();
      expect(viewer.received).toBe(4);
      expect(stats.viewerOps).toBe(4);
      viewer.close();
      server.close();

      // The server is at v6 but only 4 ops after v1 arrive: the viewer says so by the deadline.
      server = await fakeShareDb(wire, 4, 6);
      const short = await viewerOpener(system, configFor(system, urlOf(server)), new LoadStats())(1);
      expect(await short.verify(0, performance.now() + 200)).toBe('counted ops up to v5, server at v6');
      short.close();
    });
  }
});

describe('bare ws viewers', () => {
  it('are complete when they received every keystroke the typists sent', async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server?.once('listening', resolve));
    const viewer = await viewerOpener('ws', configFor('ws', urlOf(server)), new LoadStats())(1);
    for (const ws of server.clients) for (let i = 0; i < 3; i++) ws.send('{"t":1}');
    expect(await viewer.verify(3, performance.now() + 2_000)).toBeUndefined();
    expect(await viewer.verify(4, performance.now() + 100)).toBe('received 3 of 4 keystrokes');
    viewer.close();
  });
});

/**
 * Frames written straight to the upgraded socket (transport/ws-frames.ts): a real ws client must get
 * exactly what `ws.send` would have sent — text as text, bytes as binary, every length encoding, in
 * order — and nothing after the close frame; backpressure must still show in `bufferedAmount`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { fromUpgradedWs, type TandemSocket } from '../src/transport/socket';
import { until } from './helpers';

interface Received {
  data: string | Buffer;
  binary: boolean;
}

interface Pair {
  server: TandemSocket;
  client: WebSocket;
  received: Received[];
  /** Writes to the upgraded socket (ws's own, and frames written there directly). */
  rawWrites: () => number;
  /** The first byte of every write: 0x81/0x82 start a text/binary frame, 0x88 a close frame. */
  firstBytes: number[];
  closedWith: () => number | undefined;
}

const open: { http: Server; wss: WebSocketServer; clients: WebSocket[] }[] = [];

afterEach(async () => {
  for (const { http, wss, clients } of open.splice(0)) {
    for (const c of clients) c.terminate();
    wss.close();
    await new Promise((resolve) => http.close(resolve));
  }
});

/** `count` connected pairs on one server; `deflate` negotiates permessage-deflate. */
async function pairs(count: number, deflate = false): Promise<Pair[]> {
  const http = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: deflate });
  const accepted: { socket: TandemSocket; raw: Duplex }[] = [];
  http.on('upgrade', (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (ws) =>
      accepted.push({ socket: fromUpgradedWs(ws, socket), raw: socket }),
    ),
  );
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const clients: WebSocket[] = [];
  open.push({ http, wss, clients });
  const { port } = http.address() as AddressInfo;
  const result: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: deflate });
    clients.push(client);
    const received: Received[] = [];
    let closedWith: number | undefined;
    client.on('message', (data, binary) =>
      received.push({ data: binary ? Buffer.from(data as Buffer) : String(data), binary }),
    );
    client.on('close', (code) => {
      closedWith = code;
    });
    await new Promise((resolve) => client.once('open', resolve));
    await until(() => accepted.length === i + 1, 2_000, 'accepted');
    const { socket, raw } = accepted[i];
    const firstBytes: number[] = [];
    const write = raw.write.bind(raw) as (...args: unknown[]) => boolean;
    raw.write = ((...args: unknown[]) => {
      const chunk = args[0];
      firstBytes.push(typeof chunk === 'string' ? -1 : (chunk as Uint8Array)[0]);
      return write(...args);
    }) as typeof raw.write;
    result.push({
      server: socket,
      client,
      received,
      rawWrites: () => firstBytes.length,
      firstBytes,
      closedWith: () => closedWith,
    });
  }
  return result;
}

const same = (frame: string | Uint8Array, got: Received) =>
  typeof frame === 'string'
    ? !got.binary && got.data === frame
    : got.binary && Buffer.compare(Buffer.from(frame), got.data as Buffer) === 0;

/** Lengths around the 7-, 16- and 64-bit length encodings. */
const length = fc.constantFrom(0, 1, 125, 126, 127, 65_535, 65_536, 70_000);
/** The same boundaries in UTF-8 bytes, not characters: 2- and 3-byte characters. */
const multiByte = fc.constantFrom(
  `${'é'.repeat(62)}a`, // 125 bytes
  'é'.repeat(63), // 126
  '€'.repeat(21_845), // 65,535
  `${'€'.repeat(21_845)}a`, // 65,536
  '€'.repeat(21_846), // 65,538
);
const frame = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  length.chain((n) => fc.string({ unit: 'grapheme-ascii', minLength: n, maxLength: n })),
  multiByte,
  fc.uint8Array({ maxLength: 300 }),
  length.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
);

const describeFrame = (f: string | Uint8Array) =>
  typeof f === 'string' ? `text ${Buffer.byteLength(f)} B` : `binary ${f.byteLength} B`;
const describeReceived = (r: Received) =>
  r.binary ? `binary ${(r.data as Buffer).byteLength} B` : `text ${Buffer.byteLength(r.data as string)} B`;

describe('frames written to the upgraded socket', () => {
  it('reach a ws client exactly as sent, in order, on every socket of a fan-out', async () => {
    const room = await pairs(3);
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 6 }), async (frames) => {
        for (const p of room) p.received.length = 0;
        // One frame to the whole room at a time, as a fan-out does (the framed copy is shared).
        for (const f of frames) for (const p of room) p.server.send(f);
        sent += frames.length;
        for (const p of room) {
          await until(() => p.received.length === frames.length, 5_000, 'all frames');
          expect(p.received.map(describeReceived)).toEqual(frames.map(describeFrame));
          expect(frames.filter((f, i) => !same(f, p.received[i]))).toEqual([]);
        }
      }),
      { numRuns: 60 },
    );
    // Each frame was one write of its own to the socket; through ws's sender it would be two
    // (header and payload, corked).
    for (const p of room) expect(p.rawWrites()).toBe(sent);
  });

  it("keeps frames and ws's own control frames in the order they were sent", async () => {
    const [p] = await pairs(1);
    const seen: string[] = [];
    p.client.on('message', (data) => seen.push(String(data)));
    p.client.on('ping', () => seen.push('ping'));
    p.server.send('one');
    p.server.ping?.();
    p.server.send('two');
    p.server.ping?.();
    p.server.send('three');
    await until(() => seen.length === 5, 2_000, 'frames and pings');
    expect(seen).toEqual(['one', 'ping', 'two', 'ping', 'three']);
  });

  it('writes nothing after the close frame', async () => {
    const [p] = await pairs(1);
    p.server.send('before');
    p.server.close(1000, 'bye');
    p.server.send('after');
    await until(() => p.closedWith() !== undefined, 2_000, 'closed');
    expect(p.closedWith()).toBe(1000);
    expect(p.received.map((r) => r.data)).toEqual(['before']);
    // A ws client ignores data after a close frame, so look at the bytes: no frame follows it.
    const closeAt = p.firstBytes.indexOf(0x88);
    expect(closeAt).toBeGreaterThan(0);
    expect(p.firstBytes.slice(closeAt).filter((b) => b === 0x81 || b === 0x82)).toEqual([]);
  });

  it('counts what the socket has not written yet in bufferedAmount', async () => {
    const [p] = await pairs(1);
    p.client.pause();
    const chunk = 'x'.repeat(64 * 1024);
    // Until the kernel's buffers are full (loopback: a few MB) and the socket starts queuing.
    let sent = 0;
    for (; sent < 2_000 && p.server.bufferedAmount === 0; sent++) p.server.send(chunk);
    expect(p.server.bufferedAmount).toBeGreaterThan(0);
    p.client.resume();
    await until(() => p.received.length === sent, 5_000, 'drained');
    expect(p.received.every((r) => r.data === chunk)).toBe(true);
  });

  it('leaves a socket with extensions (permessage-deflate) to ws', async () => {
    const [p] = await pairs(1, true);
    expect(p.client.extensions).toContain('permessage-deflate');
    const text = JSON.stringify({ a: 'op', op: 'x'.repeat(4_000) });
    p.server.send(text);
    // ws compresses a message over its 1 KB threshold asynchronously; a frame written here would
    // already be on the socket.
    expect(p.rawWrites()).toBe(0);
    p.server.send(new Uint8Array([1, 2, 3]));
    await until(() => p.received.length === 2, 2_000, 'received');
    expect(same(text, p.received[0])).toBe(true);
    expect(same(new Uint8Array([1, 2, 3]), p.received[1])).toBe(true);
  });
});

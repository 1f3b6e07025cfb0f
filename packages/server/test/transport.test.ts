import { ErrorCode } from '@tandem/protocol';
import { attach, createTandem, type TandemSocket } from '@tandem/server';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { rawSocket, until } from './helpers';

/** A socket that never drains: what a slow consumer looks like to the server. */
function stuckSocket() {
  const sent: (string | Uint8Array)[] = [];
  let closedWith: number | undefined;
  let onMessage: (frame: string | Uint8Array) => void = () => {};
  const closeListeners: ((code: number) => void)[] = [];
  const socket: TandemSocket = {
    protocol: 'tandem.json.v1',
    bufferedAmount: 0,
    send: (frame) => {
      sent.push(frame);
      (socket as { bufferedAmount: number }).bufferedAmount +=
        typeof frame === 'string' ? frame.length : frame.byteLength;
    },
    close: (code) => {
      closedWith = code;
      for (const l of closeListeners) l(code);
    },
    terminate: () => socket.close(1006, ''),
    listen: (l) => {
      onMessage = (frame) => l.socketMessage(frame);
      closeListeners.push((code) => l.socketClosed(code));
    },
  };
  return { socket, sent, closed: () => closedWith, receive: (frame: string) => onMessage(frame) };
}

describe('transport limits', () => {
  it('closes a slow consumer with a typed BACKPRESSURE error once its buffer passes the bound', async () => {
    const tandem = createTandem({ storage: 'memory:', maxBufferedBytes: 2_000 });
    await tandem.ready;
    const backend = await tandem.backend();
    const writer = backend.connect();
    const doc = writer.get('bp', 'doc');
    await new Promise<void>((resolve, reject) =>
      doc.create({ text: '' }, 'json1', (e) => (e ? reject(e) : resolve())),
    );

    const slow = stuckSocket();
    tandem.handleConnection(slow.socket);
    slow.receive(JSON.stringify({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 }));
    slow.receive(JSON.stringify({ a: 's', c: 'bp', d: 'doc' }));
    await until(() => slow.sent.some((f) => String(f).includes('"a":"s"')), 2_000, 'subscribed');
    for (let i = 0; i < 100 && slow.closed() === undefined; i++) {
      await new Promise<void>((resolve, reject) =>
        doc.submitOp(['text', { es: ['x'.repeat(100)] }], {}, (e) => (e ? reject(e) : resolve())),
      );
    }
    await until(() => slow.closed() !== undefined, 2_000, 'closed');
    expect(slow.closed()).toBe(1013);
    expect(String(slow.sent.at(-1))).toContain(ErrorCode.BACKPRESSURE);
    expect(tandem.metrics().errors.BACKPRESSURE).toBe(1);
    await tandem.close();
  });

  it('terminates a socket that stops answering pings within two heartbeat intervals', async () => {
    const server = await attach({ port: 0 }, { storage: 'memory:', heartbeatMs: 100 });
    const ws = new WebSocket(server.url(), { autoPong: false });
    await new Promise((resolve) => ws.once('open', resolve));
    const opened = Date.now();
    const code = await new Promise<number>((resolve) => ws.once('close', resolve));
    expect(code).toBe(1006);
    expect(Date.now() - opened).toBeLessThan(250);
    await server.close();
  });

  it('close(): refuses new upgrades, closes sockets with 1001 and resolves', async () => {
    const server = await attach({ port: 0 }, { storage: 'memory:' });
    const url = server.url();
    const { ws } = await rawSocket(url, 'tandem.json.v1');
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    await server.close();
    expect(await closed).toBe(1001);
    expect(server.tandem.closing).toBe(true);
  });
});

describe('attach to a host http.Server', () => {
  it('shares the host port: HTTP routes and other upgrade paths keep working', async () => {
    const { createServer } = await import('node:http');
    const { WebSocketServer } = await import('ws');
    const host = createServer((_request, response) => response.end('host page'));
    const other = new WebSocketServer({ noServer: true });
    host.on('upgrade', (request, socket, head) => {
      if (request.url === '/other')
        other.handleUpgrade(request, socket, head, (ws) => ws.send('other endpoint'));
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    const attached = await attach(host, { storage: 'memory:' });
    const { port } = host.address() as { port: number };
    expect(attached.url()).toBe(`ws://127.0.0.1:${port}/tandem`);

    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('host page');
    const ws = new WebSocket(`ws://127.0.0.1:${port}/other`);
    expect(String(await new Promise((resolve) => ws.once('message', resolve)))).toBe('other endpoint');
    ws.close();
    const { ws: tandemSocket, frames } = await rawSocket(attached.url(), 'tandem.json.v1');
    await until(() => frames.some((f) => f.t === 'hello'), 2_000, 'hello');
    tandemSocket.close();

    await attached.close();
    other.close();
    await new Promise<void>((resolve) => host.close(() => resolve()));
  });
});

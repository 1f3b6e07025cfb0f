import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, createTandem } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { client, rawSocket, until } from './helpers';

let server: AttachedTandem;

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      maxMessageBytes: 4_096,
      hooks: {
        authenticate: ({ token }) => {
          if (token === undefined || !token.startsWith('user:'))
            throw new TandemError(ErrorCode.UNAUTHORIZED, 'bad token');
          return { id: token.slice(5), name: token.slice(5).toUpperCase() };
        },
      },
    },
  );
});
afterAll(async () => {
  await server.close();
});

/** Error answers: Tandem `error` messages, and ShareDB replies carrying `error` (a refused request). */
const errorsOf = (frames: any[]) =>
  frames
    .filter((f) => (f.a === 'tandem' && f.t === 'error') || (f.a !== 'tandem' && f.error !== undefined))
    .map((f) => f.error.code);

describe('bad input', () => {
  it('rejects unknown options and hook names at creation', () => {
    expect(() => createTandem({ hooks: { onWhatever: () => {} } as never })).toThrow(/unknown hook/);
    expect(() => createTandem({ maxPayloadBytes: 1, maxMessageBytes: 2 })).toThrow(TandemError);
    try {
      createTandem({ colour: 'red' } as never);
    } catch (error) {
      expect((error as TandemError).code).toBe(ErrorCode.INVALID_CONFIG);
    }
  });

  it('a store that failed to open answers authentication with a generic STORAGE_UNAVAILABLE, not its cause', async () => {
    const broken = createTandem({
      storage: 'postgres://secret-name@127.0.0.1:1/test',
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      hooks: { authenticate: () => ({ id: 'ann' }) },
    });
    await expect(broken.ready).rejects.toBeDefined();
    const request = { url: '/tandem?token=t', headers: {}, socket: {} } as never;
    const refused = await broken.authenticate(request).catch((error: unknown) => error as TandemError);
    expect(refused).toMatchObject({
      code: ErrorCode.STORAGE_UNAVAILABLE,
      message: 'the server is not ready',
    });
    expect(JSON.stringify((refused as TandemError).toJSON())).not.toContain('secret-name');
    await broken.close();
  });

  it('answers an unauthenticated upgrade with HTTP 401 before a socket opens', async () => {
    const ws = new WebSocket(server.url());
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });

  it('answers malformed, unknown and oversized frames with typed errors; the socket and other clients carry on', async () => {
    const url = `${server.url()}?token=user:bystander`;
    const bystander = client(url, { codec: 'msgpack' });
    const doc = bystander.doc<{ n: number[] }>('errors', 'd1');
    await doc.create({ n: [] });
    await doc.subscribe();

    const { ws, frames } = await rawSocket(`${server.url()}?token=user:mallory`, 'tandem.json.v1');
    ws.send('{not json');
    ws.send('[1,2,3]');
    ws.send(JSON.stringify({ a: 'explode' }));
    ws.send(JSON.stringify({ a: 'tandem' }));
    ws.send(JSON.stringify({ a: 'op', c: 'errors', d: 'd1', v: 0, seq: 1, op: ['x'.repeat(5_000)] }));
    // One error per bad message: the batch [1,2,3] is three non-object messages; the oversized op is
    // answered as ShareDB answers an op (c, d, seq and error), so its sender rolls it back.
    await until(() => errorsOf(frames).length >= 7, 5_000, 'seven errors');
    expect(errorsOf(frames)).toEqual([...Array(6).fill(ErrorCode.INVALID_MESSAGE), ErrorCode.TOO_LARGE]);
    expect(frames.find((f) => f.error?.code === ErrorCode.TOO_LARGE)).toMatchObject({
      a: 'op',
      c: 'errors',
      d: 'd1',
      seq: 1,
    });

    // Still healthy: the same socket completes a ShareDB handshake.
    ws.send(JSON.stringify({ a: 'hs', id: null, protocol: 1, protocolMinor: 1 }));
    await until(() => frames.some((f) => f.a === 'hs' && typeof f.id === 'string'), 5_000, 'handshake');
    expect(ws.readyState).toBe(WebSocket.OPEN);

    // The bystander never noticed.
    await doc.submit(['n', 0, { i: 1 }]);
    expect(doc.data?.n).toEqual([1]);
    const errors = server.tandem.metrics().errors;
    expect(errors.INVALID_MESSAGE).toBeGreaterThanOrEqual(4);
    expect(errors.TOO_LARGE).toBe(1);
    ws.close();
    await bystander.close();
  });

  it('closes a frame over the hard payload limit without affecting others', async () => {
    const { ws } = await rawSocket(`${server.url()}?token=user:bulk`, 'tandem.json.v1');
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send('x'.repeat(4 * 4_096 + 10));
    expect(await closed).toBe(1009);
  });
});

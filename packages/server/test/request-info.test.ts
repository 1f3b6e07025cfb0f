import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { keepRequest } from '../src/transport/request-info';

const upgrade = (key: string) =>
  ({
    url: '/tandem?token=t',
    headers: {
      host: 'example.test',
      cookie: 'sid=1',
      'user-agent': 'Browser/1',
      'sec-websocket-key': key,
      'x-tenant': 'acme',
    },
    socket: { remoteAddress: '10.0.0.1' },
  }) as unknown as IncomingMessage;

describe('keepRequest (what a connection keeps of its upgrade request)', () => {
  it('keeps the URL, the address and every header but the handshake key', () => {
    const kept = keepRequest(upgrade('abc=='));
    expect(kept).toEqual({
      url: '/tandem?token=t',
      remoteAddress: '10.0.0.1',
      headers: { host: 'example.test', cookie: 'sid=1', 'user-agent': 'Browser/1', 'x-tenant': 'acme' },
    });
  });
});

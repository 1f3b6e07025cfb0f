import { Writable } from 'node:stream';
import { ErrorCode } from '@tandem/protocol';
import { attach, createTokens, type SecurityEvent, tokenAuth } from '@tandem/server';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { client, rawSocket, until, upgrade, withToken } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'audit-test-secret-0123456789abcdefgh' }] });

describe('security audit', () => {
  it('auth failures, refused origins, forbidden reads, invalid input and revocations are recorded, logged and counted', async () => {
    const events: SecurityEvent[] = [];
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const server = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        hooks: {
          authenticate: tokenAuth(tokens),
          authorize: ({ principal, id }) => id !== 'secret' || principal.id === 'owner',
        },
        audit: { logger: pino(stream), sink: (event) => void events.push(event) },
      },
    );
    const token = await tokens.issue({ sub: 'mia', sid: 's-mia' });
    const mia = client(server.url(), { token });
    try {
      expect((await upgrade(withToken(server.url(), 'forged.token.here'))).status).toBe(401);
      expect((await upgrade(withToken(server.url(), token), { Origin: 'https://evil.example' })).status).toBe(
        403,
      );
      await expect(mia.doc('notes', 'secret').fetch()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
      const { ws } = await rawSocket(withToken(server.url(), token));
      ws.send('{not json');
      await server.tandem.sessions.revoke('s-mia', 'audit test');
      await until(() => events.some((e) => e.kind === 'invalid_input') && mia.status === 'ended');
      ws.close();

      const kinds = new Set(events.map((e) => e.kind));
      for (const kind of [
        'auth_failed',
        'origin_refused',
        'forbidden',
        'invalid_input',
        'session_revoked',
        'session_ended',
      ])
        expect(kinds, kind).toContain(kind);
      expect(events.find((e) => e.kind === 'auth_failed')).toMatchObject({
        code: ErrorCode.UNAUTHORIZED,
        details: { reason: 'malformed' },
      });
      expect(events.find((e) => e.kind === 'forbidden')).toMatchObject({
        userId: 'mia',
        code: ErrorCode.FORBIDDEN,
      });
      const counts = server.tandem.metrics().security;
      expect(counts.auth_failed).toBe(1);
      expect(counts.origin_refused).toBe(1);
      expect(counts.session_revoked).toBe(1);
      await until(() => lines.length >= events.length);
      expect(lines.every((l) => l.msg === 'security event' && typeof l.kind === 'string')).toBe(true);
    } finally {
      await mia.close();
      await server.close();
    }
  });

  it('a failing sink never affects requests', async () => {
    const server = await attach(
      { port: 0 },
      {
        storage: 'memory:',
        hooks: { authorize: ({ id }) => id !== 'secret' },
        audit: {
          sink: () => {
            throw new Error('sink down');
          },
        },
      },
    );
    const c = client(server.url());
    try {
      await expect(c.doc('notes', 'secret').fetch()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
      await c.doc('notes', 'fine').create({ ok: true });
      expect(server.tandem.metrics().security.forbidden).toBe(1);
    } finally {
      await c.close();
      await server.close();
    }
  });
});

import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@tandem/protocol';
import { attach, createTokens, tokenAuth } from '@tandem/server';
import { adminHandler } from '@tandem/server/express';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'admin-test-secret-0123456789abcdefghij' }] });

describe('admin handler', () => {
  it('lists and revokes sessions for admins only (authorize with action admin)', async () => {
    const app = express();
    const attached = await attach(app, {
      storage: 'memory:',
      hooks: {
        authenticate: tokenAuth(tokens),
        authorize: ({ principal, action }) =>
          action !== 'admin' || (Array.isArray(principal.roles) && principal.roles.includes('admin')),
      },
    });
    app.use(
      '/admin',
      adminHandler(attached.tandem, {
        principalOf: async (request) => {
          const header = request.headers.authorization;
          if (header === undefined) return undefined;
          const verified = await tokens.verify(header.replace(/^Bearer /, ''));
          return { id: verified.sub, roles: verified.roles };
        },
      }),
    );
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
    const admin = { authorization: `Bearer ${await tokens.issue({ sub: 'root', roles: ['admin'] })}` };
    const user = { authorization: `Bearer ${await tokens.issue({ sub: 'nina' })}` };
    const c = client(attached.url(), { token: await tokens.issue({ sub: 'nina', sid: 's-nina' }) });
    try {
      await c.online();
      expect((await fetch(`${base}/sessions`)).status).toBe(401);
      const refused = await fetch(`${base}/sessions`, { headers: user });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: ErrorCode.FORBIDDEN });
      const listed = await fetch(`${base}/sessions?userId=nina`, { headers: admin });
      expect(listed.status).toBe(200);
      expect(await listed.json()).toMatchObject([{ id: 's-nina', userId: 'nina' }]);
      expect((await fetch(`${base}/users/nina/revoke`, { method: 'POST', headers: user })).status).toBe(403);
      const revoked = await fetch(`${base}/users/nina/revoke`, { method: 'POST', headers: admin });
      expect(await revoked.json()).toMatchObject([
        { id: 's-nina', state: 'revoked', reason: 'revoked by root' },
      ]);
      await until(() => c.status === 'ended', 5_000, 'ended');
      const health = await fetch(`${base}/health`, { headers: admin });
      expect(await health.json()).toMatchObject({ ready: true, store: true });
      expect((await fetch(`${base}/nope`, { headers: admin })).status).toBe(404);
    } finally {
      await c.close();
      await attached.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

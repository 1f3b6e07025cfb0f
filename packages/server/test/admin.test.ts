import type { AddressInfo } from 'node:net';
import { type as tandemType } from '@tandem/ot';
import { ErrorCode } from '@tandem/protocol';
import { attach, createTokens, tokenAuth } from '@tandem/server';
import { adminHandler } from '@tandem/server/express';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'admin-test-secret-0123456789abcdefghij' }] });

/** An Express app with Tandem and the admin router (admins: principals with role `admin`). */
async function adminApp(mount: (app: express.Express, handler: express.RequestHandler) => void) {
  const app = express();
  const attached = await attach(app, {
    storage: 'memory:',
    hooks: {
      authenticate: tokenAuth(tokens),
      authorize: ({ principal, action }) =>
        action !== 'admin' || (Array.isArray(principal.roles) && principal.roles.includes('admin')),
    },
  });
  mount(
    app,
    adminHandler(attached.tandem, {
      principalOf: async (request) => {
        const header = request.headers.authorization;
        if (header === undefined) return undefined;
        const verified = await tokens.verify(header.replace(/^Bearer /, ''));
        return { id: verified.sub, name: verified.name, roles: verified.roles };
      },
    }) as never,
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    attached,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await attached.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('admin handler', () => {
  it('lists and revokes sessions for admins only (authorize with action admin)', async () => {
    const { attached, origin, close } = await adminApp((app, handler) => app.use('/admin', handler));
    const base = `${origin}/admin`;
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
      // Bad percent-encoding in the path is the caller's error, not a 500.
      const garbled = await fetch(`${base}/users/%E0%A4%A/revoke`, { method: 'POST', headers: admin });
      expect(garbled.status).toBe(400);
      expect(await garbled.json()).toMatchObject({
        code: ErrorCode.INVALID_MESSAGE,
        details: { reason: 'url' },
      });
    } finally {
      await c.close();
      await close();
    }
  });
});

describe('admin routes for named versions and revert', () => {
  it('lists, creates and reverts to named versions for admins only; bad input gets typed 4xx errors', async () => {
    const { attached, origin, close } = await adminApp((app, handler) => app.use('/admin', handler));
    const base = `${origin}/admin/documents/notes/plan`;
    const admin = {
      authorization: `Bearer ${await tokens.issue({ sub: 'root', name: 'Root', roles: ['admin'] })}`,
      'content-type': 'application/json',
    };
    const user = { authorization: `Bearer ${await tokens.issue({ sub: 'nina' })}` };
    const post = (url: string, body: unknown, headers: Record<string, string> = admin) =>
      fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const c = client(attached.url(), { token: await tokens.issue({ sub: 'nina' }) });
    const ref = { collection: 'notes', id: 'plan' };
    try {
      const doc = c.doc<{ title: string; n: number }>('notes', 'plan');
      await doc.create({ title: 'draft', n: 1 });
      await doc.subscribe();
      await doc.submit(['n', { r: true, i: 2 }]);

      // Forbidden without the admin role, unauthorized without a principal; nothing changes.
      expect((await fetch(`${base}/versions`)).status).toBe(401);
      for (const refused of [
        await fetch(`${base}/versions`, { headers: user }),
        await post(`${base}/versions`, { label: 'x' }, user),
        await post(`${base}/revert`, { version: 1 }, user),
      ]) {
        expect(refused.status).toBe(403);
        expect(await refused.json()).toMatchObject({ code: ErrorCode.FORBIDDEN });
      }

      const created = await post(`${base}/versions`, { label: 'before-edit', description: 'two fields' });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({
        label: 'before-edit',
        description: 'two fields',
        version: 2,
        author: { id: 'root', name: 'Root' },
        checksum: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect((await post(`${base}/versions`, { label: 'first', version: 1 })).status).toBe(201);
      const history = await attached.tandem.history();
      const atNamed = (await history?.snapshotAt(ref, 2))?.data;
      const atFirst = (await history?.snapshotAt(ref, 1))?.data;

      await doc.submit(['title', { r: true, i: 'final' }]);
      await doc.submit(['n', { r: true, i: 3 }]);
      const listed = await fetch(`${base}/versions`, { headers: admin });
      expect(listed.status).toBe(200);
      expect((await listed.json()).map((v: { label: string }) => v.label)).toEqual(['first', 'before-edit']);

      // Revert to a named version: one new op by the admin; the document equals the old snapshot.
      const reverted = await post(`${base}/revert`, { label: 'before-edit', message: 'undo the rename' });
      expect(reverted.status).toBe(200);
      expect(await reverted.json()).toEqual({ revertedTo: 2, changed: true, version: 5 });
      expect((await history?.current(ref))?.data).toEqual(atNamed);
      await until(() => doc.data?.title === 'draft' && doc.data?.n === 2, 5_000, 'revert reaches the client');
      const [revertOp] = (await history?.page(ref, { limit: 1 }))?.entries ?? [];
      expect(revertOp).toMatchObject({
        author: { id: 'root' },
        message: 'undo the rename',
        intent: 'revert',
      });

      // Revert to a plain version; reverting again to the same state changes nothing.
      expect(await (await post(`${base}/revert`, { version: 1 })).json()).toEqual({
        revertedTo: 1,
        changed: true,
        version: 6,
      });
      expect((await history?.current(ref))?.data).toEqual(atFirst);
      expect(await (await post(`${base}/revert`, { version: 1 })).json()).toEqual({
        revertedTo: 1,
        changed: false,
        version: 6,
      });

      const refusals: [Response, number, string, string | undefined][] = [
        [await post(`${base}/revert`, {}), 400, ErrorCode.INVALID_MESSAGE, 'target'],
        [
          await post(`${base}/revert`, { version: 1, label: 'first' }),
          400,
          ErrorCode.INVALID_MESSAGE,
          'target',
        ],
        [await post(`${base}/revert`, { version: -1 }), 400, ErrorCode.INVALID_MESSAGE, 'version'],
        [await post(`${base}/revert`, { version: '1' }), 400, ErrorCode.INVALID_MESSAGE, 'version'],
        [await post(`${base}/revert`, { label: 7 }), 400, ErrorCode.INVALID_MESSAGE, 'label'],
        [await post(`${base}/revert`, { version: 1, message: 5 }), 400, ErrorCode.INVALID_MESSAGE, 'message'],
        [await post(`${base}/revert`, '{not json'), 400, ErrorCode.INVALID_MESSAGE, 'json'],
        [await post(`${base}/revert`, '[1]'), 400, ErrorCode.INVALID_MESSAGE, 'body'],
        [await post(`${base}/revert`, 'x'.repeat(70_000)), 413, ErrorCode.TOO_LARGE, undefined],
        [await post(`${base}/versions`, {}), 400, ErrorCode.INVALID_MESSAGE, 'label'],
        [await post(`${base}/versions`, { label: '' }), 400, ErrorCode.INVALID_MESSAGE, 'label'],
        [
          await post(`${base}/versions`, { label: 'x', version: 1.5 }),
          400,
          ErrorCode.INVALID_MESSAGE,
          'version',
        ],
        [await post(`${base}/versions`, { label: 'first' }), 409, ErrorCode.ALREADY_EXISTS, undefined],
        [
          await post(`${base}/versions`, { label: 'later', version: 99 }),
          404,
          ErrorCode.NOT_FOUND,
          undefined,
        ],
        [await post(`${base}/revert`, { label: 'nope' }), 404, ErrorCode.NOT_FOUND, undefined],
        [await post(`${base}/revert`, { version: 99 }), 404, ErrorCode.NOT_FOUND, undefined],
        [
          await post(`${origin}/admin/documents/notes/missing/revert`, { version: 0 }),
          404,
          ErrorCode.NOT_FOUND,
          undefined,
        ],
        [await fetch(`${base}/nope`, { headers: admin }), 404, ErrorCode.NOT_FOUND, undefined],
        [
          await fetch(`${origin}/admin/documents/_tandem_sessions/s-1/versions`, { headers: admin }),
          404,
          ErrorCode.NOT_FOUND,
          undefined,
        ],
      ];
      for (const [response, status, code, reason] of refusals) {
        const body = await response.json();
        expect({ status: response.status, code: body.code }).toEqual({ status, code });
        expect(typeof body.message).toBe('string');
        if (reason !== undefined) expect(body.details).toMatchObject({ reason });
      }
      // None of that changed the document.
      expect((await history?.current(ref))?.v).toBe(6);
    } finally {
      await c.close();
      await close();
    }
  });

  it('takes a body express.json() already parsed', async () => {
    const { attached, origin, close } = await adminApp((app, handler) =>
      app.use('/admin', express.json(), handler),
    );
    const admin = {
      authorization: `Bearer ${await tokens.issue({ sub: 'root', roles: ['admin'] })}`,
      'content-type': 'application/json',
    };
    try {
      const backend = await attached.tandem.backend();
      const doc = backend.connect().get('notes', 'parsed');
      await new Promise<void>((resolve, reject) =>
        doc.create({ a: 1 }, tandemType.uri, (e) => (e ? reject(e) : resolve())),
      );
      const created = await fetch(`${origin}/admin/documents/notes/parsed/versions`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ label: 'parsed' }),
      });
      expect(created.status).toBe(201);
      expect(await created.json()).toMatchObject({ label: 'parsed', version: 1 });
    } finally {
      await close();
    }
  });
});

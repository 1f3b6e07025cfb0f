/**
 * History writes under the production setup (`tokenAuth` + `roleAuthorize` with an owner-only
 * `/settings/**` rule), over real sockets and the admin route: reverts, undos, forks and merges act
 * with the caller's whole principal, so the role model decides them exactly as it decides that
 * user's own ops; metadata a client sends never becomes history's own (issue 11, item 14).
 */

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TandemClient } from '@tandem/client';
import { ErrorCode } from '@tandem/protocol';
import {
  type AttachedTandem,
  attach,
  createTokens,
  type DocumentRole,
  roleAuthorize,
  tokenAuth,
} from '@tandem/server';
import { adminHandler } from '@tandem/server/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'history-roles-test-secret-0123456789' }] });
const authenticate = tokenAuth(tokens);

let attached: AttachedTandem;
let http: Server;
let admin: string;
const clients: TandemClient[] = [];

/** A signed-in user whose token grants `role` on every document of `notes`. */
async function as(sub: string, role: DocumentRole): Promise<{ c: TandemClient; token: string }> {
  const token = await tokens.issue({ sub, name: sub.toUpperCase(), grants: { 'notes/*': role } });
  const c = client(attached.url(), { token });
  clients.push(c);
  await c.online();
  return { c, token };
}

beforeAll(async () => {
  const app = express();
  attached = await attach(app, {
    storage: 'memory:',
    hooks: {
      authenticate,
      authorize: roleAuthorize({ pathRules: [{ path: '/settings/**', role: 'owner' }] }),
    },
  });
  // The admin router sees the same principal as the socket: what `tokenAuth` returned.
  app.use(
    '/admin',
    adminHandler(attached.tandem, {
      principalOf: (request) =>
        authenticate({
          request,
          token: request.headers.authorization?.replace(/^Bearer /, ''),
          refresh: false,
        }),
    }) as never,
  );
  http = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http.once('listening', resolve));
  admin = `http://127.0.0.1:${(http.address() as AddressInfo).port}/admin`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await attached.close();
  await new Promise((resolve) => http.close(resolve));
});

interface Plan {
  title: string;
  body: string;
  settings: { public: boolean };
}

describe('history writes with roles (tokenAuth + roleAuthorize)', () => {
  it('owner and editor revert, undo, fork and merge through history calls; a viewer cannot; path rules apply', async () => {
    const olga = await as('olga', 'owner');
    const ed = await as('ed', 'editor');
    const vic = await as('vic', 'viewer');
    const od = olga.c.doc<Plan>('notes', 'plan');
    await od.create({ title: 'Q1', body: 'draft', settings: { public: false } });
    await od.subscribe();
    const edDoc = ed.c.doc<Plan>('notes', 'plan');
    await edDoc.subscribe();
    await edDoc.submit(['title', { r: true, i: 'Q1 plan' }]); // v2, by ed
    await od.submit(['body', { r: true, i: 'final' }]); // v3, by olga
    await until(() => edDoc.data?.body === 'final', 5_000, 'sync');

    // The editor reverts the body (v2: before olga's edit): one op by the editor.
    expect(await ed.c.history('notes', 'plan').revert(2, 'keep the draft')).toEqual({ version: 3 });
    await until(() => od.data?.body === 'draft', 5_000, 'revert reaches the owner');
    const [revert] = (await olga.c.history('notes', 'plan').page({ limit: 1 })).entries;
    expect(revert).toMatchObject({
      author: { id: 'ed', name: 'ED' },
      intent: 'revert',
      message: 'keep the draft',
    });

    // The owner undoes the editor's title edit (v2); then the editor undoes his own latest op.
    expect(await olga.c.history('notes', 'plan').undoOp(2)).toEqual({ version: 4 });
    await until(() => edDoc.data?.title === 'Q1', 5_000, 'undo reaches the editor');
    expect(await ed.c.history('notes', 'plan').undoLast()).toEqual({ version: 5 });
    await until(() => od.data?.body === 'final', 5_000, 'the revert is undone');
    const top = (await vic.c.history('notes', 'plan').page({ limit: 2 })).entries;
    expect(top.map((e) => [e.author?.id, e.intent])).toEqual([
      ['ed', 'undo'],
      ['olga', 'undo'],
    ]);

    // Fork and merge back, as the editor.
    const fork = await ed.c.history('notes', 'plan').fork({ target: { collection: 'notes', id: 'plan-ed' } });
    expect(fork).toMatchObject({ author: { id: 'ed' }, fork: { id: 'plan-ed' } });
    const forked = ed.c.doc<Plan>('notes', 'plan-ed');
    await forked.subscribe();
    await forked.submit(['title', { r: true, i: 'Q1 (ed)' }]);
    expect((await ed.c.history('notes', 'plan-ed').merge()).version).toEqual(expect.any(Number));
    await until(() => od.data?.title === 'Q1 (ed)', 5_000, 'merge reaches the owner');

    // The owner-only subtree: the owner changes it; a revert that would change it back is the
    // editor's write to /settings, refused as his own op would be; the owner's is not.
    await od.submit(['settings', 'public', { r: true, i: true }]);
    const before = (await olga.c.history('notes', 'plan').page({ limit: 1 })).entries[0].version - 1;
    await expect(ed.c.history('notes', 'plan').revert(before)).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(ed.c.history('notes', 'plan').undoLast('olga')).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    expect(await olga.c.history('notes', 'plan').revert(before)).not.toBeNull();
    await until(() => edDoc.data?.settings.public === false, 5_000, "the owner's revert");

    // A viewer (and a commenter) reads history but writes none of it.
    const cam = await as('cam', 'commenter');
    for (const reader of [vic.c, cam.c]) {
      await expect(reader.history('notes', 'plan').page()).resolves.toBeDefined();
      for (const refused of [
        reader.history('notes', 'plan').revert(1),
        reader.history('notes', 'plan').undoOp(2),
        reader.history('notes', 'plan').undoLast('olga'),
        reader.history('notes', 'plan').fork({ target: { collection: 'notes', id: 'plan-vic' } }),
        reader.history('notes', 'plan-ed').merge(),
        reader.history('notes', 'plan').createVersion({ label: 'mine' }),
        reader.doc('notes', 'plan').lock(['title']),
      ]) {
        await expect(refused).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
      }
    }
    expect(
      await attached.tandem.history().then((h) => h?.lineage({ collection: 'notes', id: 'plan-vic' })),
    ).toBeUndefined();
    const data = od.data;
    await od.fetch();
    expect(od.data).toEqual(data);
  });

  it('the admin route reverts with the caller’s whole principal: owners may, editors and viewers may not', async () => {
    const olga = await as('olga', 'owner');
    const ed = await as('ed', 'editor');
    const vic = await as('vic', 'viewer');
    const od = olga.c.doc<Plan>('notes', 'routed');
    await od.create({ title: 'v1', body: '', settings: { public: false } });
    await od.subscribe();
    await od.submit(['settings', 'public', { r: true, i: true }]);
    const post = (token: string, path: string, body: unknown) =>
      fetch(`${admin}/documents/notes/routed/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const token of [ed.token, vic.token]) {
      const refused = await post(token, 'revert', { version: 1 });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ code: ErrorCode.FORBIDDEN });
      expect((await post(token, 'versions', { label: 'x' })).status).toBe(403);
    }
    // Before the fix the owner got 403 too: the route rebuilt the principal as { id, name }.
    expect((await post(olga.token, 'versions', { label: 'first', version: 1 })).status).toBe(201);
    const reverted = await post(olga.token, 'revert', { label: 'first', message: 'private again' });
    expect(reverted.status).toBe(200);
    expect(await reverted.json()).toEqual({ revertedTo: 1, changed: true, version: 3 });
    await until(() => od.data?.settings.public === false, 5_000, 'revert reaches the owner');
    const [op] = (await olga.c.history('notes', 'routed').page({ limit: 1 })).entries;
    expect(op).toMatchObject({ author: { id: 'olga' }, intent: 'revert', message: 'private again' });
  });

  it('metadata a client sends is its own words, never history’s: no undoes, revertTo or server intent', async () => {
    const olga = await as('olga', 'owner');
    const ed = await as('ed', 'editor');
    const od = olga.c.doc<Plan>('notes', 'forged');
    await od.create({ title: 'a', body: 'b', settings: { public: false } });
    await od.subscribe();
    await od.submit(['title', { r: true, i: 'by olga' }]); // v2
    // Ed, through the ShareDB connection under his client, claims to revert and to undo Olga's op.
    const raw = ed.c.connection.get('notes', 'forged') as unknown as {
      submitSource: boolean;
      fetch(cb: (e?: unknown) => void): void;
      submitOp(op: unknown, options: object, cb: (e?: unknown) => void): void;
    };
    raw.submitSource = true;
    await new Promise<void>((resolve, reject) => raw.fetch((e) => (e ? reject(e) : resolve())));
    await new Promise<void>((resolve, reject) =>
      raw.submitOp(
        ['body', { r: true, i: 'by ed' }],
        { source: { intent: 'revert', undoes: 2, revertTo: 0, message: 'approved by olga (owner)\u202e' } },
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    const [forged] = (await olga.c.history('notes', 'forged').page({ limit: 1 })).entries;
    expect(forged).toMatchObject({
      version: 3,
      author: { id: 'ed', name: 'ED' },
      intent: null,
      message: 'approved by olga (owner)',
    });
    const backend = await attached.tandem.backend();
    const [stored] = await new Promise<{ m: Record<string, unknown> }[]>((resolve, reject) =>
      (backend.db as unknown as { getOps: (...a: unknown[]) => void }).getOps(
        'notes',
        'forged',
        2,
        3,
        { metadata: true },
        (e: unknown, ops: { m: Record<string, unknown> }[]) => (e ? reject(e) : resolve(ops)),
      ),
    );
    expect(stored.m).not.toHaveProperty('undoes');
    expect(stored.m).not.toHaveProperty('revertTo');
    expect(stored.m).not.toHaveProperty('intent');
    // Undo trusts only its own records: Olga's op is still hers to undo (a forged `undoes: 2`
    // would have hidden it).
    expect(await olga.c.history('notes', 'forged').undoLast()).toEqual({ version: 3 });
    await until(() => od.data?.title === 'a' && od.data?.body === 'by ed', 5_000, 'undo');
  });
});

import type { TandemClient } from '@tandem/client';
import { ErrorCode, type TandemError } from '@tandem/protocol';
import {
  type AttachedTandem,
  attach,
  createTokens,
  type DocumentRole,
  opPaths,
  roleAuthorize,
  tokenAuth,
} from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'permissions-test-secret-0123456789ab' }] });
/** Roles the host can change at run time (e.g. its database); read on every request. */
const roles = new Map<string, DocumentRole>();

let server: AttachedTandem;
const clients: TandemClient[] = [];
async function as(sub: string, grants: Record<string, DocumentRole> = {}): Promise<TandemClient> {
  const c = client(server.url(), { token: await tokens.issue({ sub, grants }) });
  clients.push(c);
  await c.online();
  return c;
}

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: {
        authenticate: tokenAuth(tokens),
        authorize: roleAuthorize({
          // The token's grants, overridden by the host's live table.
          roleOf: (principal, collection, id) =>
            roles.get(`${principal.id}:${collection}/${id}`) ??
            (principal.grants as Record<string, DocumentRole>)[`${collection}/${id}`],
          pathRules: [{ path: '/settings/**', role: 'owner' }],
        }),
      },
    },
  );
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
});

describe('opPaths', () => {
  it('lists every path a json1 op changes, through branches', () => {
    expect(opPaths(['title', { r: true, i: 'x' }])).toEqual([['title']]);
    expect(opPaths(['settings', ['a', { i: 1 }], ['b', 0, { r: true }]])).toEqual([
      ['settings', 'a'],
      ['settings', 'b', 0],
    ]);
    expect(opPaths([{ r: true, i: {} }])).toEqual([[]]);
    expect(opPaths(null)).toEqual([]);
  });
});

describe('role model over authorize', () => {
  it('owner, editor, viewer and stranger: writes per role, path rules, reads filtered everywhere', async () => {
    const owner = await as('olga', { 'plans/q1': 'owner' });
    const editor = await as('ed', { 'plans/q1': 'editor' });
    const viewer = await as('vic', { 'plans/q1': 'viewer' });
    const stranger = await as('sam');

    const od = owner.doc<{ title: string; settings: { public: boolean } }>('plans', 'q1');
    await od.create({ title: 'Q1', settings: { public: false } });
    await od.subscribe();

    // Editor: may edit the title, not the owner-only subtree; a refused op rolls back on its sender.
    const ed = editor.doc<{ title: string; settings: { public: boolean } }>('plans', 'q1');
    await ed.subscribe();
    await ed.submit(['title', { r: true, i: 'Q1 plan' }]);
    await expect(ed.submit(['settings', 'public', { r: true, i: true }])).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(ed.submit([{ r: true, i: { title: 'gone' } }])).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await until(() => ed.data?.settings.public === false && ed.pendingCount === 0, 5_000, 'rollback');
    await until(() => od.data?.title === 'Q1 plan', 5_000, 'title edit reached the owner');
    expect(od.data).toEqual({ title: 'Q1 plan', settings: { public: false } });
    // The owner may.
    await od.submit(['settings', 'public', { r: true, i: true }]);

    // Viewer: reads, history, presence; no writes, no creates.
    const vd = viewer.doc<{ title: string }>('plans', 'q1');
    await vd.subscribe();
    expect(vd.data?.title).toBe('Q1 plan');
    await expect(vd.submit(['title', { r: true, i: 'mine' }])).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(viewer.history('plans', 'q1').page()).resolves.toBeDefined();
    await expect(viewer.doc('plans', 'q2').create({ x: 1 })).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });

    // Stranger: nothing — fetch, subscribe, queries, presence and history are all refused or filtered.
    await expect(stranger.doc('plans', 'q1').fetch()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    await expect(stranger.doc('plans', 'q1').subscribe()).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    // Refused alike whether or not it exists: no probing for document names.
    await expect(stranger.doc('plans', 'nope').fetch()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    await expect(stranger.history('plans', 'q1').page()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    // A query whose results include a document the user may not read is refused as a whole (no
    // data leaks; scope queries to what the user may read).
    const query = await new Promise<unknown>((resolve) =>
      stranger.connection.createFetchQuery('plans', {}, {}, (error: unknown) => resolve(error)),
    );
    expect(query).toMatchObject({ code: ErrorCode.FORBIDDEN });
    const sd = stranger.doc('plans', 'q1');
    const presenceErrors: TandemError[] = [];
    sd.on('error', (e) => presenceErrors.push(e));
    void sd.presence;
    await until(() => presenceErrors.length > 0, 5_000, 'presence subscription refused');
    expect(presenceErrors[0].code).toBe(ErrorCode.FORBIDDEN);

    // Delete needs owner.
    const editorDelete = await new Promise((resolve) =>
      editor.connection.get('plans', 'q1').del((error: unknown) => resolve(error)),
    );
    expect(editorDelete).toMatchObject({ code: ErrorCode.FORBIDDEN });
    await od.fetch();
    expect(od.data).toEqual({ title: 'Q1 plan', settings: { public: true } });
  });

  it('a role changed at run time applies to the live socket from its next request', async () => {
    const owner = await as('otto', { 'plans/live': 'owner' });
    const writer = await as('wes', { 'plans/live': 'editor' });
    await owner.doc('plans', 'live').create({ n: 0 });
    const wd = writer.doc<{ n: number }>('plans', 'live');
    await wd.subscribe();
    await wd.submit(['n', { r: true, i: 1 }]);
    roles.set('wes:plans/live', 'viewer');
    await expect(wd.submit(['n', { r: true, i: 2 }])).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    roles.delete('wes:plans/live');
    roles.set('wes:plans/live', 'editor');
    await wd.submit(['n', { r: true, i: 3 }]);
    await until(() => wd.data?.n === 3 && wd.pendingCount === 0);
  });
});

import type { TandemClient } from '@tandem/client';
import { ErrorCode, type TandemError } from '@tandem/protocol';
import {
  type AttachedTandem,
  attach,
  createTokens,
  type DocumentRole,
  opPaths,
  refreshAccess,
  roleAuthorize,
  tokenAuth,
} from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, rawSocket, until, withToken } from './helpers';

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
    // A query returns only what the user may read: nothing here.
    const query = await new Promise<unknown[]>((resolve, reject) =>
      stranger.connection.createFetchQuery('plans', {}, {}, (error: unknown, results: unknown[]) =>
        error ? reject(error) : resolve(results),
      ),
    );
    expect(query).toEqual([]);
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

/** Results of a ShareDB query as ids, fetched or subscribed over the raw connection. */
function queryIds(c: TandemClient, collection: string, subscribe = false) {
  return new Promise<{ ids: () => string[]; destroy(): void }>((resolve, reject) => {
    const make = subscribe ? 'createSubscribeQuery' : 'createFetchQuery';
    const query = (c.connection as any)[make](collection, {}, {}, (error: unknown) => {
      if (error) return reject(error);
      resolve({
        ids: () => (query.results as { id: string }[]).map((d) => d.id).sort(),
        destroy: () => query.destroy(),
      });
    });
  });
}

describe('reads filtered in queries', () => {
  it('fetch and subscribed queries return only readable documents and never stream the others', async () => {
    const owner = await as('quinn', { 'boards/a': 'owner', 'boards/b': 'owner', 'boards/c': 'owner' });
    const viewer = await as('val', { 'boards/a': 'viewer' });
    const oa = owner.doc<{ n: number }>('boards', 'a');
    const ob = owner.doc<{ n: number }>('boards', 'b');
    await oa.create({ n: 0 });
    await ob.create({ n: 0 });

    expect((await queryIds(owner, 'boards')).ids()).toEqual(['a', 'b']);
    expect((await queryIds(viewer, 'boards')).ids()).toEqual(['a']);
    const live = await queryIds(viewer, 'boards', true);
    expect(live.ids()).toEqual(['a']);

    // The same over a raw socket, to see every frame: a resubscribe naming `b` itself, and ops
    // fetched from a version, are filtered or refused too.
    const token = await tokens.issue({ sub: 'val', grants: { 'boards/a': 'viewer' } });
    const { ws, frames } = await rawSocket(withToken(server.url(), token));
    ws.send(JSON.stringify({ a: 'hs', id: null }));
    ws.send(JSON.stringify({ a: 'qs', id: 7, c: 'boards', q: {} }));
    ws.send(
      JSON.stringify({ a: 'qs', id: 8, c: 'boards', q: {}, o: { ids: ['a', 'b'], fetchOps: { b: 0 } } }),
    );
    ws.send(JSON.stringify({ a: 'f', c: 'boards', d: 'b', v: 0 }));
    ws.send(JSON.stringify({ a: 's', c: 'boards', d: 'b', v: 0 }));
    ws.send(JSON.stringify({ a: 'bf', c: 'boards', b: { b: 0 } }));
    await until(() => frames.filter((f) => f.error !== undefined).length === 3, 5_000, 'refusals');
    expect(frames.filter((f) => f.error !== undefined).map((f) => [f.a, f.error.code])).toEqual([
      ['f', ErrorCode.FORBIDDEN],
      ['s', ErrorCode.FORBIDDEN],
      ['bf', ErrorCode.FORBIDDEN],
    ]);
    await until(() => frames.some((f) => f.a === 'qs' && f.id === 8), 5_000, 'resubscribe');
    expect(frames.find((f) => f.a === 'qs' && f.id === 7).data.map((d: { d: string }) => d.d)).toEqual(['a']);

    // Later ops on b, and a new unreadable document, do not reach the viewer; ops on a do.
    await ob.submit(['n', { r: true, i: 1 }]);
    await owner.doc('boards', 'c').create({ n: 0 });
    await oa.submit(['n', { r: true, i: 1 }]);
    await until(() => frames.some((f) => f.a === 'op' && f.d === 'a'), 5_000, 'op on a');
    await until(
      () => (viewer.connection.get('boards', 'a').data as { n?: number } | undefined)?.n === 1,
      5_000,
      'subscribed query saw a',
    );
    expect(live.ids()).toEqual(['a']);
    const leaks = frames.filter(
      (f) => f.error === undefined && /"d":"[bc]"|"id":"[bc]"|"[bc]":\{/.test(JSON.stringify(f)),
    );
    expect(leaks).toEqual([]);
    ws.close();
    live.destroy();
  });
});

describe('role removal cuts live subscriptions', () => {
  it('after refreshAccess, the removed user gets FORBIDDEN for the document and no more ops or presence', async () => {
    const owner = await as('olive', { 'boards/live': 'owner', 'boards/still': 'owner' });
    roles.set('rex:boards/live', 'viewer');
    const rex = await as('rex', { 'boards/still': 'viewer' });
    const errors: TandemError[] = [];
    rex.on('error', (e) => errors.push(e));
    const od = owner.doc<{ n: number; text: string }>('boards', 'live');
    await od.create({ n: 0, text: 'hello' });
    await od.subscribe();
    const still = owner.doc<{ n: number }>('boards', 'still');
    await still.create({ n: 0 });

    const rd = rex.doc<{ n: number; text: string }>('boards', 'live');
    await rd.subscribe();
    const rs = rex.doc<{ n: number }>('boards', 'still');
    await rs.subscribe();
    const query = await queryIds(rex, 'boards', true);
    expect(query.ids()).toEqual(['live', 'still']);
    void rd.presence;
    await od.presence.update({ path: ['text'], offset: 1 });
    await until(() => rd.presence.peers().length === 1, 5_000, 'presence before');
    await rd.presence.update({ path: ['text'], offset: 2 });
    await until(() => od.presence.peers().length === 1, 5_000, 'rex’s cursor shown');
    await od.submit(['n', { r: true, i: 1 }]);
    await until(() => rd.data?.n === 1, 5_000, 'op before');

    // The host removes the role in its table and says so.
    roles.delete('rex:boards/live');
    await refreshAccess(server.tandem, { userId: 'rex' });
    await until(() => errors.some((e) => e.code === ErrorCode.FORBIDDEN), 5_000, 'FORBIDDEN');
    expect(errors.find((e) => e.code === ErrorCode.FORBIDDEN)?.details).toMatchObject({
      collection: 'boards',
      id: 'live',
      reason: 'access-changed',
    });
    await until(() => query.ids().join() === 'still', 5_000, 'removed from the query');
    // Rex's own cursor leaves the document for everyone else.
    await until(() => od.presence.peers().length === 0, 5_000, 'rex’s cursor gone');

    // The owner keeps editing and moving; rex sees none of it, but still gets the other document.
    await od.submit(['n', { r: true, i: 2 }]);
    await od.presence.update({ path: ['text'], offset: 4 });
    await still.submit(['n', { r: true, i: 5 }]);
    // A barrier, not a wait: the cut document's op and cursor were published before `still`'s op was
    // submitted, and one socket's frames arrive in order, so had they been sent they would be here.
    await until(() => rs.data?.n === 5, 5_000, 'the readable document still streams');
    expect(rd.data?.n).toBe(1);
    expect(rd.presence.peers().map((p) => p.offset)).not.toContain(4);
    expect(query.ids()).toEqual(['still']);
    // Nothing else was cut.
    expect(errors.filter((e) => e.code === ErrorCode.FORBIDDEN)).toHaveLength(1);
    query.destroy();
  });

  it('an auth refresh whose token grants less cuts what the old token could read', async () => {
    const owner = await as('ozzy', { 'boards/t1': 'owner', 'boards/t2': 'owner' });
    const tess = await as('tess', { 'boards/t1': 'viewer', 'boards/t2': 'viewer' });
    const errors: TandemError[] = [];
    tess.on('error', (e) => errors.push(e));
    const o1 = owner.doc<{ n: number }>('boards', 't1');
    const o2 = owner.doc<{ n: number }>('boards', 't2');
    await Promise.all([o1.create({ n: 0 }), o2.create({ n: 0 })]);
    const t1 = tess.doc<{ n: number }>('boards', 't1');
    const t2 = tess.doc<{ n: number }>('boards', 't2');
    await Promise.all([t1.subscribe(), t2.subscribe()]);

    await tess.refreshAuth(await tokens.issue({ sub: 'tess', grants: { 'boards/t2': 'viewer' } }));
    await until(() => errors.some((e) => e.code === ErrorCode.FORBIDDEN), 5_000, 'FORBIDDEN');
    expect(errors.find((e) => e.code === ErrorCode.FORBIDDEN)?.details).toMatchObject({ id: 't1' });
    await o1.submit(['n', { r: true, i: 1 }]);
    await o2.submit(['n', { r: true, i: 1 }]);
    // A barrier: t1's op was committed and published before t2's was submitted.
    await until(() => t2.data?.n === 1, 5_000, 't2 still streams');
    expect(t1.data?.n).toBe(0);
  });
});

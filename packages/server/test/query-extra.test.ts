/**
 * Query results beyond documents under per-document reads: a `$count` counts what the principal may
 * read, and any other `extra` (aggregations over unasked documents) is refused, typed.
 */
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filterQueries, setReader } from '../src/security/read-filter';
import { client } from './helpers';

const tokens = createTokens({ keys: [{ kid: 'k', secret: 'query-extra-test-secret-0123456789ab' }] });
let server: AttachedTandem;
const clients: TandemClient[] = [];

async function as(sub: string, grants: Record<string, DocumentRole>): Promise<TandemClient> {
  const c = client(server.url(), { token: await tokens.issue({ sub, grants }) });
  clients.push(c);
  await c.online();
  return c;
}

/** `{ $count: true }` through the client's ShareDB connection: the count it is told. */
function count(c: TandemClient, subscribe = false): Promise<{ extra: () => unknown; destroy(): void }> {
  return new Promise((resolve, reject) => {
    const make = subscribe ? 'createSubscribeQuery' : 'createFetchQuery';
    const query = (c.connection as any)[make]('notes', { $count: true }, {}, (error: unknown) =>
      error ? reject(error) : resolve({ extra: () => query.extra, destroy: () => query.destroy() }),
    );
  });
}

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      // SQLite: MemoryDB has no query language, so no `$count`.
      storage: 'sqlite::memory:',
      hooks: {
        authenticate: tokenAuth(tokens),
        authorize: roleAuthorize({
          roleOf: (principal, collection, id) =>
            (principal.grants as Record<string, DocumentRole>)[`${collection}/${id}`],
        }),
      },
    },
  );
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
});

describe('query extras under per-document reads', () => {
  it('$count counts only readable documents, fetched and subscribed', async () => {
    const owner = await as('ola', { 'notes/a': 'owner', 'notes/b': 'owner', 'notes/c': 'owner' });
    const viewer = await as('vic', { 'notes/a': 'viewer' });
    for (const id of ['a', 'b', 'c']) await owner.doc('notes', id).create({ id });
    expect((await count(owner)).extra()).toBe(3);
    expect((await count(viewer)).extra()).toBe(1);
    const live = await count(viewer, true);
    expect(live.extra()).toBe(1);
    live.destroy();
  });

  it('any other extra is refused with FORBIDDEN, not passed on', async () => {
    // An adapter answering with an aggregation (as sharedb-mongo's $aggregate does).
    const db = {
      query: (_c: string, _q: unknown, _f: unknown, _o: unknown, cb: (...a: unknown[]) => void) =>
        cb(null, [{ id: 'a' }, { id: 'b' }], { total: 2, secret: 'from b' }),
      queryPoll: (_c: string, _q: unknown, _o: unknown, cb: (...a: unknown[]) => void) =>
        cb(null, ['a', 'b'], { total: 2 }),
    };
    const filtered = filterQueries(db as never) as unknown as typeof db;
    const options = {};
    setReader(options, async (ids) => ids.filter((id) => id === 'a'));
    const answer = (call: (cb: (...a: unknown[]) => void) => void) =>
      new Promise<unknown[]>((r) => call((...a) => r(a)));
    const [queryError] = await answer((cb) => filtered.query('notes', { $aggregate: [] }, null, options, cb));
    expect(queryError).toMatchObject({ code: ErrorCode.FORBIDDEN, details: { reason: 'query-extra' } });
    const [pollError] = await answer((cb) => filtered.queryPoll('notes', {}, options, cb));
    expect(pollError).toMatchObject({ code: ErrorCode.FORBIDDEN, details: { reason: 'query-extra' } });
    // Without a reader (no authorize hook), the adapter's answer passes as it is.
    const [, snapshots, extra] = await answer((cb) => filtered.query('notes', {}, null, {}, cb));
    expect(snapshots).toHaveLength(2);
    expect(extra).toEqual({ total: 2, secret: 'from b' });
  });
});

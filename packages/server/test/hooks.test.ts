import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, type Principal } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

const events: string[] = [];
const seenInMiddleware: (string | undefined)[] = [];
let server: AttachedTandem;

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: {
        authenticate: ({ token }) => {
          if (token === undefined) throw new TandemError(ErrorCode.UNAUTHORIZED, 'no token');
          const [id, name] = token.split(':');
          return { id, name, role: id === 'reader' ? 'reader' : 'writer' };
        },
        authorize: ({ principal, action, id }) => {
          if (id === 'secret') return principal.id === 'alice';
          return action === 'read' || principal.role === 'writer';
        },
        validate: ({ snapshot }) => {
          if ((snapshot as { n?: number }).n === 13)
            throw new TandemError(ErrorCode.SCHEMA_VIOLATION, 'unlucky');
        },
        onConnect: ({ principal }) => void events.push(`connect:${principal.id}`),
        onDisconnect: ({ principal }) => void events.push(`disconnect:${principal.id}`),
        onCommit: ({ principal, version }) => void events.push(`commit:${principal?.id}:${version}`),
        onConflict: ({ report }) => void events.push(`conflict:${report.kind}`),
      },
    },
  );
  const backend = await server.tandem.backend();
  // The principal from authenticate reaches every ShareDB middleware through agent.custom.
  backend.use('submit', (context: any, next: () => void) => {
    seenInMiddleware.push((context.agent.custom.principal as Principal | undefined)?.id);
    next();
  });
});
afterAll(async () => {
  await server.close();
});

describe('hooks', () => {
  it('authenticate, authorize, validate, onConnect, onCommit and onDisconnect', async () => {
    const alice = client(server.url(), { token: 'alice:Alice' });
    const reader = client(server.url(), { token: 'reader:Rita' });
    const doc = alice.doc<{ n: number }>('h', 'counter');
    await doc.create({ n: 1 });
    await doc.submit(['n', { r: true, i: 2 }]);
    await expect(doc.submit(['n', { r: true, i: 13 }])).rejects.toMatchObject({
      code: ErrorCode.SCHEMA_VIOLATION,
    });
    // A rejected op changes nothing (the client rolled it back).
    await until(() => doc.data?.n === 2, 5_000, 'rollback');

    const rdoc = reader.doc<{ n: number }>('h', 'counter');
    await rdoc.subscribe();
    expect(rdoc.data).toEqual({ n: 2 });
    await expect(rdoc.submit(['n', { r: true, i: 3 }])).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });

    await alice.doc('h', 'secret').create({ s: 1 });
    await expect(reader.doc('h', 'secret').fetch()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });

    expect(alice.user).toMatchObject({ id: 'alice', name: 'Alice' });
    // Auth refresh: same user, new token; another user's token is refused.
    await expect(alice.refreshAuth('alice:Alice Again')).resolves.toMatchObject({
      id: 'alice',
      name: 'Alice Again',
    });

    // Conflict reports reach onConflict and the subscribed clients' docs.
    await doc.subscribe();
    const reports: string[] = [];
    doc.on('conflict', (report) => reports.push(report.kind));
    server.tandem.reportConflict({
      id: 'c1',
      collection: 'h',
      docId: 'counter',
      kind: 'same-field-write',
      path: ['n'],
      otherPath: ['n'],
      severity: 'high',
      op: { author: 'alice', version: 2, baseVersion: 1, op: null },
      other: { author: 'reader', version: 1, op: null },
      authors: ['alice', 'reader'],
      policy: 'merge',
      rule: null,
      resolved: true,
      resolution: 'op-wins',
      status: 'resolved',
      createdAt: Date.now(),
    });
    await until(() => reports.length === 1, 5_000, 'conflict report');
    expect(events).toContain('conflict:same-field-write');
    expect(seenInMiddleware).toContain('alice');
    await alice.close();
    await reader.close();
    await until(
      () => events.includes('disconnect:alice') && events.includes('disconnect:reader'),
      5_000,
      'disconnects',
    );
    expect(events).toContain('connect:alice');
    expect(events).toContain('commit:alice:1');
  });
});

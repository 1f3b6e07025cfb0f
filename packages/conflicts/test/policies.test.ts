import { compilePolicies, installConflicts, policyFor, tryCompilePolicies } from '@tandem/conflicts';
import { insertTextAtCodePoint, remove, replace, spliceTextAtCodePoint } from '@tandem/ot';
import ShareDB from 'sharedb';
import { describe, expect, test } from 'vitest';
import { concurrently, fetch, serverData, setup, submit, twoClients } from './helpers';

describe('policy config', () => {
  test('rules match by collection, first pattern wins, `*` and trailing `**`', () => {
    const p = compilePolicies({
      notes: { '/title': 'reject', '/fields/*/value': 'manual', '/body/**': 'last-writer-wins' },
      '*': { '/**': 'merge' },
    });
    expect(policyFor(p, 'notes', ['title'])).toEqual({ policy: 'reject', rule: '/title', field: ['title'] });
    expect(policyFor(p, 'notes', ['fields', 'f1', 'value', 'x'])).toMatchObject({
      policy: 'manual',
      field: ['fields', 'f1', 'value'],
    });
    expect(policyFor(p, 'notes', ['body', 3])).toMatchObject({ policy: 'last-writer-wins', field: ['body'] });
    expect(policyFor(p, 'notes', ['other'])).toMatchObject({ policy: 'merge', rule: '/**', field: [] });
    expect(policyFor(compilePolicies({}), 'x', ['a'])).toEqual({ policy: 'merge', rule: null, field: ['a'] });
  });

  test.each([
    [{ notes: { title: 'merge' } }, 'starts with "/"'],
    [{ notes: { '/a/**/b': 'merge' } }, '"**" is only allowed as the last segment'],
    [{ notes: { '/a*': 'merge' } }, 'must be a whole segment'],
    [{ notes: { '/a': 'lww' } }, 'unknown policy "lww"'],
    [{ _tandem_locks: { '/a': 'merge' } }, 'reserved'],
    [{ notes: ['/a'] }, 'must be an object'],
  ])('invalid config %j fails at creation with INVALID_CONFIG', (config, message) => {
    const result = tryCompilePolicies(config as never, (c) => c.startsWith('_tandem_'));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('INVALID_CONFIG');
      expect(result.error.message).toContain(message);
    }
    expect(() => installConflicts(new ShareDB(), { policies: config as never })).toThrow(/conflict policies/);
  });
});

describe('policies through a real backend', () => {
  test('merge (default): OT as usual, record kept', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { body: 'the cat' });
    await concurrently(
      a,
      spliceTextAtCodePoint(['body'], 4, 3, 'dog'),
      b,
      spliceTextAtCodePoint(['body'], 4, 3, 'cow'),
    );
    await s.handle.flush();
    expect(s.records).toMatchObject([{ policy: 'merge', resolution: 'merged', resolved: true }]);
    expect(a.data).toEqual(b.data);
    expect((a.data as { body: string }).body).toMatch(/dog|cow/);
    expect((a.data as { body: string }).body.length).toBe(10);
  });

  test('last-writer-wins: the later commit takes the whole field, every replica agrees', async () => {
    const s = setup({ policies: { notes: { '/body': 'last-writer-wins' } } });
    const { a, b } = await twoClients(s, { body: 'the cat', title: 't' });
    await concurrently(
      a,
      spliceTextAtCodePoint(['body'], 4, 3, 'dog'),
      b,
      spliceTextAtCodePoint(['body'], 4, 3, 'cow'),
    );
    await s.handle.flush();
    expect(s.records).toMatchObject([
      {
        policy: 'last-writer-wins',
        resolution: 'last-writer-wins',
        field: ['body'],
        committedValue: 'the dog',
        incomingValue: 'the cow',
      },
    ]);
    expect(await serverData(s)).toEqual({ body: 'the cow', title: 't' });
    expect(a.data).toEqual({ body: 'the cow', title: 't' });
    expect(b.data).toEqual({ body: 'the cow', title: 't' });
  });

  test('last-writer-wins restores a field the earlier op deleted when the later op edited it (base read from the store)', async () => {
    // No versions kept in memory: the op's base version is read back through ShareDB.
    const s = setup({
      policies: { notes: { '/fields/*/value': 'last-writer-wins' } },
      versionCache: { versions: 0 },
    });
    const { a, b } = await twoClients(s, { fields: { f1: { value: 'abc' } } });
    await concurrently(
      a,
      remove(['fields', 'f1', 'value']),
      b,
      insertTextAtCodePoint(['fields', 'f1', 'value'], 3, 'd'),
    );
    await s.handle.flush();
    expect(s.records).toMatchObject([{ kind: 'delete-vs-edit', resolution: 'last-writer-wins' }]);
    expect(await serverData(s)).toEqual({ fields: { f1: { value: 'abcd' } } });
    expect(a.data).toEqual(b.data);
  });

  test('reject: the later op is refused with CONFLICT_REJECTED, rolled back on its sender, nothing else changes', async () => {
    const s = setup({ policies: { notes: { '/title': 'reject' } } });
    const { a, b } = await twoClients(s, { title: 'Draft', n: 1 });
    const error = await concurrently(
      a,
      replace(['title'], 'Alice'),
      b,
      // Invertible (removes carry their value), so ShareDB's client can undo it locally.
      [
        ['n', { r: 1, i: 2 }],
        ['title', { r: 'Draft', i: 'Bob' }],
      ],
    );
    expect(error).toMatchObject({ code: 'CONFLICT_REJECTED' });
    expect((error as Error).message).toContain('/title');
    await s.handle.flush();
    expect(s.records).toMatchObject([{ kind: 'same-field-write', policy: 'reject', resolution: 'rejected' }]);
    expect(await serverData(s)).toEqual({ title: 'Alice', n: 1 });
    expect(b.data).toEqual({ title: 'Alice', n: 1 });
    expect(a.data).toEqual(b.data);
  });

  test('reject does not refuse concurrent edits that do not collide', async () => {
    const s = setup({ policies: { notes: { '/title': 'reject' } } });
    const { a, b } = await twoClients(s, { title: 'Draft', n: 1 });
    expect(await concurrently(a, replace(['title'], 'A'), b, replace(['n'], 2))).toBeUndefined();
    expect(await serverData(s)).toEqual({ title: 'A', n: 2 });
  });

  test('manual: the committed value stays, the losing value waits in an open conflict, resolving submits an op', async () => {
    const s = setup({ policies: { notes: { '/body': 'manual' } } });
    const { a, b } = await twoClients(s, { body: 'the cat' });
    await concurrently(
      a,
      spliceTextAtCodePoint(['body'], 4, 3, 'dog'),
      b,
      spliceTextAtCodePoint(['body'], 4, 3, 'cow'),
    );
    await s.handle.flush();
    expect(await serverData(s)).toEqual({ body: 'the dog' });
    expect(b.data).toEqual({ body: 'the dog' });
    const open = await s.handle.list({ collection: 'notes', docId: 'n1', status: 'open' });
    expect(open).toMatchObject([
      {
        status: 'open',
        resolved: false,
        resolution: 'kept-committed',
        committedValue: 'the dog',
        incomingValue: 'the cow',
      },
    ]);
    expect(await s.handle.list({ author: 'bob', status: 'open' })).toHaveLength(1);

    const resolved = await s.handle.resolve({
      collection: 'notes',
      docId: 'n1',
      id: open[0].id,
      choose: 'incoming',
      by: { id: 'carol' },
    });
    expect(resolved).toMatchObject({
      status: 'resolved',
      resolution: 'chosen',
      choice: 'incoming',
      resolvedBy: 'carol',
    });
    expect(await serverData(s)).toEqual({ body: 'the cow' });
    expect(await s.handle.list({ collection: 'notes', docId: 'n1', status: 'open' })).toEqual([]);
    await expect(
      s.handle.resolve({
        collection: 'notes',
        docId: 'n1',
        id: open[0].id,
        choose: 'committed',
        by: { id: 'carol' },
      }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });

  test.each(['last-writer-wins', 'manual'] as const)(
    '%s stays idempotent when ShareDB retries the commit (both ops in flight at once)',
    async (policy) => {
      let retries = 0;
      const s = setup({ policies: { notes: { '/body': policy } } });
      s.backend.on('timing', (kind: string) => {
        if (kind === 'submit.retry') retries++;
      });
      const { a, b } = await twoClients(s, { body: 'the cat' });
      await Promise.all([
        submit(a, spliceTextAtCodePoint(['body'], 4, 3, 'dog')),
        submit(b, spliceTextAtCodePoint(['body'], 4, 3, 'cow')),
      ]);
      await Promise.all([fetch(a), fetch(b)]);
      await s.handle.flush();
      expect(retries).toBeGreaterThan(0);
      expect(s.records).toHaveLength(1);
      const truth = await serverData(s);
      expect(a.data).toEqual(truth);
      expect(b.data).toEqual(truth);
      const { body } = truth as { body: string };
      expect(['the dog', 'the cow']).toContain(body);
    },
  );

  test('ordinary clients can neither write nor read reserved collections', async () => {
    const s = setup();
    const connection = s.connect('mallory');
    const agent = (connection as unknown as { agent: object }).agent;
    const written = new Promise((resolve) =>
      s.backend.submit(
        agent as never,
        '_tandem_locks',
        'notes/n1',
        { v: 0, create: { type: 'json1', data: {} } } as never,
        {},
        resolve,
      ),
    );
    expect(await written).toMatchObject({ code: 'FORBIDDEN' });
    const read = new Promise((resolve) => connection.get('_tandem_conflicts', 'notes/n1').fetch(resolve));
    expect(await read).toMatchObject({ code: 'FORBIDDEN' });

    // A trusted server-side agent (e.g. @tandem/history's record writer) is let in.
    const trusted = s.backend.connect() as unknown as { agent: object };
    s.handle.trustAgent(trusted.agent);
    const allowed = new Promise((resolve) =>
      s.backend.submit(
        trusted.agent as never,
        '_tandem_versions',
        'v1',
        { v: 0, create: { type: 'json1', data: {} } } as never,
        {},
        resolve,
      ),
    );
    expect(await allowed).toBeFalsy();
  });
});

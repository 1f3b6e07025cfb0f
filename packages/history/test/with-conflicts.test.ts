/**
 * History and @tandem/conflicts on one backend: user-facing history ops (revert, undo, merge ops)
 * pass through conflict classification like any other op.
 */
import { installConflicts } from '@tandem/conflicts';
import { insertTextAtCodePoint } from '@tandem/ot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Env, openEnv, runScript, stores, User } from './harness';

const ref = { collection: 'docs', id: 'd1' };

describe('with @tandem/conflicts installed', () => {
  let env: Env;
  let conflicts: ReturnType<typeof installConflicts>;
  beforeEach(async () => {
    // History creates its record-writing agents lazily, so the closure sees `conflicts` in time.
    env = await openEnv(stores[0], { trustAgent: (agent) => conflicts.trustAgent(agent) });
    conflicts = installConflicts(env.backend);
  });
  afterEach(async () => {
    await conflicts.close();
    await env.close();
  });

  it('reverts, undoes and browses', async () => {
    await runScript(env, ref.collection, ref.id, [
      { user: 1, field: 'a', kind: 'insert', at: 0, count: 1, text: 'A' },
      { user: 2, field: 'b', kind: 'insert', at: 0, count: 1, text: 'B' },
    ]);
    await new User(env.backend, 'cy').edit('docs', 'd1', () => insertTextAtCodePoint(['c'], 0, 'C'));
    await env.history.undoLast(ref, { id: 'user1' });
    expect((await env.history.current(ref)).data).toEqual({ a: 'hello', b: 'Bworld', c: 'C' });
    await env.history.revert(ref, { id: 'rex' }, 1);
    expect((await env.history.current(ref)).data).toEqual({ a: 'hello', b: 'world', c: '' });
    const { entries } = await env.history.page(ref);
    expect(entries.map((e) => e.author?.id)).toEqual(['rex', 'user1', 'cy', 'user2', 'user1', 'user0']);
  });

  it('writes named versions and forks through agents @tandem/conflicts trusts', async () => {
    await runScript(env, ref.collection, ref.id, [
      { user: 1, field: 'a', kind: 'insert', at: 0, count: 1, text: 'A' },
    ]);
    const version = await env.history.createVersion(ref, { id: 'user1' }, { label: 'v1' });
    expect((await env.history.listVersions(ref)).map((v) => v.label)).toEqual(['v1']);
    expect((await env.history.verify(ref, 'v1')).ok).toBe(true);
    const fork = await env.history.fork(ref, { id: 'user1' }, { version: version.version });
    await new User(env.backend, 'user2').edit(fork.fork.collection, fork.fork.id, () =>
      insertTextAtCodePoint(['a'], 0, 'F'),
    );
    await env.history.merge(fork.fork, { id: 'user2' });
    expect(((await env.history.current(ref)).data as { a: string }).a.startsWith('F')).toBe(true);
  });

  it('refuses record writes when history is not trusted by @tandem/conflicts', async () => {
    const untrusted = await openEnv(stores[0]);
    const guard = installConflicts(untrusted.backend);
    try {
      await runScript(untrusted, ref.collection, ref.id, [
        { user: 1, field: 'a', kind: 'insert', at: 0, count: 1, text: 'A' },
      ]);
      await expect(
        untrusted.history.createVersion(ref, { id: 'user1' }, { label: 'v1' }),
      ).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
    } finally {
      await guard.close();
      await untrusted.close();
    }
  });
});

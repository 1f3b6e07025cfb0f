import { HISTORY_METHODS, handleHistoryCall } from '@tandem/history';
import { TandemError } from '@tandem/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Env, openEnv, runScript, stores } from './harness';

const store = stores[0];
const actor = { id: 'ann', name: 'Ann' };

describe('history calls from clients', () => {
  let env: Env;
  const checks: string[] = [];
  const context = {
    actor,
    authorize: async (ref: { collection: string; id: string }, action: string) => {
      checks.push(`${action} ${ref.collection}/${ref.id}`);
      if (ref.collection === 'secret') throw new TandemError('FORBIDDEN', 'no');
    },
  };
  beforeEach(async () => {
    env = await openEnv(store);
    checks.length = 0;
    await runScript(env, 'docs', 'd1', [{ user: 0, field: 'a', kind: 'insert', at: 0, count: 1, text: 'X' }]);
  });
  afterEach(() => env.close());

  it('dispatches each method with authorization on every document it touches', async () => {
    const page = (await handleHistoryCall(
      env.history,
      { method: 'page', args: [{ collection: 'docs', id: 'd1', limit: 1 }] },
      context,
    )) as {
      entries: unknown[];
    };
    expect(page.entries).toHaveLength(1);
    await handleHistoryCall(
      env.history,
      { method: 'revert', args: [{ collection: 'docs', id: 'd1', version: 1 }] },
      context,
    );
    const fork = (await handleHistoryCall(
      env.history,
      { method: 'fork', args: [{ collection: 'docs', id: 'd1', targetCollection: 'docs', targetId: 'f1' }] },
      context,
    )) as { fork: { id: string } };
    expect(fork.fork.id).toBe('f1');
    await handleHistoryCall(
      env.history,
      { method: 'merge', args: [{ collection: 'docs', id: 'f1' }] },
      context,
    );
    expect(checks).toEqual([
      'read docs/d1',
      'write docs/d1',
      'read docs/d1',
      'write docs/f1',
      'read docs/f1',
      'write docs/d1',
    ]);
    expect(HISTORY_METHODS.revert).toBe('write');
  });

  it('refuses unknown methods, bad params and forbidden documents', async () => {
    await expect(handleHistoryCall(env.history, { method: 'drop', args: [] }, context)).rejects.toMatchObject(
      { code: 'INVALID_MESSAGE' },
    );
    await expect(
      handleHistoryCall(env.history, { method: 'page', args: ['x'] }, context),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(
      handleHistoryCall(
        env.history,
        { method: 'snapshotAt', args: [{ collection: 'docs', id: 'd1', version: 'one' }] },
        context,
      ),
    ).rejects.toMatchObject({ code: 'INVALID_MESSAGE' });
    await expect(
      handleHistoryCall(env.history, { method: 'page', args: [{ collection: 'secret', id: 'd1' }] }, context),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });
});

/**
 * Smoke test of the locks suite's plumbing on a small burst: it counts the lock store's writes and
 * op log, and every acquire is decided. Behaviour only, no timing thresholds.
 */
import { type } from '@tandem/ot';
import ShareDB from 'sharedb';
import { describe, expect, it } from 'vitest';
import { runCell } from '../src/suites/locks';

describe('locks suite', () => {
  it('measures a burst: every acquire decided in a few writes, the op log counted', async () => {
    if (ShareDB.types.map[type.uri] === undefined) ShareDB.types.register(type as never);
    const raised = await runCell({ store: 'memory', mode: 'burst', acquires: 50, owners: 5, caps: 'raised' });
    expect(raised).toMatchObject({ ok: 50, failed: {} });
    expect(raised.submits).toBeGreaterThan(0);
    expect(raised.submits).toBeLessThanOrEqual(3);
    expect(raised.commits).toBe(raised.submits);
    expect(raised.opBytes).toBeGreaterThan(50 * 100);
    const capped = await runCell({
      store: 'sqlite',
      mode: 'burst',
      acquires: 50,
      owners: 1,
      caps: 'default',
    });
    expect(capped).toMatchObject({ ok: 10, failed: { TOO_LARGE: 40 } });
  });
});

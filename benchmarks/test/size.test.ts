/**
 * The client's bundle budget (issue 13): @tandem/client, bundled from its dist/ the way the size
 * suite does it, stays within 48 KB gzipped. A byte count, not a timing: it does not depend on the
 * machine. The two baselines must bundle too (the suite compares against them).
 */
import { describe, expect, it } from 'vitest';
import { assertFreshDist } from '../../test/fresh-dist';
import { bundleSize, CLIENT_BUDGET_BYTES } from '../src/suites/size';

describe('size suite', () => {
  it('@tandem/client (connect + doc + text + presence) is within 48 KB gzipped', async () => {
    assertFreshDist(['protocol', 'ot', 'client']);
    const tandem = await bundleSize('@tandem/client');
    expect(tandem.gzipped).toBeLessThanOrEqual(CLIENT_BUDGET_BYTES);
    // One copy of each package: ot and protocol come from their own packages, not inlined.
    const owners = tandem.contributors.map(([owner]) => owner);
    expect(owners).toEqual(expect.arrayContaining(['@tandem/client', '@tandem/ot', '@tandem/protocol']));
  });

  it('bundles the baselines the same way', async () => {
    for (const name of ['sharedb client + ot-json1', 'yjs + y-websocket'] as const)
      expect((await bundleSize(name)).gzipped).toBeGreaterThan(10_000);
  });
});

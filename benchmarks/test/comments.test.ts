/**
 * Smoke test of the comments suite's plumbing (its server process, typists, thread creation,
 * listing): after typing, a listing returns every thread at the positions a replay of the op log
 * gives. No timing thresholds.
 */
import { describe, expect, it } from 'vitest';
import { listingCell } from '../src/suites/comments';

describe('comments suite', () => {
  it('lists every thread at the replayed positions after many ops (background rebases included)', async () => {
    const cell = await listingCell(30, 300, 50, 2);
    expect(cell).toMatchObject({ listed: 30, correct: true });
    expect(cell.firstMs).toBeGreaterThan(0);
  });
});

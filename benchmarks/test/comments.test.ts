/**
 * Smoke test of the comments suite's plumbing: typing into both documents is measured, and a
 * listing after typing returns every thread at the positions a replay of the op log gives. No
 * timing thresholds.
 */
import { describe, expect, it } from 'vitest';
import { listingCell, typingCells } from '../src/suites/comments';

describe('comments suite', () => {
  it('measures typing with and without threads, and lists correct positions after many ops', async () => {
    const rates = await typingCells(20, 2, 0.2, 1);
    expect(rates.none[0]).toBeGreaterThan(0);
    expect(rates.threads[0]).toBeGreaterThan(0);
    // With a background rebase every 50 versions, and with none: the same positions.
    for (const every of [50, Number.MAX_SAFE_INTEGER]) {
      const cell = await listingCell(30, 300, every, 2);
      expect(cell).toMatchObject({ listed: 30, correct: true });
    }
  });
});

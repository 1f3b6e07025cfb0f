/**
 * Smoke test of the keystroke suite's plumbing in a tiny configuration: two Chromium pages type,
 * every keystroke is stamped in both and shown in both, the texts converge. Behaviour only — no
 * timing thresholds, since the machine is shared.
 */
import { describe, expect, it } from 'vitest';
import { haveChromium } from '../../packages/codemirror/test/browser';
import { planFor, runKeystroke } from '../src/suites/keystroke';

describe.skipIf(!haveChromium('the keystroke suite test'))('keystroke suite', () => {
  it.each(['tandem', 'relay'] as const)(
    '%s: measures every keystroke in every other page, and the pages converge',
    async (system) => {
      const plan = {
        ...planFor({ quick: true }, {}),
        pages: 2,
        warmupMs: 200,
        measureMs: 1_500,
        storage: 'memory:',
      };
      const result = await runKeystroke(plan, system);
      expect(result.keystrokes).toBeGreaterThan(2);
      expect(result.deliveries).toBe(result.keystrokes); // each keystroke, in the one other page
      expect(result.missing).toBe(0);
      expect(result.converged).toBe(true);
      expect(result.render.p50).toBeGreaterThanOrEqual(result.dom.p50);
    },
  );
});

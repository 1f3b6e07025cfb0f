/**
 * Smoke test of the flood suite's plumbing in a tiny configuration: a real server with rate limits
 * on, honest clients and an attackers process. Behaviour only (the attack is throttled and reported,
 * honest edits still arrive) — no timing thresholds, since the machine is shared.
 */
import { describe, expect, it } from 'vitest';
import { type FloodPlan, planFor, runFloodCell, SCENARIOS } from '../src/suites/flood';

const tiny: FloodPlan = {
  ...planFor({ quick: true }, {}),
  honestClients: 3,
  attackers: 5,
  warmupMs: 500,
  measureMs: 1_000,
  drainMs: 2_000,
};

describe('flood suite', () => {
  it('attackers over their limit are told RATE_LIMITED while honest edits are delivered', async () => {
    const result = await runFloodCell(tiny, SCENARIOS[0]);
    const attack = result.attack;
    expect(attack).toBeDefined();
    expect(attack?.sent).toBeGreaterThan(0);
    // One user over 5 sockets at 10x the socket limit: every socket is throttled at least once.
    expect(attack?.notices).toBeGreaterThanOrEqual(tiny.attackers);
    expect(attack?.acked).toBeLessThan(attack?.sent ?? 0);
    expect(result.honest.samples).toBeGreaterThan(0);
    expect(result.honest.missing).toBe(0);
    expect(result.honest.converged).toBe('yes');
  }, 60_000);
});

/**
 * Smoke test of the e2e harness in a tiny configuration: real server and clients processes, real
 * sockets. Behaviour only (ops flow, replicas converge, children are cleaned up) — no timing
 * thresholds, since the machine is shared.
 */
import { describe, expect, it } from 'vitest';
import { linearFit, procStat, runIdleCell, runLoadCell } from '../src/e2e/harness';

const tiny = { clients: 3, warmupMs: 200, measureMs: 1_000, drainMs: 3_000 };

describe('e2e harness', () => {
  it('bare ws: every broadcast reaches the other clients', async () => {
    const result = await runLoadCell({ system: 'ws', rate: 0, ...tiny });
    expect(result.committedPerSec).toBeGreaterThan(0);
    expect(result.deliveredPerSec).toBeGreaterThan(0);
    expect(result.samples).toBeGreaterThan(0);
    expect(result.p99).toBeGreaterThanOrEqual(result.p50);
    expect(result.missing).toBe(0);
    expect(result.serverRss).toBeGreaterThan(0);
  }, 60_000);

  it('raw ShareDB at a fixed rate: ops are committed, delivered, and all replicas converge', async () => {
    const result = await runLoadCell({ system: 'sharedb', rate: 50, ...tiny });
    expect(result.committedPerSec).toBeGreaterThan(0);
    expect(result.deliveredPerSec).toBeGreaterThan(0);
    expect(result.errors).toEqual([]);
    expect(result.acked).toBe(result.typed);
    expect(result.converged).toBe('yes');
  }, 60_000);

  it('idle sockets: counts connections and measures server memory', async () => {
    const result = await runIdleCell('ws', 5);
    expect(result.connected).toBe(5);
    expect(result.loadedRss).toBeGreaterThan(0);
    expect(Number.isFinite(result.rssPerConnection)).toBe(true);
    expect(Number.isFinite(result.heapPerConnection)).toBe(true);
  }, 60_000);

  it('fits memory growth per connection by least squares', () => {
    expect(
      linearFit([
        [0, 100],
        [250, 600],
        [500, 1100],
        [750, 1600],
        [1000, 2100],
      ]),
    ).toEqual({ slope: 2, r2: 1 });
    const noisy = linearFit([
      [0, 0],
      [1, 3],
      [2, 1],
      [3, 4],
    ]);
    expect(noisy.slope).toBeCloseTo(1, 9);
    expect(noisy.r2).toBeLessThan(1);
  });

  it('reads CPU and RSS of a live process from /proc', () => {
    const stat = procStat(process.pid);
    if (stat === undefined) return; // not Linux
    expect(stat.rss).toBeGreaterThan(0);
    expect(stat.cpuMicros).toBeGreaterThan(0);
  });
});

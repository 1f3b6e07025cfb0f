/**
 * Smoke test of the e2e harness in a tiny configuration: real server and clients processes, real
 * sockets. Behaviour only (ops flow, replicas converge, children are cleaned up) — no timing
 * thresholds, since the machine is shared.
 */
import { spawn } from 'node:child_process';
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
    expect(stat.mainRunMicros).toBeGreaterThan(0);
    expect(stat.mainWaitMicros).toBeGreaterThanOrEqual(0);
  });

  it('tells a process that is always runnable from one that idles, whatever else shares the core', async () => {
    // Busy = the main thread's running + run-queue time over wall time: ~1 for a spinning process
    // even on a loaded machine (where its CPU share alone may be far lower), ~0 for a sleeping one.
    const busy = async (code: string) => {
      const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('spawn', resolve));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [a, t0] = [procStat(child.pid), performance.now()];
      await new Promise((resolve) => setTimeout(resolve, 500));
      const [b, t1] = [procStat(child.pid), performance.now()];
      child.kill('SIGKILL');
      if (a === undefined || b === undefined) return undefined;
      return (b.mainRunMicros + b.mainWaitMicros - a.mainRunMicros - a.mainWaitMicros) / 1000 / (t1 - t0);
    };
    const spinning = await busy('for (;;) {}');
    const sleeping = await busy('setTimeout(() => {}, 60_000)');
    if (spinning === undefined || sleeping === undefined || Number.isNaN(spinning)) return; // no schedstat
    expect(spinning).toBeGreaterThan(0.8);
    expect(sleeping).toBeLessThan(0.2);
  });
});

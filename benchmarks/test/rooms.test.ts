/**
 * Smoke test of the rooms suite's plumbing in a tiny room: real server and clients processes
 * (pinned as in the suite), real typists of each protocol family, raw viewers. Behaviour only —
 * ops flow, typists converge, every viewer proves it received every op, CPU is measured — with no
 * timing thresholds, since the machine is shared.
 */
import { describe, expect, it } from 'vitest';
import type { LoadCellResult } from '../src/e2e/harness';
import {
  CLIENT_BOUND,
  type Loop,
  planFor,
  type RoomsPlan,
  runRoomCell,
  summarize,
} from '../src/suites/rooms';

const tiny: RoomsPlan = {
  ...planFor({ quick: true }, {}),
  typists: 3,
  warmupMs: 200,
  measureMs: 800,
  drainMs: 4_000,
  rate: 60,
};

function expectComplete(result: LoadCellResult, viewers: number): void {
  expect(result.committedPerSec).toBeGreaterThan(0);
  expect(result.samples).toBeGreaterThan(0); // typists timed each other's keystrokes
  expect(result.errors).toEqual([]);
  expect(result.acked).toBe(result.typed);
  expect(result.converged).toBe('yes');
  expect(result.missing).toBe(0);
  expect(result.viewers?.count).toBe(viewers);
  expect(result.viewers?.failures).toEqual([]);
  expect(result.viewers?.complete).toBe(viewers);
  expect(result.viewers?.deliveredPerSec).toBeGreaterThan(0);
  for (const share of [result.serverCpu, result.clientCpu, result.serverBusy, result.clientBusy]) {
    expect(share).toBeGreaterThan(0);
    expect(Number.isFinite(share)).toBe(true);
  }
}

describe('rooms suite', () => {
  // One of each viewer family: Yjs sync, ShareDB plain JSON on Tandem, Tandem msgpack batches.
  const cells: [Parameters<typeof runRoomCell>[2], Loop][] = [
    ['hocuspocus', 'closed'],
    ['tandem-stock', 'closed'],
    ['tandem-msgpack', 'open'],
  ];
  for (const [system, loop] of cells) {
    it(`${system}, ${loop} loop: 3 typists + 2 viewers, everything delivered and proved`, async () => {
      expectComplete(await runRoomCell(tiny, { shape: 'room', size: 5, loop }, system), 2);
    }, 90_000);
  }

  it('reads its plan from the environment and refuses what it does not know', () => {
    const plan = planFor(
      { quick: false },
      { ROOMS_SYSTEMS: 'sharedb,tandem-stock', ROOMS_SIZES: '50', ROOMS_RUNS: '5', ROOMS_SHAPES: 'room,all' },
    );
    expect(plan).toMatchObject({
      systems: ['sharedb', 'tandem-stock'],
      sizes: [50],
      runs: 5,
      shapes: ['room', 'all'],
    });
    expect(planFor({ quick: false }, {})).toMatchObject({
      sizes: [100, 500],
      runs: 3,
      typists: 10,
      rate: 200,
    });
    expect(() => planFor({ quick: true }, { ROOMS_SYSTEMS: 'sharedb,nope' })).toThrow(/unknown system: nope/);
    expect(() => planFor({ quick: true }, { ROOMS_RUNS: 'two' })).toThrow(/ROOMS_RUNS/);
  });

  it('summarizes runs as median and range, flagging clients-bound and incomplete runs', () => {
    const run = (committedPerSec: number, clientCpu: number, complete = 2): LoadCellResult =>
      ({
        committedPerSec,
        p50: 1,
        p99: committedPerSec / 100,
        serverCpu: 0.5,
        serverBusy: 0.6,
        clientCpu,
        clientBusy: clientCpu,
        converged: 'yes',
        missing: 0,
        errors: [],
        viewers: {
          count: 2,
          complete,
          failures: complete < 2 ? ['short'] : [],
          deliveredPerSec: 1,
          opsPerFrame: 1,
          bytesPerOp: 1,
        },
      }) as unknown as LoadCellResult;
    const summary = summarize([
      run(300, 0.5),
      run(100, CLIENT_BOUND + 0.01, 1),
      { error: 'boom' },
      run(200, 0.2),
    ]);
    expect(summary.committed).toEqual({ median: 200, min: 100, max: 300 });
    expect(summary.clientBound).toBe(1);
    expect(summary.complete).toBe(2);
    expect(summary.incomplete).toEqual(['viewers 1/2 complete (short)']);
    expect(summary.errors).toEqual(['boom']);
    // Run order kept, a failed run a hole: systems are paired by run.
    expect(summary.p99ByRun).toEqual([3, 1, undefined, 2]);
  });
});

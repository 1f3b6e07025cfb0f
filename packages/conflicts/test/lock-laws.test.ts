/**
 * Laws of the lock rules (pure, over plain data), on random sequences of acquire and release calls
 * by editors and a document owner, in random batches at advancing times:
 * - batching: deciding a batch at once equals deciding its calls one by one (what makes the lock
 *   manager's batched writes correct);
 * - exclusion: no two live locks of different holders overlap; caps are never exceeded; only a
 *   document owner holds the root;
 * - a refused call changes nothing; a granted acquire is held right after, until now + ttl;
 * - the write: `lockOp` turns the stored document into exactly the decided locks (also from the
 *   older list form), touching only what changed.
 * fast-check prints the seed and the shrunk counterexample on failure; LOCK_LAW_RUNS sets the runs.
 */
import {
  decideLocks,
  type Lock,
  type LockCall,
  type LockLimits,
  type LockOutcome,
  lockOp,
} from '@tandem/conflicts';
import { apply, type Doc, type Path } from '@tandem/ot';
import fc from 'fast-check';
import { expect, test } from 'vitest';

const RUNS = Number(process.env.LOCK_LAW_RUNS ?? 300);
const OWNER = 'olga';

type RawCall =
  | { kind: 'acquire'; path: Path; owner: string; ttlMs: number }
  | { kind: 'release'; target: number; by: string | null };

const pathArb = fc.array(fc.constantFrom<string | number>('a', 'b', 0, 1), { maxLength: 3 });
const ownerArb = fc.constantFrom('u1', 'u2', 'u3', OWNER);
const callArb: fc.Arbitrary<RawCall> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      path: pathArb,
      owner: ownerArb,
      ttlMs: fc.integer({ min: 1, max: 20 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('release' as const),
      target: fc.nat(40),
      by: fc.option(ownerArb),
    }),
  },
);
const batchesArb = fc.array(
  fc.record({ dt: fc.integer({ min: 0, max: 8 }), calls: fc.array(callArb, { maxLength: 8 }) }),
  { maxLength: 10 },
);
const limitsArb = fc.record({
  maxPerDocument: fc.integer({ min: 1, max: 6 }),
  maxPerOwner: fc.integer({ min: 1, max: 4 }),
});

/** Ids are handed out in call order, so a release can name an earlier (or never issued) lock. */
function toCalls(raw: RawCall[], firstId: number): LockCall[] {
  return raw.map((c, i): LockCall => {
    if (c.kind === 'release') {
      const by = c.by === null ? undefined : { id: c.by, documentOwner: c.by === OWNER };
      return { kind: 'release', id: `l${c.target}`, by };
    }
    return {
      kind: 'acquire',
      request: { collection: 'c', docId: 'd', path: c.path, owner: c.owner },
      ttlMs: c.ttlMs,
      id: `l${firstId + i}`,
      documentOwner: c.owner === OWNER,
    };
  });
}

const overlaps = (a: Path, b: Path) => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
};
const byId = (locks: readonly Lock[]) => [...locks].sort((a, b) => (a.id < b.id ? -1 : 1));
const asDoc = (locks: readonly Lock[]) => ({ locks: Object.fromEntries(locks.map((l) => [l.id, l])) });

function checkInvariants(locks: readonly Lock[], limits: LockLimits, now: number): void {
  expect(locks.length).toBeLessThanOrEqual(limits.maxPerDocument);
  for (const l of locks) {
    expect(l.expiresAt).toBeGreaterThan(now);
    if (l.path.length === 0) expect(l.owner).toBe(OWNER);
    expect(locks.filter((o) => o.owner === l.owner).length).toBeLessThanOrEqual(limits.maxPerOwner);
    for (const o of locks) if (o !== l && o.owner !== l.owner) expect(overlaps(l.path, o.path)).toBe(false);
  }
}

type Batches = { dt: number; calls: RawCall[] }[];

/** Walk the batches: each at its time (`now` only advances), with lock ids unique across batches. */
function eachBatch(batches: Batches, step: (calls: LockCall[], now: number) => void): void {
  let now = 0;
  let nextId = 0;
  for (const batch of batches) {
    now += batch.dt;
    const calls = toCalls(batch.calls, nextId);
    nextId += calls.length;
    step(calls, now);
  }
}

test('batching: a batch decides exactly as its calls one by one; exclusion and caps always hold', () => {
  fc.assert(
    fc.property(batchesArb, limitsArb, (batches, limits) => {
      let locks: Lock[] = [];
      eachBatch(batches, (calls, now) => {
        const together = decideLocks(locks, calls, now, limits);
        let oneByOne = decideLocks(locks, [], now, limits).locks; // what expired is dropped either way
        const outcomes: LockOutcome[] = [];
        for (const call of calls) {
          const step = decideLocks(oneByOne, [call], now, limits);
          const outcome = step.outcomes[0];
          if (!outcome.ok) {
            // A refused call changes nothing (beyond dropping what had expired).
            expect(byId(step.locks)).toEqual(byId(decideLocks(oneByOne, [], now, limits).locks));
          } else if (call.kind === 'acquire') {
            expect(step.locks).toContainEqual(outcome.value);
            expect(outcome.value?.expiresAt).toBe(now + call.ttlMs);
          }
          outcomes.push(outcome);
          oneByOne = step.locks;
        }
        expect(byId(together.locks)).toEqual(byId(oneByOne));
        expect(together.outcomes).toEqual(outcomes);
        checkInvariants(together.locks, limits, now);
        locks = together.locks;
      });
    }),
    { numRuns: RUNS },
  );
});

test('the write: lockOp turns the stored document into the decided locks, one entry per change', () => {
  fc.assert(
    fc.property(batchesArb, limitsArb, fc.boolean(), (batches, limits, legacy) => {
      let stored: Doc = legacy ? { locks: [] } : { locks: {} };
      let locks: Lock[] = [];
      eachBatch(batches, (calls, now) => {
        const decided = decideLocks(locks, calls, now, limits);
        const op = lockOp(stored, decided.locks);
        const written = apply(stored, op) as Doc;
        if (op === null)
          expect(byId(decided.locks)).toEqual(
            byId(Object.values((stored as unknown as { locks: Record<string, Lock> }).locks)),
          );
        else expect(written).toEqual(asDoc(decided.locks));
        stored = written;
        locks = decided.locks;
      });
    }),
    { numRuns: RUNS },
  );
});

/**
 * Conflict reports are values and they are symmetric: what `a` sees transforming over `b` on the
 * left is the mirror of what `b` sees over `a` on the right (paths swapped, winner flipped).
 *
 * Restriction, on purpose: the full-set mirror law is checked for single-action ops. When one op
 * pair holds several conflicts, json1 resolves them one at a time and a resolution (say, removing
 * a dropped subtree) can subsume a later conflict; which one is met first depends on the transform
 * direction, so the two sides may list a different number of *subsumed* conflicts (about 1 in
 * 1,000 conflicting pairs of 4-action ops). The resulting documents still converge (laws.test.ts).
 */

import { type TransformConflict, transformWithConflicts } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docArb, json, prng, randomOp, runs } from './support/gen';

const RUNS = runs(2000);
const flip = {
  'op-wins': 'other-wins',
  'other-wins': 'op-wins',
  'both-removed': 'both-removed',
  merged: 'merged',
} as const;

const key = (c: TransformConflict): string =>
  `${c.kind} ${json(c.opPath)} ${json(c.otherPath)} ${c.resolution}`;
const mirrorKey = (c: TransformConflict): string =>
  `${c.kind} ${json(c.otherPath)} ${json(c.opPath)} ${flip[c.resolution]}`;

describe('conflict reports', () => {
  it('are mirror images for the two sides (single-action ops)', () => {
    fc.assert(
      fc.property(docArb, fc.integer(), fc.integer(), (doc, s1, s2) => {
        const a = randomOp(doc, prng(s1), { maxParts: 1, moveBias: 0.4 });
        const b = randomOp(doc, prng(s2), { maxParts: 1, moveBias: 0.4 });
        const mine = transformWithConflicts(a, b, 'left').conflicts.map(key).sort();
        const theirs = transformWithConflicts(b, a, 'right').conflicts.map(mirrorKey).sort();
        if (json(mine) !== json(theirs)) process.stderr.write(`repro conflicts: ${json({ doc, a, b })}\n`);
        expect(mine).toEqual(theirs);
      }),
      { numRuns: RUNS },
    );
  });

  it('kinds tell the collisions apart', () => {
    const kinds = (a: unknown, b: unknown) =>
      transformWithConflicts(a as never, b as never, 'left').conflicts.map((c) => c.kind);
    expect(kinds(['x', { i: 1 }], ['x', { i: 2 }])).toEqual(['same-field-write']);
    expect(kinds(['x', { r: true, i: 1 }], ['x', { r: true, i: 2 }])).toEqual(['same-field-write']);
    expect(kinds(['x', { r: true }], ['x', { es: ['a'] }])).toEqual(['delete-vs-edit']);
    expect(kinds(['x', { ena: 1 }], ['x', { r: true }])).toEqual(['delete-vs-edit']);
    expect(
      kinds(
        [
          ['a', { p: 0 }],
          ['x', { d: 0 }],
        ],
        ['x', { i: 2 }],
      ),
    ).toEqual(['move-collision']);
    expect(
      kinds(
        [
          ['a', { p: 0 }],
          ['b', 'x', { d: 0 }],
        ],
        [
          ['a', 'y', { d: 0 }],
          ['b', { p: 0 }],
        ],
      ),
    ).toEqual(['blackhole']);
    expect(kinds(['t', { es: [1, { d: 1 }] }], ['t', { es: [1, { d: 2 }] }])).toEqual(['overlapping-text']);
    expect(kinds(['t', { es: ['a'] }], ['u', { es: ['b'] }])).toEqual([]);
  });

  it('carries the conflicting parts of both ops and json1 type', () => {
    const [c] = transformWithConflicts(['x', 'y', { i: 1 }], ['x', { r: true }], 'left').conflicts;
    expect(c).toMatchObject({
      kind: 'delete-vs-edit',
      json1Type: 1,
      op: ['x', 'y', { i: 1 }],
      other: ['x', { r: true }],
      opPath: ['x', 'y'],
      otherPath: ['x'],
      resolution: 'other-wins',
    });
  });

  it('finds overlapping text edits inside moved strings, in base coordinates', () => {
    const a = [
      ['a', { p: 0 }],
      ['b', { d: 0, es: [1, { d: 2 }] }],
    ];
    const b = ['a', { es: [2, 'X'] }];
    const [c] = transformWithConflicts(a as never, b as never, 'left').conflicts;
    expect(c).toMatchObject({
      kind: 'overlapping-text',
      opPath: ['a'],
      otherPath: ['a'],
      opRanges: [{ start: 1, end: 3 }],
    });
  });
});

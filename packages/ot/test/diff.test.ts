import { apply, type Doc, diff, diffText, invert } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docArb, json, runs, valueArb } from './support/gen';

const RUNS = runs(1500);

describe('diff', () => {
  it('one-character change is a one-character text edit', () => {
    expect(diff({ t: 'hello world' }, { t: 'hello, world' })).toEqual(['t', { es: [5, ','] }]);
    expect(diff({ t: 'a😀b' }, { t: 'a😀cb' })).toEqual(['t', { es: [2, 'c'] }]);
    expect(diff({ t: 'abc' }, { t: 'ac' })).toEqual(['t', { es: [1, { d: 'b' }] }]);
  });

  it('text diff is minimal inside the changed middle (not a whole replace)', () => {
    const op = diffText('the quick brown fox', 'the quack brown fix');
    expect(op).toEqual([6, { d: 'i' }, 'a', 10, { d: 'o' }, 'i']);
    // 😀 and 😁 share their high surrogate: the diff must not split the pair.
    expect(diffText('a😀b', 'a😁b')).toEqual([1, { d: '😀' }, '😁']);
    expect(diffText('😀', '😀😀')).toEqual([1, '😀']);
  });

  it('objects: per-key structural edits; arrays: LCS', () => {
    expect(diff({ a: 1, b: 2 }, { a: 1, c: 3 })).toEqual([
      ['b', { r: 2 }],
      ['c', { i: 3 }],
    ]);
    expect(apply([1, 2, 3, 4], diff([1, 2, 3, 4], [1, 3, 4, 5]))).toEqual([1, 3, 4, 5]);
    expect(diff(['x', 'hello'], ['x', 'hello!'])).toEqual([1, { es: [5, '!'] }]);
    expect(diff(1, 'x')).toEqual([{ r: 1, i: 'x' }]);
    expect(diff({ a: 1 }, { a: 1 })).toBe(null);
  });

  it('diff(a, b) applied to a gives b, and is invertible (random)', () => {
    fc.assert(
      fc.property(fc.oneof(docArb, valueArb), fc.oneof(docArb, valueArb), (a: Doc, b: Doc) => {
        const op = diff(a, b);
        try {
          expect(apply(a, op)).toEqual(b);
          expect(apply(b, invert(op))).toEqual(a);
        } catch (e) {
          process.stderr.write(`repro diff: ${json({ a, b, op })}\n`);
          throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('diff of related documents (an edited copy) round-trips', () => {
    fc.assert(
      fc.property(docArb, fc.string(), (a, s) => {
        const b = JSON.parse(JSON.stringify(a)) as Record<string, Doc>;
        b.extra = s;
        for (const k of Object.keys(b)) if (typeof b[k] === 'string') b[k] = `${b[k]}😀`;
        expect(apply(a, diff(a, b))).toEqual(b);
      }),
      { numRuns: RUNS },
    );
  });
});

/** The keystroke fast paths must give json1's results exactly, and leave everything else to json1. */
import { apply, type Doc, type JSONOp } from '@tandem/ot';
import fc from 'fast-check';
import * as json1 from 'ot-json1';
import { describe, expect, it } from 'vitest';
import { prng, randomTextOp, runs, textArb } from './support/gen';

const bmpTextArb = fc
  .array(fc.constantFrom('a', 'b', ' ', 'é', 'ß'), { maxLength: 12 })
  .map((u) => u.join(''));

const docOf = (s: string): Doc => ({ title: 't', body: { paras: ['p0', s, 'p2'] }, n: 1 });
const PATH = ['body', 'paras', 1];

describe('keystroke apply', () => {
  it('equals json1.apply for a text edit of any string (BMP: fast path; astral: json1), input untouched', () => {
    fc.assert(
      fc.property(fc.oneof(bmpTextArb, textArb), fc.integer(), fc.string(), (s, seed, inserted) => {
        const doc = docOf(s);
        const before = JSON.stringify(doc);
        const es = randomTextOp(prng(seed), s);
        if (inserted !== '' && es.length === 0) es.push(inserted);
        const op = [...PATH, { es }] as JSONOp;
        let expected: unknown;
        try {
          expected = json1.type.apply(docOf(s) as never, op);
        } catch {
          expect(() => apply(doc, op)).toThrow(expect.objectContaining({ code: 'INVALID_OP' }));
          return;
        }
        const result = apply(doc, op) as { body: { paras: string[] }; title: string };
        expect(result).toEqual(expected);
        expect(JSON.stringify(doc)).toBe(before);
        // Untouched branches are shared, as json1 shares them.
        expect(result.body).not.toBe((doc as { body: unknown }).body);
      }),
      { numRuns: runs(500) },
    );
  });

  it('refuses what json1 refuses, with INVALID_OP (too long, empty parts, trailing skip, wrong target)', () => {
    const doc = docOf('hello');
    for (const es of [[9, 'x'], [''], [2], [2, 3, 'x'], [{ d: 0 }]]) {
      expect(() => apply(doc, [...PATH, { es }] as JSONOp), JSON.stringify(es)).toThrow(
        expect.objectContaining({ code: 'INVALID_OP' }),
      );
    }
    expect(() => apply(doc, ['n', { es: ['x'] }])).toThrow(expect.objectContaining({ code: 'INVALID_OP' }));
    expect(() => apply(doc, ['missing', { es: ['x'] }])).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
  });

  it('edits astral text and text around it by code points', () => {
    expect(apply({ s: 'a😀b' }, ['s', { es: [2, 'x'] }])).toEqual({ s: 'a😀xb' });
    expect(apply({ s: 'abc' }, ['s', { es: [1, '🎉', { d: 'b' }] }])).toEqual({ s: 'a🎉c' });
  });
});

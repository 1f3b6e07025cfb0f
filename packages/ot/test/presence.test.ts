import {
  apply,
  codePointLength,
  type Doc,
  move,
  type Path,
  type Presence,
  remove,
  replace,
  transformPosition,
  transformPresence,
  type,
} from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docArb, json, prng, randomOp, runs } from './support/gen';

const RUNS = runs(1500);
const at = (path: Path, offset: number, extra: Record<string, unknown> = {}): Presence => ({
  path,
  offset,
  ...extra,
});

describe('transformPresence', () => {
  it('is on the type under the name ShareDB calls', () => {
    expect(type.transformPresence).toBe(transformPresence);
  });

  it('inserts before the caret shift it; at the caret only for own ops', () => {
    const op = ['t', { es: [1, '😀x'] }];
    expect(transformPresence(at(['t'], 3), op, false)?.offset).toBe(5);
    expect(transformPresence(at(['t'], 1), op, false)?.offset).toBe(1);
    expect(transformPresence(at(['t'], 1), op, true)?.offset).toBe(3);
    expect(transformPresence(at(['t'], 0), op, true)?.offset).toBe(0);
  });

  it('deletes clamp, selections move, extra fields are kept', () => {
    const op = ['t', { es: [2, { d: 3 }] }];
    const p = { path: ['t'], offset: 4, selections: [{ anchor: 1, head: 6 }], name: 'ann' };
    expect(transformPresence(p, op, false)).toEqual({
      path: ['t'],
      offset: 2,
      selections: [{ anchor: 1, head: 3 }],
      name: 'ann',
    });
  });

  it('removal of the containing subtree drops the cursor; replacing the string too', () => {
    expect(transformPresence(at(['a', 't'], 1), remove(['a']), false)).toBe(null);
    expect(transformPresence(at(['t'], 1), replace(['t'], 'new'), false)).toBe(null);
    expect(transformPresence(null, remove(['a']), false)).toBe(null);
  });

  it('moves carry the path, and list inserts shift indexes', () => {
    expect(transformPresence(at(['a', 't'], 2), move(['a'], ['b']), false)).toEqual(at(['b', 't'], 2));
    expect(transformPresence(at(['l', 1], 2), ['l', 0, { i: 'x' }], false)).toEqual(at(['l', 2], 2));
    // a move plus an edit of the moved string: the edit sits at the destination
    expect(
      transformPresence(
        at(['a'], 2),
        [
          ['a', { p: 0 }],
          ['b', { d: 0, es: ['xy'] }],
        ],
        false,
      ),
    ).toEqual(at(['b'], 4));
  });

  it('transformPosition on whole values and text', () => {
    expect(transformPosition({ path: ['l', 0] }, ['l', 0, { i: 1 }])).toEqual({ path: ['l', 1] });
    expect(transformPosition({ path: ['t'], offset: 1 }, ['t', { es: ['ab'] }])).toEqual({
      path: ['t'],
      offset: 3,
    });
  });
});

function strings(
  doc: Doc,
  path: Path = [],
  out: { path: Path; s: string }[] = [],
): { path: Path; s: string }[] {
  if (typeof doc === 'string') out.push({ path, s: doc });
  else if (Array.isArray(doc)) for (let i = 0; i < doc.length; i++) strings(doc[i], [...path, i], out);
  else if (doc !== null && typeof doc === 'object')
    for (const k of Object.keys(doc)) strings(doc[k], [...path, k], out);
  return out;
}

function valueAt(doc: unknown, path: Path): unknown {
  let node = doc;
  for (const k of path) node = (node as Record<string | number, unknown> | undefined)?.[k];
  return node;
}

describe('transformed positions stay valid (random)', () => {
  it('a caret in a string stays inside the (moved, edited) string or is dropped', () => {
    fc.assert(
      fc.property(docArb, fc.integer(), fc.nat(), fc.boolean(), (doc, seed, pick, own) => {
        const targets = strings(doc);
        if (targets.length === 0) return;
        const rng = prng(seed);
        const target = targets[pick % targets.length];
        const len = codePointLength(target.s);
        const presence: Presence = {
          path: target.path,
          offset: pick % (len + 1),
          selections: [{ anchor: 0, head: len }],
        };
        const op = randomOp(doc, rng);
        const next = transformPresence(presence, op, own);
        if (next === null) return;
        const value = valueAt(apply(doc, op), next.path);
        try {
          expect(typeof value).toBe('string');
          const n = codePointLength(value as string);
          expect(next.offset).toBeGreaterThanOrEqual(0);
          expect(next.offset).toBeLessThanOrEqual(n);
          expect(next.selections?.[0].head).toBeLessThanOrEqual(n);
        } catch (e) {
          process.stderr.write(`repro presence: ${json({ doc, presence, op, own })}\n`);
          throw e;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

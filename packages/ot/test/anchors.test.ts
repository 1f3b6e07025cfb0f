/**
 * AnchorSet against the definition it optimises: every anchor moved on its own, each endpoint as a
 * remote caret (`transformPresence` of a selection, not own), through random op sequences with
 * moves, removals, replacements and text edits.
 */
import {
  type Anchor,
  AnchorSet,
  apply,
  codePointLength,
  type Doc,
  type JSONOp,
  type Path,
  transformPosition,
  transformPresence,
  transformSortedOffsets,
  transformTextOffset,
} from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { docArb, json, prng, randomOp, randomTextOp, runs } from './support/gen';

const RUNS = runs(400);

/** The component at `path` in the op tree (pick-side keys), found the plain way. */
function componentAt(op: unknown, path: Path): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  const walk = (list: unknown[], base: Path) => {
    const here = base.slice();
    for (const item of list) {
      if (Array.isArray(item)) walk(item, here);
      else if (typeof item === 'object' && item !== null) {
        if (here.length === path.length && here.every((k, i) => k === path[i]))
          found = item as Record<string, unknown>;
      } else here.push(item as string | number);
    }
  };
  if (Array.isArray(op)) walk(op, []);
  return found;
}

/** One anchor through one op, by the definition. */
function reference(anchor: Anchor | null, op: JSONOp): Anchor | null {
  if (anchor === null) return null;
  if (anchor.start === undefined || anchor.end === undefined) {
    const moved = transformPosition({ path: anchor.path }, op);
    if (moved !== null) return { path: moved.path };
    const c = componentAt(op, anchor.path);
    return c?.r !== undefined && c.i !== undefined ? anchor : null;
  }
  const presence = transformPresence(
    { path: anchor.path, selections: [{ anchor: anchor.start, head: anchor.end }] },
    op,
    false,
  );
  const range = presence?.selections?.[0];
  if (presence === null || range === undefined || range.anchor === range.head) return null;
  return { path: presence.path, start: range.anchor, end: range.head };
}

function slots(doc: Doc, path: Path = [], out: { path: Path; value: Doc }[] = []) {
  if (path.length > 0) out.push({ path, value: doc });
  if (Array.isArray(doc)) for (let i = 0; i < doc.length; i++) slots(doc[i], [...path, i], out);
  else if (doc !== null && typeof doc === 'object')
    for (const k of Object.keys(doc)) slots(doc[k], [...path, k], out);
  return out;
}

describe('transformSortedOffsets', () => {
  it('equals transformTextOffset (not sticking) on each offset', () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.nat(12), { maxLength: 10 }), (seed, raw) => {
        const rng = prng(seed);
        const edit = randomTextOp(rng, 'ab😀cdé🎉fgh');
        const offsets = [...raw].sort((a, b) => a - b);
        const points = offsets.map((o) => ({ o }));
        const from = offsets.length === 0 ? 0 : Math.floor(rng() * offsets.length);
        transformSortedOffsets(points, from, edit);
        const expected = offsets.map((o, i) => (i < from ? o : transformTextOffset(o, edit, false)));
        expect(
          points.map((p) => p.o),
          json({ edit, offsets, from }),
        ).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('AnchorSet', () => {
  it('moves every anchor as the per-anchor definition does, through random op sequences', () => {
    let cases = 0;
    fc.assert(
      fc.property(docArb, fc.integer(), (doc, seed) => {
        const rng = prng(seed);
        const targets = slots(doc);
        if (targets.length === 0) return;
        const set = new AnchorSet<number>();
        const expected = new Map<number, Anchor | null>();
        for (let k = 0; k < 12; k++) {
          const target = targets[Math.floor(rng() * targets.length)];
          let anchor: Anchor = { path: target.path };
          if (typeof target.value === 'string' && rng() < 0.8) {
            const n = codePointLength(target.value);
            if (n > 0) {
              const start = Math.floor(rng() * n);
              anchor = { path: target.path, start, end: start + 1 + Math.floor(rng() * (n - start)) };
            }
          }
          set.set(k, anchor);
          expected.set(k, anchor);
        }
        let current: Doc = doc;
        const ops: JSONOp[] = [];
        for (let step = 0; step < 8; step++) {
          const op = randomOp(current, rng);
          if (op === null) continue;
          ops.push(op);
          current = apply(current, op) as Doc;
          set.apply(op);
          for (const [k, a] of expected) expected.set(k, reference(a, op));
          for (const [k, a] of expected) {
            expect(set.get(k), `repro anchors: ${json({ doc, seed, key: k, ops })}`).toEqual(a);
          }
        }
        cases++;
      }),
      { numRuns: RUNS },
    );
    expect(cases).toBeGreaterThan(RUNS / 2);
  });

  it('detaches a range whose text is deleted, keeps whole values replaced in place, reports the last path', () => {
    const set = new AnchorSet<string>();
    set.set('word', { path: ['t'], start: 2, end: 4 });
    set.set('field', { path: ['status'] });
    set.set('item', { path: ['items', 1] });
    set.apply(['t', { es: [1, { d: 'xyzw' }] }]);
    expect(set.get('word')).toBe(null);
    expect(set.lastPath('word')).toEqual(['t']);
    set.apply(['status', { r: 'draft', i: 'done' }]);
    expect(set.get('field')).toEqual({ path: ['status'] });
    set.apply(['items', 0, { i: 'new' }]);
    expect(set.get('item')).toEqual({ path: ['items', 2] });
    set.apply(['items', 2, { r: true }]);
    expect(set.get('item')).toBe(null);
    expect(set.get('nope')).toBeUndefined();
  });

  it('follows a moved subtree and merges with anchors already at the destination', () => {
    const set = new AnchorSet<string>();
    set.set('a', { path: ['a', 't'], start: 0, end: 1 });
    set.set('b', { path: ['b', 't'], start: 1, end: 2 });
    set.set('c', { path: ['c'] });
    // a replaces b: b's anchors go with b, a's move into its place
    set.apply([
      ['a', { p: 0 }],
      ['b', { r: true, d: 0 }],
    ]);
    expect(set.get('a')).toEqual({ path: ['b', 't'], start: 0, end: 1 });
    expect(set.get('b')).toBe(null);
    expect(set.get('c')).toEqual({ path: ['c'] });
    set.set('b2', { path: ['b', 't'], start: 0, end: 3 });
    set.apply(['b', 't', { es: ['+'] }]);
    expect(set.get('a')).toEqual({ path: ['b', 't'], start: 0, end: 2 });
    expect(set.get('b2')).toEqual({ path: ['b', 't'], start: 0, end: 4 });
  });

  it('copies independently, detached anchors included', () => {
    const set = new AnchorSet<string>();
    set.set('a', { path: ['t'], start: 1, end: 2 });
    set.set('b', { path: ['u'] });
    set.detachKey('b');
    const copy = set.copy();
    copy.apply(['t', { es: ['xx'] }]);
    expect(copy.get('a')).toEqual({ path: ['t'], start: 3, end: 4 });
    expect(set.get('a')).toEqual({ path: ['t'], start: 1, end: 2 });
    expect(copy.get('b')).toBe(null);
    expect(copy.lastPath('b')).toEqual(['u']);
  });

  it('an edit in an unrelated string costs nothing: offsets there are not visited', () => {
    const set = new AnchorSet<number>();
    for (let i = 0; i < 1000; i++) set.set(i, { path: ['body'], start: i, end: i + 1 });
    set.apply(['title', { es: ['x'] }]);
    expect(set.get(999)).toEqual({ path: ['body'], start: 999, end: 1000 });
    set.apply(['body', { es: [500, 'xy'] }]);
    expect(set.get(499)).toEqual({ path: ['body'], start: 499, end: 500 });
    expect(set.get(500)).toEqual({ path: ['body'], start: 500, end: 503 });
    expect(set.get(501)).toEqual({ path: ['body'], start: 503, end: 504 });
  });
});

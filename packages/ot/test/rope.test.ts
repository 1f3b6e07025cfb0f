import {
  apply,
  type Doc,
  type JSONOp,
  Rope,
  ropeType,
  toCodePointIndex,
  toUtf16Index,
  type,
} from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpus, docArb, json, prng, randomOp, runs } from './support/gen';

const RUNS = runs(1000);

describe('Rope', () => {
  it('edits by code point across chunks, astral characters included', () => {
    const unit = 'ab😀c🎉';
    let plain = unit.repeat(600);
    const rope = new Rope(plain);
    const rng = prng(42);
    for (let i = 0; i < 3000; i++) {
      const cps = [...plain];
      const pos = Math.floor(rng() * (cps.length + 1));
      if (rng() < 0.5) {
        const ins = rng() < 0.5 ? '😀x' : 'yz';
        rope.insert(pos, ins);
        plain = cps.slice(0, pos).join('') + ins + cps.slice(pos).join('');
      } else {
        const n = Math.floor(rng() * (rng() < 0.1 ? 1500 : 20));
        rope.delete(pos, n);
        plain = cps.slice(0, pos).join('') + cps.slice(pos + n).join('');
      }
      if (i % 100 === 0) {
        expect(rope.toString()).toBe(plain);
        expect(rope.length).toBe([...plain].length);
        expect(rope.slice(3, 40)).toBe([...plain].slice(3, 40).join(''));
      }
    }
    expect(rope.toString()).toBe(plain);
    for (const k of [0, 1, 2, 101, 1500, plain.length]) {
      expect(rope.codePointOffset(k)).toBe(toCodePointIndex(plain, k));
      expect(rope.utf16Offset(k)).toBe(toUtf16Index(plain, k));
    }
  });

  it('JSON.stringify of a rope snapshot is plain JSON', () => {
    const snap = ropeType.create({ t: 'x'.repeat(2000), n: 1 });
    expect(JSON.parse(JSON.stringify(snap))).toEqual({ t: 'x'.repeat(2000), n: 1 });
  });
});

/** What an apply did: its result, or the code of the error it threw. */
function outcome(f: () => unknown): unknown {
  try {
    return { ok: f() };
  } catch (e) {
    return { code: (e as { code?: string }).code };
  }
}

describe('ropeType ≡ type on the same op stream', () => {
  it('random op streams over documents with long strings', () => {
    fc.assert(
      fc.property(docArb, fc.integer(), fc.integer({ min: 1, max: 8 }), (base, seed, steps) => {
        // A long string so ropes are in play; long enough to cross chunk boundaries.
        const doc = { ...(base as Record<string, Doc>), long: '😀ab'.repeat(400) } as Doc;
        let plain: Doc | undefined = doc;
        let rope = ropeType.deserialize(JSON.parse(JSON.stringify(doc)) as Doc);
        const rng = prng(seed);
        const ops: JSONOp[] = [];
        for (let i = 0; i < steps; i++) {
          const op = randomOp(plain as Doc, rng);
          ops.push(op);
          plain = apply(plain, op);
          rope = ropeType.apply(rope, op);
          try {
            expect(ropeType.serialize(rope)).toEqual(plain);
          } catch (e) {
            process.stderr.write(`repro rope: ${json({ doc, ops })}\n`);
            throw e;
          }
        }
        expect(type.isNoop(null)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('is all or nothing: a bad op throws INVALID_OP before any rope is edited', () => {
    const long = 'z'.repeat(700);
    const snap = ropeType.create({ a: long, b: 'short' });
    const bad: JSONOp = [
      ['a', { es: ['X'] }],
      ['b', { es: [99, 'Y'] }],
    ];
    expect(() => ropeType.apply(snap, bad)).toThrow(expect.objectContaining({ code: 'INVALID_OP' }));
    expect(ropeType.serialize(snap)).toEqual({ a: long, b: 'short' });
    expect(() => ropeType.apply(snap, ['a', { es: [701, 'Y'] }])).toThrow(/skips past the end/);
    expect(() => ropeType.apply(snap, ['n', { es: ['Y'] }])).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
    expect(ropeType.serialize(snap)).toEqual({ a: long, b: 'short' });
  });

  it('corpus: past plain/rope disagreements stay fixed', () => {
    for (const { doc, op } of corpus<{ doc: Doc; op: JSONOp }>('rope')) {
      expect(outcome(() => ropeType.serialize(ropeType.apply(ropeType.deserialize(doc), op)))).toEqual(
        outcome(() => apply(doc, op)),
      );
    }
  });

  it('accepts and refuses the same ops as the plain type (ops made for another document)', () => {
    fc.assert(
      fc.property(docArb, docArb, fc.integer(), (made, target, seed) => {
        const long = { ...(target as Record<string, Doc>), a: '😀x'.repeat(300) } as Doc;
        const source = { ...(made as Record<string, Doc>), a: '😀x'.repeat(290) } as Doc;
        const op = randomOp(source, prng(seed));
        const plain = outcome(() => apply(long, op));
        const rope = outcome(() => ropeType.serialize(ropeType.apply(ropeType.deserialize(long), op)));
        if (json(plain) !== json(rope)) process.stderr.write(`repro rope-invalid: ${json({ long, op })}\n`);
        expect(rope).toEqual(plain);
      }),
      { numRuns: RUNS },
    );
  });

  it('edits a root string and round-trips through serialize', () => {
    let snap = ropeType.create('😀'.repeat(600));
    snap = ropeType.apply(snap, [{ es: [600, '!'] }]);
    snap = ropeType.apply(snap, [{ es: [{ d: 1 }] }]);
    expect(ropeType.serialize(snap)).toBe(`${'😀'.repeat(599)}!`);
  });

  it('does not mutate the ops it applies', () => {
    const op: JSONOp = ['t', { i: 'y'.repeat(600), es: [1, 'Z'] }];
    const copy = JSON.parse(JSON.stringify(op));
    const snap = ropeType.apply(ropeType.create({}), op);
    ropeType.apply(snap, ['t', { es: [2, 'Q'] }]);
    expect(op).toEqual(copy);
    expect(ropeType.serialize(snap)).toEqual({ t: `yZQ${'y'.repeat(599)}` });
  });
});

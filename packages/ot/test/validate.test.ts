import { apply, assertValid, type Doc, type JSONOp, ropeType, validate } from '@tandem/ot';
import { TandemError } from '@tandem/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { corpus, docArb, json, prng, randomOp, runs } from './support/gen';

const failure = (op: unknown, doc?: never | object) => {
  const r = validate(op, doc as never);
  if (r.ok) throw new Error('expected a failure');
  return r.error;
};

describe('validate', () => {
  it('accepts valid ops', () => {
    expect(validate(null)).toEqual({ ok: true });
    expect(validate(['a', { es: [1, '😀'] }], { a: 'xy' } as never)).toEqual({ ok: true });
    expect(
      validate(
        [
          ['a', { p: 0 }],
          ['b', { d: 0 }],
        ],
        { a: 1 } as never,
      ),
    ).toEqual({ ok: true });
  });

  it('says what is wrong and where (shape)', () => {
    const e = failure(['a', 'b', { x: 1 }]);
    expect(e).toBeInstanceOf(TandemError);
    expect(e.code).toBe('INVALID_OP');
    expect(e.details).toEqual({ path: ['a', 'b'], reason: "unknown component key 'x'" });
    expect(failure(['a', { es: [0, 'x'] }]).details?.path).toEqual(['a']);
    expect(failure(['a', {}]).details?.reason).toBe('empty component');
    expect(failure('nope').details?.path).toEqual([]);
    expect(failure(['l', -1, { i: 1 }]).details?.reason).toMatch(/non-negative/);
  });

  it('checks against a document', () => {
    expect(failure(['a', { es: [5, 'x'] }], { a: '😀😀' }).details).toEqual({
      path: ['a'],
      reason: 'text edit spans 5 code points, string has 2',
    });
    expect(failure(['a', { es: ['x'] }], { a: 1 }).details?.reason).toBe(
      'text edit on a value that is not a string',
    );
    expect(failure(['x', 'y', { r: true }], { x: {} }).details).toEqual({
      path: ['x', 'y'],
      reason: 'nothing to remove here',
    });
    expect(failure(['a', { ena: 1 }], { a: 'x' }).details?.path).toEqual(['a']);
  });

  it('refuses keys that reach Object.prototype, in validate, apply and ropeType.apply', () => {
    const op = ['__proto__', 'polluted', { i: true }];
    expect(failure(op).details).toEqual({
      path: ['__proto__'],
      reason: "key '__proto__' is not allowed (it reaches Object.prototype)",
    });
    expect(() => apply({}, op as never)).toThrow(expect.objectContaining({ code: 'INVALID_OP' }));
    expect(() => ropeType.apply(ropeType.create({}), op as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
    expect(() => ropeType.apply(ropeType.create({}), ['constructor', { es: ['x'] }])).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(failure(['toString', { r: true }], {}).details?.reason).toBe('nothing to remove here');
  });

  it('has a throwing form', () => {
    expect(() => assertValid(['a', {}])).toThrow(TandemError);
    expect(() => assertValid(['a', { i: 1 }])).not.toThrow();
  });
});

describe('validate agrees with apply (random)', () => {
  it('corpus: past disagreements stay fixed', () => {
    for (const { doc, op } of corpus<{ doc: Doc; op: JSONOp }>('validate')) {
      let applies = true;
      try {
        apply(doc, op);
      } catch {
        applies = false;
      }
      const result = validate(op, doc);
      if (result.ok) expect(applies).toBe(true);
      else if (applies) expect(result.error.details?.reason).toMatch(/text edit spans/);
    }
  });

  // validate is stricter than apply in one place only: a text delete running past the end of its
  // string is clamped by ot-text-unicode's apply (and ours, to stay json1-compatible) but reported
  // by validate. So: valid ⇒ applies, and does not apply ⇒ invalid.
  it('an op made for one document: valid there ⇒ applies there; fails to apply ⇒ invalid', () => {
    fc.assert(
      fc.property(docArb, docArb, fc.integer(), (made, target, seed) => {
        const op = randomOp(made, prng(seed));
        let applies = true;
        try {
          apply(target, op);
        } catch {
          applies = false;
        }
        const result = validate(op, target);
        if (result.ok && !applies) process.stderr.write(`repro validate: ${json({ made, target, op })}\n`);
        if (result.ok) expect(applies).toBe(true);
        else if (applies) expect(result.error.details?.reason).toMatch(/text edit spans/);
        expect(validate(op, made).ok).toBe(true);
      }),
      { numRuns: runs(1500) },
    );
  });
});

import { apply, type JSONOp, transform, transformWithConflicts, type } from '@tandem/ot';
import fc from 'fast-check';
import * as json1 from 'ot-json1';
import { describe, expect, it } from 'vitest';
import { prng, randomTextOp, runs, textArb } from './support/gen';

/** Both orders of applying two concurrent ops must give the same document. */
function converge(doc: unknown, a: JSONOp, b: JSONOp) {
  const left = apply(apply(doc as never, a), transform(b, a, 'right'));
  const right = apply(apply(doc as never, b), transform(a, b, 'left'));
  expect(left).toEqual(right);
  return left;
}

describe('transform never throws on conflicts', () => {
  it('keeps json1 name and uri', () => {
    expect(type.name).toBe('json1');
    expect(type.uri).toBe('http://sharejs.org/types/JSONv1');
  });

  it('raw json1 throws where ours resolves', () => {
    const a: JSONOp = ['x', { i: 1 }];
    const b: JSONOp = ['x', { i: 2 }];
    expect(() => json1.type.transform(a, b, 'left')).toThrow(/conflict/);
    expect(() => transform(a, b, 'left')).not.toThrow();
  });

  it('throws only INVALID_OP, for malformed ops', () => {
    expect(() => transform(['x', {}] as JSONOp, ['x', { i: 1 }], 'left')).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
  });

  it('same-field write: left wins, reported', () => {
    const a: JSONOp = ['x', { i: 1 }];
    const b: JSONOp = ['x', { i: 2 }];
    expect(converge({}, a, b)).toEqual({ x: 1 });
    const r = transformWithConflicts(a, b, 'left');
    expect(r.conflicts).toMatchObject([
      { kind: 'same-field-write', json1Type: 2, opPath: ['x'], otherPath: ['x'], resolution: 'op-wins' },
    ]);
    expect(transformWithConflicts(b, a, 'right').conflicts[0]).toMatchObject({
      kind: 'same-field-write',
      resolution: 'other-wins',
    });
  });

  it('replace vs replace of the same field', () => {
    const a: JSONOp = ['x', { r: true, i: 1 }];
    const b: JSONOp = ['x', { r: true, i: 2 }];
    expect(converge({ x: 0 }, a, b)).toEqual({ x: 1 });
  });

  it('delete vs edit: the delete wins', () => {
    const a: JSONOp = ['x', { r: true }];
    const b: JSONOp = ['x', 'y', { i: 2 }];
    expect(converge({ x: {} }, a, b)).toEqual({});
    const r = transformWithConflicts(b, a, 'left');
    expect(r.conflicts).toMatchObject([
      {
        kind: 'delete-vs-edit',
        json1Type: 1,
        opPath: ['x', 'y'],
        otherPath: ['x'],
        resolution: 'other-wins',
      },
    ]);
  });

  it('delete vs text edit', () => {
    expect(converge({ x: 'abc' }, ['x', { r: true }], ['x', { es: [1, 'Z'] }])).toEqual({});
  });

  it('move collision', () => {
    const a: JSONOp = [
      ['a', { p: 0 }],
      ['c', { d: 0 }],
    ];
    const b: JSONOp = [
      ['b', { p: 0 }],
      ['c', { d: 0 }],
    ];
    converge({ a: 1, b: 2 }, a, b);
    expect(transformWithConflicts(a, b, 'left').conflicts[0]).toMatchObject({ kind: 'move-collision' });
  });

  it('blackhole: both moved items are removed', () => {
    const a: JSONOp = [
      ['a', { p: 0 }],
      ['b', 'x', { d: 0 }],
    ];
    const b: JSONOp = [
      ['a', 'y', { d: 0 }],
      ['b', { p: 0 }],
    ];
    expect(converge({ a: {}, b: {} }, a, b)).toEqual({});
    expect(transformWithConflicts(a, b, 'left').conflicts[0]).toMatchObject({
      kind: 'blackhole',
      resolution: 'both-removed',
    });
  });

  it('overlapping text edits are reported', () => {
    const a: JSONOp = ['t', { es: [1, { d: 3 }] }];
    const b: JSONOp = ['t', { es: [2, 'X'] }];
    expect(converge({ t: 'abcdef' }, a, b)).toEqual({ t: 'aXef' });
    const r = transformWithConflicts(a, b, 'left');
    expect(r.conflicts).toMatchObject([
      {
        kind: 'overlapping-text',
        opPath: ['t'],
        opRanges: [{ start: 1, end: 4 }],
        otherRanges: [{ start: 2, end: 2 }],
      },
    ]);
    expect(transformWithConflicts(['t', { es: ['Q'] }], b, 'left').conflicts).toEqual([]);
  });
});

describe('keystroke fast path', () => {
  // Two text edits of one string skip json1's cursors; the result must be json1's, bit for bit.
  it('gives json1’s transform for two text edits of one string, either side, with astral text', () => {
    fc.assert(
      fc.property(
        textArb,
        fc.integer(),
        fc.integer(),
        fc.constantFrom('left', 'right'),
        (s, s1, s2, side) => {
          const a: JSONOp = ['doc', 'body', { es: randomTextOp(prng(s1), s) }];
          const b: JSONOp = ['doc', 'body', { es: randomTextOp(prng(s2), s) }];
          expect(transform(a, b, side as 'left' | 'right')).toEqual(
            json1.type.transform(a, b, side as never),
          );
        },
      ),
      { numRuns: runs(500) },
    );
  });

  it('leaves other shapes to json1 (different strings, extra components)', () => {
    const a: JSONOp = ['a', { es: [1, 'x'] }];
    expect(transform(a, ['b', { es: ['y'] }], 'left')).toEqual(a);
    const both: JSONOp = [
      ['a', { es: ['y'] }],
      ['c', { i: 1 }],
    ];
    expect(transform(a, both, 'left')).toEqual(json1.type.transform(a, both, 'left'));
    expect(transform(both, a, 'right')).toEqual(json1.type.transform(both, a, 'right'));
    expect(transform(['a', { es: [{ d: 'ab' }] }], ['a', { es: [{ d: 'ab' }] }], 'left')).toBeNull();
  });

  it('refuses a malformed text edit with INVALID_OP', () => {
    expect(() => transform(['a', { es: [0] }] as JSONOp, ['a', { es: ['x'] }], 'left')).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
  });
});

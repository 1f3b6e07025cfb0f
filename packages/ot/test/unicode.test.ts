import {
  apply,
  codePointLength,
  deleteText,
  deleteTextAtCodePoint,
  insert,
  insertText,
  insertTextAtCodePoint,
  move,
  remove,
  replace,
  set,
  sliceCodePoints,
  spliceTextAtCodePoint,
  toCodePointIndex,
  toUtf16Index,
} from '@tandem/ot';
import { describe, expect, it } from 'vitest';

describe('unicode units', () => {
  const s = 'a😀b🎉c'; // UTF-16: a(0) 😀(1,2) b(3) 🎉(4,5) c(6)
  it('converts between UTF-16 and code points', () => {
    expect(s.length).toBe(7);
    expect(codePointLength(s)).toBe(5);
    expect(toCodePointIndex(s, 3)).toBe(2);
    expect(toCodePointIndex(s, 2)).toBe(1); // inside the pair: before it
    expect(toUtf16Index(s, 2)).toBe(3);
    expect(toUtf16Index(s, 99)).toBe(7);
    expect(sliceCodePoints(s, 1, 3)).toBe('😀b');
    expect(codePointLength('\ud800x')).toBe(2); // a lone surrogate counts as one
  });

  it('text builders convert UTF-16 indexes to code points', () => {
    const doc = { t: s };
    expect(insertText(['t'], 3, '!', s)).toEqual(['t', { es: [2, '!'] }]);
    expect(apply(doc, insertText(['t'], 3, '!', s))).toEqual({ t: 'a😀!b🎉c' });
    expect(apply(doc, deleteText(['t'], 1, 2, s))).toEqual({ t: 'ab🎉c' });
    expect(deleteText(['t'], 1, 2, s)).toEqual(['t', { es: [1, { d: '😀' }] }]);
    expect(apply(doc, insertTextAtCodePoint(['t'], 5, '🎉'))).toEqual({ t: `${s}🎉` });
    expect(apply(doc, deleteTextAtCodePoint(['t'], 0, 2))).toEqual({ t: 'b🎉c' });
    expect(apply(doc, spliceTextAtCodePoint(['t'], 3, 1, 'X'))).toEqual({ t: 'a😀bXc' });
    expect(spliceTextAtCodePoint(['t'], 3, 0, '')).toBe(null);
  });

  it('structural builders', () => {
    const doc = { a: 1, l: [1, 2] };
    expect(apply(doc, insert(['b'], 'x'))).toEqual({ a: 1, b: 'x', l: [1, 2] });
    expect(apply(doc, remove(['a']))).toEqual({ l: [1, 2] });
    expect(apply(doc, replace(['a'], 2, 1))).toEqual({ a: 2, l: [1, 2] });
    expect(apply(doc, set(['a'], 3, 1))).toEqual({ a: 3, l: [1, 2] });
    expect(apply(doc, set(['z'], 3))).toEqual({ a: 1, l: [1, 2], z: 3 });
    expect(apply(doc, move(['a'], ['l', 0]))).toEqual({ l: [1, 1, 2] });
    expect(apply(doc, insert(['l', 2], '😀'))).toEqual({ a: 1, l: [1, 2, '😀'] });
  });
});

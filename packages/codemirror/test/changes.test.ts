/**
 * The unit conversions at the heart of the binding, without a browser: CodeMirror change sets
 * (UTF-16) to text ops (code points) and back, on text full of surrogate pairs; the ranges field
 * mapping through edits at the state level; colour checking.
 */
import { ChangeSet, EditorState, Text } from '@codemirror/state';
import { getRanges, setRanges } from '@tandem/codemirror';
import { apply, editText, type TextOp } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lengthAfter, textEditAt, toChanges, toTextOp } from '../src/changes';
import { safeColour } from '../src/cursors';
import { textRanges } from '../src/ranges';

const chars = fc.constantFrom('a', 'Z', ' ', '\n', '😀', '𝒳', '字', '\u0301', '👩‍💻');
const text = fc.array(chars, { maxLength: 12 }).map((c) => c.join(''));

/** Code-point boundaries of `s` as UTF-16 indexes (where a user's edit can start or end). */
function boundaries(s: string): number[] {
  const out = [0];
  let i = 0;
  for (const c of s) {
    i += c.length;
    out.push(i);
  }
  return out;
}

/** A random change set over `doc` whose ranges start and end on code-point boundaries. */
function changeSet(doc: string): fc.Arbitrary<ChangeSet> {
  const b = boundaries(doc);
  return fc
    .array(fc.tuple(fc.integer({ min: 0, max: b.length - 1 }), fc.integer({ min: 0, max: 3 }), text), {
      maxLength: 4,
    })
    .map((edits) => {
      // Sorted, non-overlapping ranges in the original text, as CodeMirror's multi-cursor edits are.
      const specs: { from: number; to: number; insert: string }[] = [];
      let min = 0;
      for (const [start, len, insert] of edits.sort((x, y) => x[0] - y[0])) {
        const s = Math.max(start, min);
        if (s >= b.length) break;
        const e = Math.min(s + len, b.length - 1);
        specs.push({ from: b[s], to: b[e], insert });
        min = e + 1;
      }
      return ChangeSet.of(specs, doc.length);
    });
}

describe('change sets <-> text ops', () => {
  it('a change set as a text op does to the document what it does to the editor', () => {
    let cases = 0;
    fc.assert(
      fc.property(
        text.chain((doc) => fc.tuple(fc.constant(doc), changeSet(doc))),
        ([doc, changes]) => {
          cases++;
          const expected = changes.apply(Text.of(doc.split('\n'))).toString();
          const op = editText(['t'], toTextOp(doc, changes));
          expect((apply({ t: doc }, op) as { t: string }).t).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
    expect(cases).toBe(500);
  });

  it('a text op as changes does to the editor what it does to the document', () => {
    fc.assert(
      fc.property(
        text.chain((doc) => fc.tuple(fc.constant(doc), changeSet(doc))),
        ([doc, changes]) => {
          const edit = toTextOp(doc, changes);
          const mapped = toChanges(doc, edit);
          expect(mapped).toBeDefined();
          const after = ChangeSet.of(mapped ?? [], doc.length)
            .apply(Text.of(doc.split('\n')))
            .toString();
          expect(after).toBe(changes.apply(Text.of(doc.split('\n'))).toString());
          expect(lengthAfter(doc, mapped ?? [])).toBe(after.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('counts code points, not units, on the wire', () => {
    const doc = 'a😀b';
    const changes = ChangeSet.of([{ from: 3, to: 4, insert: '𝒳' }], doc.length); // replace "b"
    expect(toTextOp(doc, changes)).toEqual([2, { d: 'b' }, '𝒳']);
    expect(toChanges('😀😀x', [2, 'y'])).toEqual([{ from: 4, to: 4, insert: 'y' }]);
    expect(toChanges('😀😀x', [1, { d: 1 }])).toEqual([{ from: 2, to: 4, insert: '' }]);
  });

  it('refuses a text op that does not fit the text', () => {
    expect(toChanges('ab', [3, 'x'])).toBeUndefined();
    expect(toChanges('a😀', [1, { d: 2 }])).toBeUndefined();
    expect(toChanges('a😀', [2, 'x'])).toEqual([{ from: 3, to: 3, insert: 'x' }]);
  });

  it('finds the text edit of an op that only edits the string at the path', () => {
    const es: TextOp = [1, 'x'];
    expect(textEditAt(['body', { es }], ['body'])).toEqual(es);
    expect(textEditAt(['items', 0, 'text', { es }], ['items', 0, 'text'])).toEqual(es);
    expect(textEditAt(['other', { es }], ['body'])).toBeUndefined();
    expect(textEditAt(['body', { r: 'old', i: 'new' }], ['body'])).toBeUndefined();
    expect(
      textEditAt(
        [
          ['body', { es }],
          ['title', { es }],
        ],
        ['body'],
      ),
    ).toBeUndefined();
    expect(textEditAt(null, ['body'])).toBeUndefined();
  });
});

describe('text ranges (state level)', () => {
  it('take code points, move with edits, and come back in code points', () => {
    let state = EditorState.create({ doc: '😀 hello 𝒳 world', extensions: textRanges });
    // "hello" is code points 2..7 (UTF-16 3..8).
    state = state.update({ effects: setRanges([{ from: 2, to: 7, className: 'c' }]) }).state;
    expect(getRanges(state)).toEqual([{ from: 2, to: 7, className: 'c' }]);
    state = state.update({ changes: { from: 0, insert: '𝒳𝒳' } }).state; // 2 code points before
    expect(getRanges(state)).toEqual([{ from: 4, to: 9, className: 'c' }]);
    state = state.update({ changes: { from: 9, insert: '😀' } }).state; // inside "hello"
    expect(getRanges(state)).toEqual([{ from: 4, to: 10, className: 'c' }]);
    state = state.update({ changes: { from: 7, to: 15 } }).state; // its text deleted
    expect(getRanges(state)).toEqual([]);
  });

  it('accept only inert attributes and sane offsets', () => {
    expect(() =>
      setRanges([{ from: 0, to: 1, className: 'c', attributes: { 'data-id': '"><x' } }]),
    ).not.toThrow();
    for (const name of ['onclick', 'style', 'href', 'data-', 'DATA-X', 'srcdoc'])
      expect(() => setRanges([{ from: 0, to: 1, className: 'c', attributes: { [name]: 'x' } }])).toThrow(
        expect.objectContaining({ code: 'INVALID_CONFIG' }),
      );
    expect(() => setRanges([{ from: 2, to: 1, className: 'c' }])).toThrow(
      expect.objectContaining({ code: 'INVALID_CONFIG' }),
    );
  });
});

describe('peer colours', () => {
  it('pass CSS colours and refuse anything that could leave a style value', () => {
    for (const ok of ['#e6194b', '#abc', 'rebeccapurple', 'rgb(1, 2, 3)', 'hsl(120deg 50% 50% / 0.5)'])
      expect(safeColour(ok)).toBe(ok);
    for (const bad of [
      'red;background:url(x)',
      'url(javascript:alert(1))',
      'red" onmouseover="x',
      'rgb(1,2,3));x:y',
      'var(--x)',
      'expression(alert(1))',
      '',
      42,
      undefined,
    ])
      expect(safeColour(bad)).toBe('#888888');
  });
});

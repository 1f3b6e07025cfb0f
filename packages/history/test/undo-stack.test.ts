import { applyRemote, createUndoStack, recordEdit, redo, undo } from '@tandem/history';
import { apply, type Doc, insertTextAtCodePoint, replace } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editSpec, type Field, INITIAL, opFor } from './gen';

describe('undo stack', () => {
  it('undo then redo restores; a new edit clears redo', () => {
    let doc: Doc = INITIAL;
    let stack = createUndoStack();
    const op = insertTextAtCodePoint(['a'], 0, 'X');
    stack = recordEdit(stack, op, doc);
    doc = apply(doc, op) as Doc;
    const u = undo(stack, doc);
    expect(u).not.toBeNull();
    doc = apply(doc, u?.op ?? null) as Doc;
    expect(doc).toEqual(INITIAL);
    const r = redo(u?.stack ?? stack, doc);
    doc = apply(doc, r?.op ?? null) as Doc;
    expect(doc).toEqual({ ...INITIAL, a: 'Xhello' });
    expect(undo(createUndoStack(), doc)).toBeNull();
    const fresh = recordEdit(r?.stack ?? stack, replace(['c'], 'y', ''), doc);
    expect(fresh.redo).toHaveLength(0);
  });

  it('keeps at most `limit` entries', () => {
    let stack = createUndoStack(2);
    let doc: Doc = INITIAL;
    for (let i = 0; i < 5; i++) {
      const op = insertTextAtCodePoint(['a'], 0, `${i}`);
      stack = recordEdit(stack, op, doc);
      doc = apply(doc, op) as Doc;
    }
    expect(stack.undo).toHaveLength(2);
  });

  it('undoing every local edit after interleaved remote edits leaves only the remote edits (disjoint fields)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), editSpec), { maxLength: 20 }), (steps) => {
        let doc: Doc = INITIAL;
        let remoteOnly: Doc = INITIAL;
        let stack = createUndoStack();
        for (const [local, spec] of steps) {
          // Local edits on a and b, remote ones on c: so the expected result is exact.
          const field: Field = local ? (spec.field === 'c' ? 'a' : spec.field) : 'c';
          const op = opFor({ ...spec, field }, doc as Record<Field, string>);
          if (local) stack = recordEdit(stack, op, doc);
          else {
            stack = applyRemote(stack, op);
            remoteOnly = apply(
              remoteOnly,
              opFor({ ...spec, field }, remoteOnly as Record<Field, string>),
            ) as Doc;
          }
          doc = apply(doc, op) as Doc;
        }
        for (let step = undo(stack, doc); step !== null; step = undo(stack, doc)) {
          doc = apply(doc, step.op) as Doc;
          stack = step.stack;
        }
        expect(doc).toEqual(remoteOnly);
      }),
      { numRuns: 200 },
    );
  });

  it('rebases over a remote edit in the same string', () => {
    let doc: Doc = { a: 'hello' };
    let stack = createUndoStack();
    const mine = insertTextAtCodePoint(['a'], 5, '!');
    stack = recordEdit(stack, mine, doc);
    doc = apply(doc, mine) as Doc;
    const theirs = insertTextAtCodePoint(['a'], 0, 'oh ');
    stack = applyRemote(stack, theirs);
    doc = apply(doc, theirs) as Doc;
    const step = undo(stack, doc);
    expect(apply(doc, step?.op ?? null)).toEqual({ a: 'oh hello' });
  });
});

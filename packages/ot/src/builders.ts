/**
 * Op builders. Every builder returns a plain, normalized json1 op. Text builders come in two units:
 * `insertText` / `deleteText` take UTF-16 indexes (what a textarea or `String#indexOf` gives) plus
 * the current string to convert with; the `…AtCodePoint` forms take code points, the unit of the op.
 */
import { type Doc, type JSONOp, json1, type Path, type TextOp, text } from './json1';
import { sliceCodePoints, toCodePointIndex } from './unicode';

/** Insert `value` at `path`: a new object key, or a list index (later items shift). */
export function insert(path: Path, value: Doc): JSONOp {
  return json1.writeCursor().writeAtPath(path, 'i', value).get();
}

/**
 * Remove the value at `path`. Pass the current value to make the op invertible (`invert` needs it);
 * without it the op still applies and transforms.
 */
export function remove(path: Path, current: Doc | true = true): JSONOp {
  return json1.writeCursor().writeAtPath(path, 'r', current).get();
}

/** Replace the existing value at `path` by `value` (pass `current` for an invertible op). */
export function replace(path: Path, value: Doc, current: Doc | true = true): JSONOp {
  return json1
    .writeCursor()
    .at(path, (w) => {
      w.write('r', current);
      w.write('i', value);
    })
    .get();
}

/**
 * Set `path` to `value` whether or not it exists: a replace when `current` is given (the value
 * there now), an insert when it is `undefined`.
 */
export function set(path: Path, value: Doc, current?: Doc): JSONOp {
  return current === undefined ? insert(path, value) : replace(path, value, current);
}

/** Move the value at `from` to `to` (`to` is the path in the document after the pick). */
export function move(from: Path, to: Path): JSONOp {
  return json1.writeCursor().writeMove(from, to).get();
}

/** Apply a raw text-unicode op (code points) to the string at `path`. */
export function editText(path: Path, edit: TextOp): JSONOp {
  const normalized = text.normalize(edit);
  if (normalized.length === 0) return null;
  return json1.writeCursor().writeAtPath(path, 'es', normalized).get();
}

/** Delete `deleteCount` code points at code point `at`, then insert `insertText` there. */
export function spliceTextAtCodePoint(
  path: Path,
  at: number,
  deleteCount: number,
  insertText: string,
): JSONOp {
  // Built by hand: this is the per-keystroke hot path (no normalize pass needed for this shape).
  const edit: TextOp = [];
  if (at > 0) edit.push(at);
  if (deleteCount > 0) edit.push({ d: deleteCount });
  if (insertText.length > 0) edit.push(insertText);
  if (edit.length === 0 || (edit.length === 1 && typeof edit[0] === 'number')) return null;
  return [...path, { es: edit }];
}

/** Insert `insertText` at code point `at` of the string at `path`. */
export function insertTextAtCodePoint(path: Path, at: number, insertText: string): JSONOp {
  return spliceTextAtCodePoint(path, at, 0, insertText);
}

/** Delete `count` code points at code point `at` of the string at `path`. */
export function deleteTextAtCodePoint(path: Path, at: number, count: number): JSONOp {
  return spliceTextAtCodePoint(path, at, count, '');
}

/** Insert `insertText` at UTF-16 index `utf16Index` of `current`, the string now at `path`. */
export function insertText(path: Path, utf16Index: number, insertText: string, current: string): JSONOp {
  return insertTextAtCodePoint(path, toCodePointIndex(current, utf16Index), insertText);
}

/**
 * Delete `utf16Length` UTF-16 units at UTF-16 index `utf16Index` of `current`, the string now at
 * `path`. The deleted text is carried in the op, so it is invertible.
 */
export function deleteText(path: Path, utf16Index: number, utf16Length: number, current: string): JSONOp {
  const from = toCodePointIndex(current, utf16Index);
  const to = toCodePointIndex(current, utf16Index + utf16Length);
  const deleted = sliceCodePoints(current, from, to);
  if (deleted.length === 0) return null;
  const edit: TextOp = from > 0 ? [from, { d: deleted }] : [{ d: deleted }];
  return [...path, { es: edit }];
}

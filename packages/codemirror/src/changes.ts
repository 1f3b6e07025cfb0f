/**
 * CodeMirror changes <-> Tandem text edits. CodeMirror counts UTF-16 units; text ops count code
 * points (an emoji is two units and one code point). Both directions walk the text as it was before
 * the change, so every position is converted against the string it refers to.
 */
import type { ChangeSet } from '@codemirror/state';
import { codePointLength, type JSONOp, type Path, type TextOp, toUtf16Index } from '@tandem/ot';

/** One CodeMirror change in UTF-16 units of the text before it. */
export interface Change {
  from: number;
  to: number;
  insert: string;
}

/** The text edit a local CodeMirror change set makes to `before` (the editor text it applies to). */
export function toTextOp(before: string, changes: ChangeSet): TextOp {
  const edit: TextOp = [];
  let at = 0; // UTF-16 index in `before` up to which the edit is written
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    const skip = codePointLength(before.slice(at, fromA));
    if (skip > 0) edit.push(skip);
    // The deleted text itself (not a count), so the op can be inverted for undo without the doc.
    if (toA > fromA) edit.push({ d: before.slice(fromA, toA) });
    if (inserted.length > 0) edit.push(inserted.toString());
    at = toA;
  });
  return edit;
}

/** UTF-16 index `count` code points after `index` in `text`, or -1 past the end. */
function advance(text: string, index: number, count: number): number {
  if (count === 0) return index;
  const rest = text.slice(index);
  const step = toUtf16Index(rest, count);
  if (step === rest.length && codePointLength(rest) < count) return -1;
  return index + step;
}

/**
 * The CodeMirror changes a text edit makes to `before`, or undefined when the edit does not fit
 * `before` (it skips or deletes past its end).
 */
export function toChanges(before: string, edit: TextOp): Change[] | undefined {
  const changes: Change[] = [];
  let at = 0;
  for (const c of edit) {
    if (typeof c === 'number') {
      at = advance(before, at, c);
      if (at < 0) return undefined;
    } else if (typeof c === 'string') {
      changes.push({ from: at, to: at, insert: c });
    } else {
      const end = advance(before, at, typeof c.d === 'number' ? c.d : codePointLength(c.d));
      if (end < 0) return undefined;
      changes.push({ from: at, to: end, insert: '' });
      at = end;
    }
  }
  return changes;
}

/** Length of `before` after `changes` (cheap check that a mapped edit gives the expected text). */
export function lengthAfter(before: string, changes: readonly Change[]): number {
  let length = before.length;
  for (const c of changes) length += c.insert.length - (c.to - c.from);
  return length;
}

/**
 * The text edit `op` makes to the string at `path` when that is all it does: `[...path, { es }]`,
 * the shape of a keystroke (and of several keystrokes ShareDB composed). Undefined for any other
 * op, whose effect on the string is then found by diffing.
 */
export function textEditAt(op: JSONOp, path: Path): TextOp | undefined {
  if (!Array.isArray(op) || op.length !== path.length + 1) return undefined;
  for (let i = 0; i < path.length; i++) if (op[i] !== path[i]) return undefined;
  const last = op[path.length] as { es?: unknown };
  if (typeof last !== 'object' || last === null || Array.isArray(last)) return undefined;
  if (Object.keys(last).length !== 1 || !Array.isArray(last.es)) return undefined;
  return last.es as TextOp;
}

/** The value at `path` of `data`, when it is a string. */
export function stringAt(data: unknown, path: Path): string | undefined {
  let node = data;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return typeof node === 'string' ? node : undefined;
}

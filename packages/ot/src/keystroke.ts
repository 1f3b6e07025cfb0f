/**
 * Fast paths for the commonest op of a live room: one text edit of one string, `[...path, { es }]`.
 * A server transforms each keystroke over every one it missed and every client applies every
 * keystroke; through json1's cursors and text-unicode's code-point walk those were most of the CPU
 * of a busy room. Each function here returns json1's exact result, or `undefined` to leave the op
 * to json1 (any other shape, anything json1 would refuse: its errors stay its own).
 */
import type { Doc, JSONOp, JSONOpComponent, TextOp } from './json1';
import { text } from './json1';

/** The text edit of an op that is one text edit and nothing else; undefined for any other op. */
export function soleTextEdit(op: JSONOp): TextOp | undefined {
  if (!Array.isArray(op) || op.length < 2) return undefined;
  const last = op[op.length - 1] as JSONOpComponent;
  if (typeof last !== 'object' || last === null || Array.isArray(last) || last.es === undefined)
    return undefined;
  for (const key in last) if (key !== 'es') return undefined;
  for (let i = 0; i < op.length - 1; i++) {
    const k = op[i];
    if (typeof k !== 'string' && typeof k !== 'number') return undefined;
  }
  return last.es as TextOp;
}

/** Two keystrokes in one string: the text type's transform (it validates both edits). */
export function transformKeystrokes(op: JSONOp, other: JSONOp, side: 'left' | 'right'): JSONOp | undefined {
  const mine = soleTextEdit(op);
  if (mine === undefined) return undefined;
  const theirs = soleTextEdit(other);
  if (theirs === undefined) return undefined;
  const a = op as unknown[];
  const b = other as unknown[];
  if (a.length !== b.length) return undefined;
  for (let i = 0; i < a.length - 1; i++) if (a[i] !== b[i]) return undefined;
  const es = text.transform(mine, theirs, side);
  return es.length === 0 ? null : ([...a.slice(0, -1), { es }] as JSONOp);
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * A text edit of a string without surrogate pairs, where code points are UTF-16 units: plain
 * slicing instead of counting code points from the start. Undefined for anything else.
 */
function editBmpString(s: string, edit: TextOp): string | undefined {
  if (SURROGATE.test(s)) return undefined;
  const parts: string[] = [];
  let pos = 0;
  let last: unknown = null;
  for (const c of edit) {
    if (typeof c === 'number') {
      if (!(c > 0) || typeof last === 'number' || pos + c > s.length) return undefined;
      parts.push(s.slice(pos, pos + c));
      pos += c;
    } else if (typeof c === 'string') {
      if (c.length === 0) return undefined;
      parts.push(c);
    } else {
      const d = (c as { d?: unknown }).d;
      const n = typeof d === 'number' ? d : typeof d === 'string' && !SURROGATE.test(d) ? d.length : 0;
      if (!(n > 0) || pos + n > s.length) return undefined;
      pos += n;
    }
    last = c;
  }
  if (typeof last === 'number') return undefined;
  parts.push(s.slice(pos));
  return parts.join('');
}

/** Apply a keystroke, copying the containers on its path as json1 does; undefined: not handled. */
export function applyKeystroke(doc: Doc | undefined, op: JSONOp): Doc | undefined {
  const edit = soleTextEdit(op);
  if (edit === undefined) return undefined;
  const path = op as (string | number)[];
  const depth = path.length - 1;
  const chain: Doc[] = [];
  let node: Doc | undefined = doc;
  for (let i = 0; i < depth; i++) {
    const key = path[i];
    if (typeof node !== 'object' || node === null) return undefined;
    if (typeof key === 'number' ? !Array.isArray(node) || key < 0 || key >= node.length : Array.isArray(node))
      return undefined;
    if (typeof key === 'string' && !Object.hasOwn(node, key)) return undefined;
    chain.push(node);
    node = (node as Record<string | number, Doc>)[key];
  }
  if (typeof node !== 'string') return undefined;
  let value: Doc | undefined = editBmpString(node, edit);
  if (value === undefined) return undefined;
  for (let i = depth - 1; i >= 0; i--) {
    const container = chain[i];
    const copy = (Array.isArray(container) ? container.slice() : { ...(container as object) }) as Record<
      string | number,
      Doc
    >;
    copy[path[i]] = value;
    value = copy as Doc;
  }
  return value;
}

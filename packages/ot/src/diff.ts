/**
 * `diff(before, after)`: a small json1 op turning `before` into `after`.
 * - strings: common prefix/suffix trimmed, then a Myers diff over code points of the middle, so a
 *   one-character change is a one-character text edit;
 * - objects: per-key insert / remove / recurse;
 * - arrays: a Myers (LCS) diff over the elements; a run of removed elements facing a run of
 *   inserted ones is paired up and diffed in place (so editing a string inside a list stays a
 *   text edit);
 * - anything else that differs: a replace.
 * Removes carry the removed content and text deletes carry the deleted text, so the op is invertible.
 */
import { type Doc, type JSONOp, json1, type Path, type TextOp } from './json1';
import { codePointLength } from './unicode';

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * Past this many differences the Myers search stops and the middle is replaced wholesale: the cost
 * is O((N+M)·D) time and O(D²) memory, and a diff that large is not worth being minimal.
 * @default 2000
 */
export const MAX_DIFF_EDITS = 2000;

/** An op turning `before` into `after` (null when they are equal). */
export function diff(before: Doc | undefined, after: Doc | undefined): JSONOp {
  const ops: JSONOp[] = [];
  diffAt(before, after, [], ops);
  let op: JSONOp = null;
  for (const o of ops) op = json1.compose(op, o);
  return op;
}

const isObject = (v: Doc | undefined): v is { [key: string]: Doc } =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function write(path: Path, fill: (w: ReturnType<typeof json1.writeCursor>) => void): JSONOp {
  const w = json1.writeCursor();
  w.at(path, fill);
  return w.get();
}

/** Push onto `ops` the ops (to apply in order) turning `a` at `path` into `b`. */
function diffAt(a: Doc | undefined, b: Doc | undefined, path: Path, ops: JSONOp[]): void {
  if (a === b) return;
  if (typeof a === 'string' && typeof b === 'string') {
    const edit = diffText(a, b);
    if (edit !== null) ops.push(write(path, (w) => w.write('es', edit)));
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) {
      if (!(k in b)) ops.push(write([...path, k], (w) => w.write('r', a[k])));
      else diffAt(a[k], b[k], [...path, k], ops);
    }
    for (const k of Object.keys(b)) if (!(k in a)) ops.push(write([...path, k], (w) => w.write('i', b[k])));
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArray(a, b, path, ops);
    return;
  }
  ops.push(
    write(path, (w) => {
      if (a !== undefined) w.write('r', a);
      if (b !== undefined) w.write('i', b);
    }),
  );
}

// ---- strings ---------------------------------------------------------------------------------

/** A text-unicode op turning `a` into `b` (code points), or null when equal. */
export function diffText(a: string, b: string): TextOp | null {
  if (a === b) return null;
  // Trim in UTF-16 units (cheap, no allocation), then step back off any split surrogate pair.
  let pre = 0;
  const min = Math.min(a.length, b.length);
  while (pre < min && a.charCodeAt(pre) === b.charCodeAt(pre)) pre++;
  if (pre > 0 && isHigh(a.charCodeAt(pre - 1))) pre--;
  let suf = 0;
  while (suf < min - pre && a.charCodeAt(a.length - 1 - suf) === b.charCodeAt(b.length - 1 - suf)) suf++;
  if (suf > 0 && isLow(a.charCodeAt(a.length - suf))) suf--;
  const midA = Array.from(a.slice(pre, a.length - suf));
  const midB = Array.from(b.slice(pre, b.length - suf));
  const preCp = codePointLength(a.slice(0, pre));
  const script = myers(midA, midB) ?? [
    ...(midA.length > 0 ? [{ kind: 'del' as const, a: 0, n: midA.length }] : []),
    ...(midB.length > 0 ? [{ kind: 'ins' as const, b: 0, n: midB.length }] : []),
  ];
  const op: TextOp = [];
  if (preCp > 0) op.push(preCp);
  for (const e of script) {
    if (e.kind === 'eq') op.push(e.n);
    else if (e.kind === 'del') op.push({ d: midA.slice(e.a, e.a + e.n).join('') });
    else op.push(midB.slice(e.b, e.b + e.n).join(''));
  }
  while (op.length > 0 && typeof op[op.length - 1] === 'number') op.pop();
  return op;
}

type Step =
  | { kind: 'eq'; a: number; b: number; n: number }
  | { kind: 'del'; a: number; n: number }
  | { kind: 'ins'; b: number; n: number };

/** Myers' O((N+M)·D) shortest edit script, as runs; null when it needs more than MAX_DIFF_EDITS edits. */
function myers<T>(a: readonly T[], b: readonly T[]): Step[] | null {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    if (d > MAX_DIFF_EDITS) return null;
    trace.push(v.slice(off - d, off + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, n, m);
    }
  }
  return [];
}

function backtrack(trace: Int32Array[], dEnd: number, n: number, m: number): Step[] {
  const steps: Step[] = [];
  const push = (s: Step): void => {
    const last = steps[steps.length - 1];
    // Steps are produced back to front; merge with the run after them.
    if (last !== undefined && last.kind === s.kind) {
      last.n += s.n;
      if (s.kind === 'eq' && last.kind === 'eq') {
        last.a = s.a;
        last.b = s.b;
      } else if (s.kind === 'del' && last.kind === 'del') last.a = s.a;
      else if (s.kind === 'ins' && last.kind === 'ins') last.b = s.b;
    } else steps.push(s);
  };
  let x = n;
  let y = m;
  for (let d = dEnd; d > 0; d--) {
    const vp = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vp[k - 1 + d] < vp[k + 1 + d]) ? k + 1 : k - 1;
    const prevX = vp[prevK + d];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      push({ kind: 'eq', a: x, b: y, n: 1 });
    }
    if (x === prevX) {
      y--;
      push({ kind: 'ins', b: y, n: 1 });
    } else {
      x--;
      push({ kind: 'del', a: x, n: 1 });
    }
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    push({ kind: 'eq', a: x, b: y, n: 1 });
  }
  return steps.reverse();
}

// ---- arrays ----------------------------------------------------------------------------------

interface Group {
  /** Index in `a` where the change starts. */
  at: number;
  removed: number;
  inserted: Doc[];
}

function diffArray(a: Doc[], b: Doc[], path: Path, ops: JSONOp[]): void {
  // Elements compare by their JSON text; equal-but-reordered-keys objects just diff to nothing.
  const ka = a.map((x) => JSON.stringify(x));
  const kb = b.map((x) => JSON.stringify(x));
  const script = myers(ka, kb) ?? [
    ...(a.length > 0 ? [{ kind: 'del' as const, a: 0, n: a.length }] : []),
    ...(b.length > 0 ? [{ kind: 'ins' as const, b: 0, n: b.length }] : []),
  ];
  const groups: Group[] = [];
  let i = 0;
  let open: Group | null = null;
  for (const s of script) {
    if (s.kind === 'eq') {
      open = null;
      i += s.n;
      continue;
    }
    if (open === null) {
      open = { at: i, removed: 0, inserted: [] };
      groups.push(open);
    }
    if (s.kind === 'del') {
      open.removed += s.n;
      i += s.n;
    } else open.inserted.push(...b.slice(s.b, s.b + s.n));
  }
  // Right to left, so every group's index is still its index in `a` when its ops apply.
  for (let g = groups.length - 1; g >= 0; g--) {
    const { at, removed, inserted } = groups[g];
    const paired = Math.min(removed, inserted.length);
    for (let t = 0; t < paired; t++) diffAt(a[at + t], inserted[t], [...path, at + t], ops);
    for (let t = removed - 1; t >= paired; t--)
      ops.push(write([...path, at + t], (w) => w.write('r', a[at + t])));
    for (let t = paired; t < inserted.length; t++)
      ops.push(write([...path, at + t], (w) => w.write('i', inserted[t])));
  }
}

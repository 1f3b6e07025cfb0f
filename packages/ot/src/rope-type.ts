/**
 * `ropeType`: the same json1 type (same name, uri and ops) whose snapshots hold long strings as
 * `Rope`s, for the server-side document and history replay, where large texts take thousands of
 * single-character edits. Ops in and out are plain json1; only the snapshot differs.
 *
 * Snapshots of this type are **mutable**: `apply` edits the snapshot it is given in place and
 * returns it (as ShareDB's json0 does). `serialize` gives plain JSON (and `JSON.stringify` works
 * directly, since `Rope#toJSON` returns the string); `deserialize` builds a snapshot from JSON.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import {
  type Doc,
  JSON1_NAME,
  JSON1_URI,
  type JSONOp,
  type JSONOpComponent,
  type JSONOpList,
  json1,
  type Key,
  type Path,
  type TextOp,
  text,
} from './json1';
import { compose, guard, invertForShareDB, isNoop, normalize, unsafeKeyError } from './ops';
import { transformPresence } from './presence';
import { Rope } from './rope';
import { transform } from './transform';
import type { TandemType } from './type';
import { codePointLength } from './unicode';
import { isUnsafeKey, scanOp } from './walk';

/** A snapshot of `ropeType`: JSON where some strings are ropes. */
export type RopeDoc = null | boolean | number | string | Rope | RopeDoc[] | { [key: string]: RopeDoc };

/**
 * Strings at least this long (UTF-16 units) become ropes. Below it a string copy is as cheap as a
 * rope edit, and most JSON strings (form fields, ids) stay plain.
 * @default 512
 */
export const ROPE_THRESHOLD = 512;

/** Deep-convert plain JSON into a rope snapshot (long strings become ropes). */
export function deserialize(doc: Doc | undefined): RopeDoc | undefined {
  if (typeof doc === 'string') return doc.length >= ROPE_THRESHOLD ? new Rope(doc) : doc;
  if (Array.isArray(doc)) return doc.map((v) => deserialize(v) as RopeDoc);
  if (doc !== null && typeof doc === 'object') {
    const out: { [key: string]: RopeDoc } = {};
    for (const k of Object.keys(doc)) out[k] = deserialize(doc[k]) as RopeDoc;
    return out;
  }
  return doc;
}

/** Deep-convert a rope snapshot to plain JSON. */
export function serialize(doc: RopeDoc | undefined): Doc | undefined {
  if (doc instanceof Rope) return doc.toString();
  if (Array.isArray(doc)) return doc.map((v) => serialize(v) as Doc);
  if (doc !== null && typeof doc === 'object') {
    const out: { [key: string]: Doc } = {};
    for (const k of Object.keys(doc)) out[k] = serialize(doc[k]) as Doc;
    return out;
  }
  return doc;
}

function invalid(reason: string, path: Path): TandemError {
  return new TandemError(ErrorCode.INVALID_OP, `cannot apply op at /${path.join('/')}: ${reason}`, {
    path,
    reason,
  });
}

/**
 * Why `edit` cannot apply to a string of `length` code points, or null. Same rule as
 * ot-text-unicode on plain strings, so both snapshot kinds accept and refuse the same ops: a skip
 * past the end is an error, a delete running past the end is clamped. (`validate` is stricter and
 * reports the long delete too.)
 */
function misfit(edit: TextOp, length: number): string | null {
  let left = length;
  for (const c of edit) {
    if (typeof c === 'number') {
      if (c > left) return `text op skips past the end of a ${length}-code-point string`;
      left -= c;
    } else if (typeof c === 'object')
      left -= Math.min(left, typeof c.d === 'number' ? c.d : codePointLength(c.d));
  }
  return null;
}

/** Apply a text op to a rope in place; the op's shape was already checked. */
function applyToRope(rope: Rope, edit: TextOp, path: Path): void {
  let pos = 0;
  // Check first so a bad op never leaves the rope half edited.
  const reason = misfit(edit, rope.length);
  if (reason !== null) throw invalid(reason, path);
  for (const c of edit) {
    if (typeof c === 'number') pos += c;
    else if (typeof c === 'string') {
      const n = codePointLength(c);
      rope.insert(pos, c, n);
      pos += n;
    } else rope.delete(pos, typeof c.d === 'number' ? c.d : codePointLength(c.d));
  }
}

/** Apply a text edit to the value `container[key]`, replacing plain strings that grew long by ropes. */
function editText(container: RopeDoc, key: Key, edit: TextOp, path: Path): void {
  const holder = container as Record<Key, RopeDoc>;
  const value = holder[key];
  if (value instanceof Rope) {
    applyToRope(value, edit, path);
    return;
  }
  if (typeof value !== 'string') throw invalid('text edit on a value that is not a string', path);
  if (value.length >= ROPE_THRESHOLD) {
    const rope = new Rope(value);
    applyToRope(rope, edit, path);
    holder[key] = rope;
    return;
  }
  const next = guard('apply text op', () => text.apply(value, edit));
  holder[key] = next.length >= ROPE_THRESHOLD ? new Rope(next) : next;
}

/**
 * The fast path: an op that is one descent ending in a single `es` component, which is what
 * typing produces. Returns false when the op has any other shape.
 */
function applySimpleEdit(root: RopeDoc | undefined, op: JSONOpList): boolean {
  const last = op.length - 1;
  const c = op[last];
  if (last < 1 || typeof c !== 'object' || c === null || Array.isArray(c)) return false;
  const comp = c as JSONOpComponent;
  if (
    comp.es === undefined ||
    comp.r !== undefined ||
    comp.i !== undefined ||
    comp.p !== undefined ||
    comp.d !== undefined ||
    comp.ena !== undefined ||
    comp.e !== undefined
  )
    return false;
  let container = root;
  for (let i = 0; i < last - 1; i++) {
    const k = op[i];
    if ((typeof k !== 'string' && typeof k !== 'number') || isUnsafeKey(k)) return false;
    if (container === null || typeof container !== 'object' || container instanceof Rope) return false;
    container = (container as Record<Key, RopeDoc>)[k];
  }
  const key = op[last - 1];
  if ((typeof key !== 'string' && typeof key !== 'number') || isUnsafeKey(key)) return false;
  if (container === null || typeof container !== 'object' || container instanceof Rope) return false;
  const edit = comp.es as TextOp;
  guard('apply text op', () => text.checkOp(edit));
  editText(container, key, edit, op.slice(0, last) as Path);
  return true;
}

/**
 * Split `op` into its structural part (inserts copied as rope values) and its text and number
 * edits at their drop-side paths (we apply those ourselves, after checking their targets).
 */
function splitTextEdits(op: JSONOp): {
  structure: JSONOp;
  edits: { path: Path; edit: TextOp }[];
  numberEdits: { path: Path; add: number }[];
} {
  const edits: { path: Path; edit: TextOp }[] = [];
  const numberEdits: { path: Path; add: number }[] = [];
  const w = json1.writeCursor();
  json1.readCursor(op).traverse(w, (c, wc) => {
    for (const k of Object.keys(c) as (keyof JSONOpComponent)[]) {
      if (k === 'es') edits.push({ path: wc.getPath(), edit: c.es as TextOp });
      // Inserted values are copied (json1 would share them with the op, and we edit in place).
      else if (k === 'i') wc.write('i', deserialize(c.i as Doc));
      else if (k === 'ena') numberEdits.push({ path: wc.getPath(), add: c.ena as number });
      else wc.write(k, c[k]);
    }
  });
  return { structure: w.get(), edits, numberEdits };
}

function parentAt(root: RopeDoc | undefined, path: Path): RopeDoc | undefined {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    if (node === null || typeof node !== 'object' || node instanceof Rope) return undefined;
    node = (node as Record<Key, RopeDoc>)[path[i]];
  }
  return node;
}

/** Throw (before anything is mutated) unless `edit` can apply to `container[key]`. */
function checkTextTarget(container: RopeDoc | undefined, key: Key, edit: TextOp, path: Path): void {
  guard('apply text op', () => text.checkOp(edit));
  if (container === null || typeof container !== 'object' || container instanceof Rope)
    throw invalid('text edit on a missing value', path);
  const value = (container as Record<Key, RopeDoc>)[key];
  if (!(value instanceof Rope) && typeof value !== 'string')
    throw invalid('text edit on a value that is not a string', path);
  const reason = misfit(edit, value instanceof Rope ? value.length : codePointLength(value));
  if (reason !== null) throw invalid(reason, path);
}

/**
 * Apply `op` to a rope snapshot, in place where possible. Returns the new snapshot. All or
 * nothing: an op that cannot apply throws INVALID_OP before any rope is edited, so a snapshot kept
 * in memory is never left half-changed.
 */
export function applyRope(snapshot: RopeDoc | undefined, op: JSONOp): RopeDoc | undefined {
  if (op === null) return snapshot;
  if (applySimpleEdit(snapshot, op)) return snapshot;
  if (scanOp(op).unsafeKey) throw unsafeKeyError();
  const { structure, edits, numberEdits } = splitTextEdits(op);
  // json1 treats ropes as opaque leaves: it moves, removes and keeps them by reference, and copies
  // every container it changes, so `snapshot` itself is untouched until the text edits below.
  const next =
    structure === null
      ? snapshot
      : guard('apply op', () => json1.apply(snapshot as Doc, structure) as RopeDoc | undefined);
  // The root itself may be a string: hold it in a box so every edit has a container and a key.
  const box: { root: RopeDoc } = { root: next as RopeDoc };
  const targets = edits.map(({ path, edit }) => {
    const container = parentAt(box, ['root', ...path]);
    const key = path.length === 0 ? 'root' : path[path.length - 1];
    checkTextTarget(container, key, edit, path);
    return { container: container as RopeDoc, key, edit, path };
  });
  // Checked here rather than left to json1, which adds `ena` to whatever is there (null + 1 is 1).
  const numbers = numberEdits.map(({ path, add }) => {
    const container = parentAt(box, ['root', ...path]) as Record<Key, RopeDoc> | undefined;
    const key = path.length === 0 ? 'root' : path[path.length - 1];
    const holdsKey =
      container !== null &&
      typeof container === 'object' &&
      !(container instanceof Rope) &&
      Array.isArray(container) === (typeof key === 'number') &&
      Object.hasOwn(container, key);
    const value = holdsKey ? container[key] : undefined;
    if (typeof value !== 'number') throw invalid('number edit on a value that is not a number', path);
    return { container: container as Record<Key, RopeDoc>, key, value: value + add };
  });
  for (const n of numbers) n.container[n.key] = n.value;
  for (const t of targets) editText(t.container, t.key, t.edit, t.path);
  return box.root;
}

/** The server-side type: plain json1 ops, rope snapshots. */
export const ropeType: TandemType<RopeDoc | undefined> & {
  serialize(snapshot: RopeDoc | undefined): Doc | undefined;
  deserialize(data: Doc | undefined): RopeDoc | undefined;
} = {
  name: JSON1_NAME,
  uri: JSON1_URI,
  create: (data?: Doc) => deserialize(data),
  apply: applyRope,
  transform,
  compose,
  invert: invertForShareDB,
  // Inverting needs removed content; reading it from a serialized copy keeps json1 unaware of ropes.
  invertWithDoc: (op, snapshot) =>
    guard('invert op', () => json1.invertWithDoc(op, serialize(snapshot) as Doc)),
  makeInvertible: (op, snapshot) =>
    guard('make op invertible', () => json1.makeInvertible(op, serialize(snapshot) as Doc)),
  normalize,
  isNoop,
  transformPresence,
  serialize,
  deserialize,
};

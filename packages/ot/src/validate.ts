/**
 * Op validation with a precise answer: what is wrong and at which path. Checks the op's shape on
 * its own, and, given a document, that the op can apply to it (removed values exist, text edits
 * fit their strings, number edits hit numbers).
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type Doc, type JSONOp, type JSONOpComponent, json1, type Path, type TextOp } from './json1';
import { codePointLength } from './unicode';
import { eachComponent, isUnsafeKey } from './walk';

export type ValidationResult = { ok: true } | { ok: false; error: TandemError };

const COMPONENT_KEYS = new Set(['i', 'r', 'p', 'd', 'es', 'ena', 'e', 'et']);

class Invalid {
  constructor(
    readonly path: Path,
    readonly reason: string,
  ) {}
}

const isSlot = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** Check `op` (and, when `doc` is given, that it applies to `doc`). Never throws. */
export function validate(op: unknown, doc?: Doc): ValidationResult {
  const problem = findProblem(op, doc);
  return problem === null ? { ok: true } : { ok: false, error: toError(problem) };
}

function toError(problem: Invalid): TandemError {
  const where = problem.path.length === 0 ? 'the root' : `/${problem.path.join('/')}`;
  return new TandemError(ErrorCode.INVALID_OP, `invalid op at ${where}: ${problem.reason}`, {
    path: problem.path,
    reason: problem.reason,
  });
}

/** The throwing form of `validate`: throws the INVALID_OP `TandemError`. */
export function assertValid(op: unknown, doc?: Doc): asserts op is JSONOp {
  const result = validate(op, doc);
  if (!result.ok) throw result.error;
}

function findProblem(op: unknown, doc: Doc | undefined): Invalid | null {
  if (op === null) return null;
  if (!Array.isArray(op)) return new Invalid([], 'an op is null or an array');
  const shape = checkList(op, [], true);
  if (shape !== null) return shape;
  // The rest of json1's rules (descent order, pick/drop pairing) are checked by json1 itself.
  try {
    json1.checkValidOp(op as JSONOp);
  } catch (e) {
    return new Invalid([], (e as Error).message);
  }
  if (doc === undefined) return null;
  return checkAgainst(op as JSONOp, doc);
}

function checkList(list: unknown[], prefix: Path, root: boolean): Invalid | null {
  const path = prefix.slice();
  if (!root && list.length < 2) return new Invalid(path, 'a nested list needs a key and something under it');
  let seenChild = false;
  let seenComponent = false;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (!root && i === 0 && typeof item !== 'string' && typeof item !== 'number') {
      return new Invalid(path, 'a nested list starts with a key');
    }
    if (Array.isArray(item)) {
      seenChild = true;
      const r = checkList(item, path, false);
      if (r !== null) return r;
      continue;
    }
    if (seenChild) return new Invalid(path, 'nothing may follow child lists');
    if (typeof item === 'string' || typeof item === 'number') {
      if (isUnsafeKey(item))
        return new Invalid([...path, item], `key '${item}' is not allowed (it reaches Object.prototype)`);
      if (typeof item === 'number' && !isSlot(item))
        return new Invalid(path, `list index ${item} is not a non-negative integer`);
      path.push(item);
      seenComponent = false;
      continue;
    }
    if (typeof item !== 'object' || item === null)
      return new Invalid(path, `unexpected ${item === null ? 'null' : typeof item} in op`);
    if (seenComponent) return new Invalid(path, 'two components in a row');
    seenComponent = true;
    const r = checkComponent(item as Record<string, unknown>, path);
    if (r !== null) return r;
  }
  return null;
}

function checkComponent(c: Record<string, unknown>, path: Path): Invalid | null {
  const keys = Object.keys(c);
  if (keys.length === 0) return new Invalid(path, 'empty component');
  for (const k of keys) if (!COMPONENT_KEYS.has(k)) return new Invalid(path, `unknown component key '${k}'`);
  if (c.p !== undefined && !isSlot(c.p))
    return new Invalid(path, 'pick slot p must be a non-negative integer');
  if (c.d !== undefined && !isSlot(c.d))
    return new Invalid(path, 'drop slot d must be a non-negative integer');
  if (c.ena !== undefined && (typeof c.ena !== 'number' || !Number.isFinite(c.ena)))
    return new Invalid(path, 'ena must be a finite number');
  if (c.e !== undefined && typeof c.et !== 'string')
    return new Invalid(path, 'an e edit needs its type name in et');
  if ([c.es, c.ena, c.e].filter((x) => x !== undefined).length > 1)
    return new Invalid(path, 'more than one edit in a component');
  if (c.es !== undefined) return checkTextOp(c.es, path);
  return null;
}

function checkTextOp(es: unknown, path: Path): Invalid | null {
  if (!Array.isArray(es)) return new Invalid(path, 'es must be a text op (an array)');
  for (let i = 0; i < es.length; i++) {
    const c = es[i] as unknown;
    if (typeof c === 'number') {
      if (!Number.isInteger(c) || c <= 0)
        return new Invalid(path, `text op skip ${c} must be a positive integer`);
      if (i === es.length - 1) return new Invalid(path, 'text op must not end with a skip');
    } else if (typeof c === 'string') {
      if (c.length === 0) return new Invalid(path, 'text op insert is empty');
    } else if (typeof c === 'object' && c !== null && 'd' in c) {
      const d = (c as { d: unknown }).d;
      if (
        !(typeof d === 'string' && d.length > 0) &&
        !(typeof d === 'number' && Number.isInteger(d) && d > 0)
      ) {
        return new Invalid(path, 'text op delete needs a positive count or non-empty text');
      }
    } else return new Invalid(path, `text op component ${JSON.stringify(c)} is not a skip, insert or delete`);
  }
  return null;
}

function valueAt(doc: Doc | undefined, path: Path): Doc | undefined {
  let node: Doc | undefined = doc;
  for (const k of path) {
    if (node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node) !== (typeof k === 'number') || !Object.hasOwn(node, k)) return undefined;
    node = (node as Record<string | number, Doc>)[k];
  }
  return node;
}

/** Code points a text op reads from its string (skips + deletes). */
function textSpan(es: TextOp): number {
  let n = 0;
  for (const c of es) {
    if (typeof c === 'number') n += c;
    else if (typeof c === 'object') n += typeof c.d === 'number' ? c.d : codePointLength(c.d);
  }
  return n;
}

/**
 * For `apply`: the INVALID_OP error when a number edit (`ena`) of a *well-formed* op targets
 * something that is not a number (json1 would compute `null + 1` or `'x' + 1`), else null.
 * Other problems are left to json1's apply, so `apply` keeps json1's semantics everywhere else.
 * Also an error when the op's picks and drops alone cannot apply (see below).
 */
export function numberEditError(op: JSONOp, doc: Doc | undefined): TandemError | null {
  const after = structureApplied(op, doc);
  // Edits never create values, so if the picks and drops alone fail the op is invalid; json1 would
  // still accept it when an `ena` conjures the missing element (undefined + 1) out of nothing.
  if (after instanceof Invalid) return toError(after);
  let problem: Invalid | null = null;
  eachComponent(op, (c, path) => {
    if (problem === null && c.ena !== undefined && typeof valueAt(after.doc, path) !== 'number') {
      problem = new Invalid(path, 'number edit on a value that is not a number');
    }
  });
  return problem === null ? null : toError(problem);
}

/** The document after `op`'s picks and drops only (where its edits then apply). */
function structureApplied(op: JSONOp, doc: Doc | undefined): { doc: Doc | undefined } | Invalid {
  const structure = json1.writeCursor();
  json1.readCursor(op).traverse(structure, (c, w) => {
    for (const k of ['r', 'p', 'd', 'i'] as const) if (c[k] !== undefined) w.write(k, c[k]);
  });
  try {
    return { doc: json1.apply(doc as Doc, structure.get()) as Doc | undefined };
  } catch (e) {
    return new Invalid(firstDropPath(op), (e as Error).message);
  }
}

function checkAgainst(op: JSONOp, doc: Doc): Invalid | null {
  // Picks and removes address the document before the op.
  let problem: Invalid | null = null;
  eachComponent(op, (c: JSONOpComponent, path) => {
    if (problem === null && (c.r !== undefined || c.p !== undefined) && valueAt(doc, path) === undefined) {
      problem = new Invalid(path, `nothing to ${c.r !== undefined ? 'remove' : 'move'} here`);
    }
  });
  if (problem !== null) return problem;
  // Drops and edits address the document after the picks and drops.
  const applied = structureApplied(op, doc);
  if (applied instanceof Invalid) return applied;
  const after = applied.doc;
  eachComponent(op, (c, path) => {
    if (problem !== null) return;
    const target = valueAt(after, path);
    if (c.es !== undefined) {
      if (typeof target !== 'string')
        problem = new Invalid(path, 'text edit on a value that is not a string');
      else if (textSpan(c.es as TextOp) > codePointLength(target)) {
        problem = new Invalid(
          path,
          `text edit spans ${textSpan(c.es as TextOp)} code points, string has ${codePointLength(target)}`,
        );
      }
    }
    if (c.ena !== undefined && typeof target !== 'number')
      problem = new Invalid(path, 'number edit on a value that is not a number');
  });
  return problem;
}

function firstDropPath(op: JSONOp): Path {
  let found: Path | null = null;
  eachComponent(op, (c, path) => {
    if (found === null && (c.d !== undefined || c.i !== undefined)) found = path;
  });
  return found ?? [];
}

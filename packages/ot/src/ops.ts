/**
 * The basic algebra on plain json1 documents: apply, compose, invert, normalize, isNoop. Thin over
 * json1, but every failure becomes a `TandemError` with code INVALID_OP instead of a bare Error.
 */
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type Doc, type JSONOp, json1 } from './json1';
import { applyKeystroke } from './keystroke';
import { numberEditError } from './validate';
import { eachComponent, numberEditsHitNumbers, scanOp } from './walk';

/** Run a json1 call and turn its assertion errors into INVALID_OP. */
export function guard<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TandemError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new TandemError(
      ErrorCode.INVALID_OP,
      `cannot ${what}: ${reason}`,
      { path: [], reason },
      { cause: e },
    );
  }
}

/** Apply `op` to a plain JSON document. The input document is not modified. */
export function apply(doc: Doc | undefined, op: JSONOp): Doc | undefined {
  const scan = scanOp(op);
  if (scan.unsafeKey) throw unsafeKeyError();
  const typed = applyKeystroke(doc, op);
  if (typed !== undefined) return typed;
  // json1 adds `ena` to whatever is there (`null + 1` is 1, `'x' + 1` is 'x1'): check first.
  // The common case (edits only) is checked by a direct walk; ops that also move things need the
  // document after their picks and drops, which validate computes.
  if (scan.numberEdit && (scan.structural || !numberEditsHitNumbers(op, doc))) {
    const error = numberEditError(op, doc);
    if (error !== null) throw error;
  }
  return guard('apply op', () => json1.apply(doc, op) as Doc | undefined);
}

export function unsafeKeyError(): TandemError {
  const reason = 'ops may not use the keys __proto__, constructor or prototype';
  return new TandemError(ErrorCode.INVALID_OP, `cannot apply op: ${reason}`, { path: [], reason });
}

/** An op with the effect of `a` then `b`. */
export function compose(a: JSONOp, b: JSONOp): JSONOp {
  return guard('compose ops', () => json1.compose(a, b));
}

/** Invert an invertible op (every remove carries its content; see `invertWithDoc`). */
export function invert(op: JSONOp): JSONOp {
  return guard('invert op', () => json1.invert(op));
}

/**
 * ShareDB's client undoes a rejected op with `type.invert` and refetches only when it throws. json1
 * inverts a remove that does not carry its value (`r: true`, which transform itself produces for
 * pending ops) into inserting `true`, silently corrupting that replica; so here such an op is
 * refused, and ShareDB falls back to refetching. (A removed value that really is `true` is
 * indistinguishable and also refetches: slower, never wrong.)
 */
export function invertForShareDB(op: JSONOp): JSONOp {
  let bare = false;
  eachComponent(op, (c) => {
    if (c.r === true) bare = true;
  });
  if (bare) {
    const reason = 'a remove does not carry the removed value';
    throw new TandemError(ErrorCode.INVALID_OP, `cannot invert op: ${reason}`, { path: [], reason });
  }
  return invert(op);
}

/** Invert `op` given the document it applies to (fills in removed content first). */
export function invertWithDoc(op: JSONOp, doc: Doc | undefined): JSONOp {
  return guard('invert op', () => json1.invertWithDoc(op, doc as Doc));
}

/** Add the removed content to `op`'s removes so `invert` can undo it. */
export function makeInvertible(op: JSONOp, doc: Doc | undefined): JSONOp {
  return guard('make op invertible', () => json1.makeInvertible(op, doc as Doc));
}

/** The canonical form of `op` (sorted descents, merged components, empty parts dropped; null for noop). */
export function normalize(op: JSONOp): JSONOp {
  return guard('normalize op', () => json1.normalize(op));
}

/** True when `op` changes nothing (after normalization). */
export function isNoop(op: JSONOp): boolean {
  if (op === null || op === undefined) return true;
  return normalize(op) === null;
}

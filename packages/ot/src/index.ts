export type { Anchor } from './anchors';
export { AnchorSet } from './anchors';
export {
  deleteText,
  deleteTextAtCodePoint,
  editText,
  insert,
  insertText,
  insertTextAtCodePoint,
  move,
  remove,
  replace,
  set,
  spliceTextAtCodePoint,
} from './builders';
export { diff, diffText, MAX_DIFF_EDITS } from './diff';
export type { Doc, JSONOp, JSONOpComponent, Key, Path, TextOp } from './json1';
export { Json1ConflictType } from './json1';
export { apply, compose, invert, invertWithDoc, isNoop, makeInvertible, normalize } from './ops';
export type { Position, Presence, Selection } from './presence';
export {
  transformPath,
  transformPosition,
  transformPresence,
  transformSortedOffsets,
  transformTextOffset,
} from './presence';
export { Rope } from './rope';
export type { RopeDoc } from './rope-type';
export { applyRope, deserialize, ROPE_THRESHOLD, ropeType, serialize } from './rope-type';
export type {
  ConflictKind,
  ConflictResolution,
  Side,
  TextRange,
  TransformConflict,
  TransformResult,
} from './transform';
export { transform, transformWithConflicts } from './transform';
export type { TandemType } from './type';
export { type } from './type';
export { codePointLength, sliceCodePoints, toCodePointIndex, toUtf16Index } from './unicode';
export type { ValidationResult } from './validate';
export { assertValid, validate } from './validate';

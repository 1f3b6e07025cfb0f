/**
 * The one place that imports ot-json1 / ot-text-unicode, so every other module works against typed
 * names and a version bump touches one file.
 */
import * as json1Module from 'ot-json1';
import { type as textUnicode } from 'ot-text-unicode';

export type { Doc, JSONOp, JSONOpComponent, JSONOpList, Key, Path } from 'ot-json1';
export type { TextOp, TextOpComponent } from 'ot-text-unicode';

export const json1 = json1Module.type;
/**
 * json1's `name` and `uri` as literals (a test checks them): type objects built from them are pure,
 * so bundlers drop the ones an app does not use (the client never ships the rope type).
 */
export const JSON1_NAME = 'json1';
export const JSON1_URI = 'http://sharejs.org/types/JSONv1';
export const { editOp } = json1Module;
export const text = textUnicode;

/** json1's conflict codes (1 RM_UNEXPECTED_CONTENT, 2 DROP_COLLISION, 3 BLACKHOLE). */
export const Json1ConflictType = {
  RM_UNEXPECTED_CONTENT: json1Module.type.RM_UNEXPECTED_CONTENT,
  DROP_COLLISION: json1Module.type.DROP_COLLISION,
  BLACKHOLE: json1Module.type.BLACKHOLE,
} as const;
export type Json1ConflictType = (typeof Json1ConflictType)[keyof typeof Json1ConflictType];

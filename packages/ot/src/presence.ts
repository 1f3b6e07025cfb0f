/**
 * Positions and presence that move with concurrent edits.
 *
 * All text offsets here are **code points** in the string at `path` — the unit json1 text ops use —
 * because a transform sees the op but not the document, and an op's skips carry no text to convert
 * UTF-16 units with. Convert at the UI edge with `toUtf16Index` / `toCodePointIndex`.
 */
import { type JSONOp, json1, type Path, type TextOp } from './json1';
import { componentAt } from './walk';

/** A caret or selection end inside the document. */
export interface Position {
  /** json path of the value the position is in (for text, the string). */
  path: Path;
  /** Offset in the string at `path`, in code points. Absent for a position on a whole value. */
  offset?: number;
}

/** One selection range in the string at the presence's path, in code points. */
export interface Selection {
  anchor: number;
  head: number;
}

/**
 * What a client shares about itself. Only `path`, `offset` and `selections` are interpreted;
 * every other field (name, colour, …) is carried through transforms unchanged.
 */
export interface Presence {
  path: Path;
  /** Caret offset in code points in the string at `path`. */
  offset?: number;
  /** Selections in the string at `path`, code points. */
  selections?: Selection[];
  [extra: string]: unknown;
}

/**
 * Move a code-point offset through a text op. Deletes that cover it clamp it to the delete start.
 * An insert exactly at the offset pushes it along only when `stickAfter` (the caret of the author
 * of the insert should end after what they typed; other carets stay put).
 */
export function transformTextOffset(offset: number, edit: TextOp, stickAfter: boolean): number {
  let pos = 0; // position in the old text
  let shift = 0; // net change before `offset` so far
  for (const c of edit) {
    if (pos > offset || (pos === offset && !stickAfter)) break;
    if (typeof c === 'number') pos += c;
    else if (typeof c === 'string') shift += [...c].length;
    else {
      const len = typeof c.d === 'number' ? c.d : [...c.d].length;
      const covered = Math.min(len, offset - pos);
      shift -= covered;
      pos += len;
    }
  }
  return offset + shift;
}

/**
 * Transform `transformTextOffset(offset, edit, false)` for every `points[i].o` with `i >= from`,
 * in place and in one pass over the edit: the offsets must be ascending (they stay so: the map is
 * monotone). What anchors use to move many positions in one string at once.
 */
export function transformSortedOffsets(points: { o: number }[], from: number, edit: TextOp): void {
  let pos = 0; // position in the old text of component `ci`
  let shift = 0; // net change before `pos`
  let ci = 0;
  for (let j = from; j < points.length; j++) {
    const offset = points[j].o;
    let clamped = false;
    for (; ci < edit.length && pos < offset; ci++) {
      const c = edit[ci];
      if (typeof c === 'number') pos += c;
      else if (typeof c === 'string') shift += [...c].length;
      else {
        const len = typeof c.d === 'number' ? c.d : [...c.d].length;
        // A delete covering the offset: it lands on the delete's start. Later (larger) offsets
        // meet this component again.
        if (pos + len > offset) {
          clamped = true;
          break;
        }
        shift -= len;
        pos += len;
      }
    }
    points[j].o = clamped ? pos + shift : offset + shift;
  }
}

/**
 * Where the value at `path` is after `op`: its new path, whether `op` replaced it in place (an
 * insert where it stands), and the text edit `op` makes to it there. Null when `op` removed it.
 */
export function transformPath(
  path: Path,
  op: JSONOp,
): { path: Path; replaced: boolean; edit: TextOp | undefined } | null {
  const next = json1.transformPosition(path, op);
  if (next === null) return null;
  const c = componentAt(op, next);
  return { path: next, replaced: c?.i !== undefined, edit: c?.es as TextOp | undefined };
}

/**
 * Move a position through `op`. Returns null when the value at the position was removed (or
 * replaced by a value that is not the same string). Moves carry the path along.
 */
export function transformPosition(position: Position, op: JSONOp, stickAfter = false): Position | null {
  const moved = transformPath(position.path, op);
  if (moved === null) return null;
  const { path, edit } = moved;
  if (position.offset === undefined) return { path };
  if (moved.replaced) return null; // replaced in place: the old text is gone
  if (edit === undefined) return { path, offset: position.offset };
  return { path, offset: transformTextOffset(position.offset, edit, stickAfter) };
}

/**
 * ShareDB's presence hook: `type.transformPresence(presence, op, isOwnOp)`. A presence whose value
 * was removed becomes null (ShareDB then hides the cursor). Own inserts at the caret push it along.
 */
export function transformPresence(presence: Presence | null, op: JSONOp, isOwnOp: boolean): Presence | null {
  if (presence === null || presence === undefined || !Array.isArray(presence.path)) return null;
  const moved = transformPath(presence.path, op);
  if (moved === null || moved.replaced) return null;
  const { path, edit } = moved;
  const move = (n: number): number => (edit === undefined ? n : transformTextOffset(n, edit, isOwnOp));
  const next: Presence = { ...presence, path };
  if (presence.offset !== undefined) next.offset = move(presence.offset);
  if (presence.selections !== undefined) {
    next.selections = presence.selections.map((s) => ({ ...s, anchor: move(s.anchor), head: move(s.head) }));
  }
  return next;
}

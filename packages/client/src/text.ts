/**
 * A text binding for the string at one path of a document: edits by JavaScript (UTF-16) index,
 * and every change reported as one index shift so an editor can keep its caret. Offsets on the wire
 * are code points (the unit of text ops); the conversion happens here, at the edge.
 */
import {
  deleteText,
  type JSONOp,
  type Path,
  spliceTextAtCodePoint,
  toCodePointIndex,
  toUtf16Index,
} from '@tandem/ot';
import type { OpAuthor } from '@tandem/protocol';
import { Emitter } from './emitter';

/** A change of the text: `deleted` UTF-16 units at `index` were replaced by `inserted` units. */
export interface TextShift {
  index: number;
  deleted: number;
  inserted: number;
}

export interface TextChange {
  value: string;
  shift: TextShift;
  local: boolean;
  author: OpAuthor | undefined;
}

type TextEvents = { change: (change: TextChange) => void };

/** What the binding needs from its document. */
export interface TextHost {
  value(path: Path): unknown;
  submit(op: JSONOp): Promise<void>;
  onChange(listener: (local: boolean, author: OpAuthor | undefined) => void): () => void;
}

/** The single range that turns `before` into `after` (common prefix and suffix trimmed). */
export function diffShift(before: string, after: string): TextShift | undefined {
  if (before === after) return undefined;
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (
    endBefore > start &&
    endAfter > start &&
    before.charCodeAt(endBefore - 1) === after.charCodeAt(endAfter - 1)
  ) {
    endBefore--;
    endAfter--;
  }
  // Never split a surrogate pair: widen the range to whole code points.
  if (start > 0 && isLowSurrogate(after.charCodeAt(start)) && isHighSurrogate(after.charCodeAt(start - 1)))
    start--;
  if (endBefore < before.length && isLowSurrogate(before.charCodeAt(endBefore))) {
    endBefore++;
    endAfter++;
  }
  return { index: start, deleted: endBefore - start, inserted: endAfter - start };
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Where a UTF-16 index (a caret) lands after `shift`. Carets inside a replaced range go to its end. */
export function shiftIndex(index: number, shift: TextShift): number {
  if (index <= shift.index) return index;
  if (index >= shift.index + shift.deleted) return index - shift.deleted + shift.inserted;
  return shift.index + shift.inserted;
}

export class TextBinding extends Emitter<TextEvents> {
  private last: string;
  private readonly stop: () => void;

  constructor(
    private readonly host: TextHost,
    readonly path: Path,
  ) {
    super();
    this.last = this.value;
    this.stop = host.onChange((local, author) => {
      const value = this.value;
      const shift = diffShift(this.last, value);
      this.last = value;
      if (shift !== undefined) this.emit('change', { value, shift, local, author });
    });
  }

  /** The current text ('' when the path holds no string). */
  get value(): string {
    const v = this.host.value(this.path);
    return typeof v === 'string' ? v : '';
  }

  insert(index: number, text: string): Promise<void> {
    return this.splice(index, 0, text);
  }

  delete(index: number, length: number): Promise<void> {
    return this.splice(index, length, '');
  }

  /** Replace `length` UTF-16 units at `index` with `text`. */
  splice(index: number, length: number, text: string): Promise<void> {
    const current = this.value;
    let op: JSONOp;
    if (text === '') {
      op = deleteText(this.path, index, length, current);
    } else {
      const at = toCodePointIndex(current, index);
      const count = toCodePointIndex(current, index + length) - at;
      op = spliceTextAtCodePoint(this.path, at, count, text);
    }
    if (op === null) return Promise.resolve();
    return this.host.submit(op);
  }

  /** Make the text equal `next` with the smallest edit (e.g. from a textarea's input event). */
  set(next: string): Promise<void> {
    const shift = diffShift(this.value, next);
    if (shift === undefined) return Promise.resolve();
    return this.splice(shift.index, shift.deleted, next.slice(shift.index, shift.index + shift.inserted));
  }

  /** UTF-16 index -> code-point offset in the current text (for presence). */
  toOffset(index: number): number {
    return toCodePointIndex(this.value, index);
  }

  /** Code-point offset (from presence) -> UTF-16 index in the current text. */
  toIndex(offset: number): number {
    return toUtf16Index(this.value, offset);
  }

  destroy(): void {
    this.stop();
  }
}

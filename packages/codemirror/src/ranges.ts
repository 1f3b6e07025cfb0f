/**
 * Ranges of the text that the app decorates (comments will anchor here): given in code points of
 * the document's string, drawn as marks, and moved by every edit, local or remote, like the text
 * they cover. A range whose text is deleted disappears. Generic on purpose: a class and a few
 * inert attributes, nothing that could run.
 */
import { type EditorState, type Extension, StateEffect, StateField, type Text } from '@codemirror/state';
import { Decoration, type DecorationSet, EditorView } from '@codemirror/view';
import { toCodePointIndex, toUtf16Index } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';

export interface TextRange {
  /** Code points from the start of the string. */
  from: number;
  to: number;
  className: string;
  /** `data-*`, `aria-*` or `title` only. */
  attributes?: Readonly<Record<string, string>>;
}

const ATTRIBUTE = /^(data-[a-z0-9][a-z0-9_.-]*|aria-[a-z]+|title)$/;

const replace = StateEffect.define<readonly TextRange[]>();

/** The effect that replaces every range with `ranges` (dispatch it: `view.dispatch({ effects })`). */
export function setRanges(ranges: readonly TextRange[]): StateEffect<readonly TextRange[]> {
  for (const range of ranges) {
    const bad = Object.keys(range.attributes ?? {}).find((name) => !ATTRIBUTE.test(name));
    if (bad !== undefined)
      throw new TandemError(
        ErrorCode.INVALID_CONFIG,
        `range attribute ${JSON.stringify(bad)} is not allowed`,
        {
          option: 'attributes',
          reason: 'only data-*, aria-* and title attributes may be set on text ranges',
        },
      );
    if (
      !Number.isInteger(range.from) ||
      !Number.isInteger(range.to) ||
      range.from < 0 ||
      range.to < range.from
    )
      throw new TandemError(ErrorCode.INVALID_CONFIG, 'a text range needs integer offsets 0 <= from <= to', {
        option: 'ranges',
        reason: 'offsets',
      });
  }
  // Copies: the field keeps them, the caller may reuse its objects.
  return replace.of(ranges.map((r) => ({ ...r, ...(r.attributes && { attributes: { ...r.attributes } }) })));
}

function build(ranges: readonly TextRange[], doc: Text): DecorationSet {
  const text = doc.toString();
  const marks = ranges
    .map((range) => {
      const from = toUtf16Index(text, range.from);
      const to = toUtf16Index(text, range.to);
      return from < to
        ? Decoration.mark({ class: range.className, attributes: range.attributes, range }).range(from, to)
        : null;
    })
    .filter((mark) => mark !== null);
  return Decoration.set(marks, true);
}

const rangesField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, tr) {
    value = value.map(tr.changes);
    for (const effect of tr.effects) if (effect.is(replace)) value = build(effect.value, tr.state.doc);
    return value;
  },
  provide: (field) => EditorView.decorations.from(field),
});

/** The ranges where they are now, in code points (for the app to store, e.g. a comment's anchor). */
export function getRanges(state: EditorState): TextRange[] {
  const set = state.field(rangesField, false);
  if (set === undefined) return [];
  const text = state.doc.toString();
  const out: TextRange[] = [];
  set.between(0, state.doc.length, (from, to, mark) => {
    const range = mark.spec.range as TextRange;
    out.push({ ...range, from: toCodePointIndex(text, from), to: toCodePointIndex(text, to) });
  });
  return out;
}

/** The ranges field (part of tandemCollab; alone it works in any editor). */
export const textRanges: Extension = rangesField;

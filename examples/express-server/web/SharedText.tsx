/**
 * An <input> or <textarea> bound to a string of a document: typing sends the smallest text edit,
 * and others' edits come in without moving the caret off the text it was on. Uncontrolled on
 * purpose: React would put the caret at the end on every remote keystroke.
 */
import { diffShift, shiftIndex, type TandemDoc } from '@tandem/client';
import type { Path } from '@tandem/ot';
import { useText } from '@tandem/react';
import { type InputHTMLAttributes, useLayoutEffect, useRef } from 'react';

type Props = {
  doc: TandemDoc<any>;
  path: Path;
  multiline?: boolean;
  onFailure?: (error: unknown) => void;
} & Omit<InputHTMLAttributes<HTMLInputElement & HTMLTextAreaElement>, 'value' | 'defaultValue' | 'onChange'>;

export function SharedText({ doc, path, multiline, onFailure, ...props }: Props) {
  const text = useText(doc, path);
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    const field = ref.current;
    if (field === null || field.value === text.value) return;
    const shift = diffShift(field.value, text.value);
    const [start, end] = [field.selectionStart ?? 0, field.selectionEnd ?? 0];
    field.value = text.value;
    if (shift !== undefined && document.activeElement === field)
      field.setSelectionRange(shiftIndex(start, shift), shiftIndex(end, shift));
  }, [text.value]);
  const onChange = (event: { currentTarget: { value: string } }) => {
    // A refused edit is rolled back by the client; the effect above then restores the field.
    text.set(event.currentTarget.value).catch((error: unknown) => onFailure?.(error));
  };
  return multiline ? (
    <textarea ref={ref} defaultValue={text.value} onChange={onChange} {...props} />
  ) : (
    <input ref={ref} defaultValue={text.value} onChange={onChange} {...props} />
  );
}

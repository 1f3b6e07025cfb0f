/** Random edit scripts for property tests: text edits on three fields, sometimes a whole replace. */
import {
  codePointLength,
  deleteTextAtCodePoint,
  insertTextAtCodePoint,
  type JSONOp,
  replace,
} from '@tandem/ot';
import fc from 'fast-check';

export const FIELDS = ['a', 'b', 'c'] as const;
export type Field = (typeof FIELDS)[number];

export interface EditSpec {
  user: number;
  field: Field;
  kind: 'insert' | 'delete' | 'replace';
  at: number;
  count: number;
  text: string;
}

const text = fc.oneof(
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.constantFrom('é', '😀', 'ab😀', '\u00e9\u0301', '中文'),
);

export const editSpec: fc.Arbitrary<EditSpec> = fc.record({
  user: fc.nat(2),
  field: fc.constantFrom(...FIELDS),
  kind: fc.constantFrom('insert', 'insert', 'delete', 'delete', 'replace'),
  at: fc.nat(50),
  count: fc.integer({ min: 1, max: 5 }),
  text,
});

export const editScript = (max = 25) => fc.array(editSpec, { minLength: 1, maxLength: max });

export const INITIAL = { a: 'hello', b: 'world', c: '' };

/** The op `spec` makes on `data` (always applicable). */
export function opFor(spec: EditSpec, data: Record<Field, string>): JSONOp {
  const current = data[spec.field];
  const length = codePointLength(current);
  if (spec.kind === 'replace') return replace([spec.field], spec.text, current);
  if (spec.kind === 'delete' && length > 0) {
    const at = spec.at % length;
    return deleteTextAtCodePoint([spec.field], at, Math.min(spec.count, length - at));
  }
  return insertTextAtCodePoint([spec.field], spec.at % (length + 1), spec.text);
}

/**
 * Blame, the pure part: attribution runs over a string (code points), moved through text edits.
 * Each run says which op (author, version, time) wrote those characters.
 */
import { codePointLength, type TextOp } from '@tandem/ot';
import type { BlameRange, Owner } from './types';

export interface Run extends Owner {
  /** Code points. */
  length: number;
}

/** A blamed range of the string, in code points, `[start, end)`. Ranges cover the string exactly once. */
export function wholeString(text: string, owner: Owner): Run[] {
  const length = codePointLength(text);
  return length === 0 ? [] : [{ ...owner, length }];
}

/** The runs after `edit` (a text-unicode op) by `owner`: kept characters keep their owner. */
export function applyEdit(runs: readonly Run[], edit: TextOp, owner: Owner): Run[] {
  const out: Run[] = [];
  let index = 0;
  let offset = 0; // code points already consumed from runs[index]
  const push = (run: Run) => {
    if (run.length === 0) return;
    const last = out[out.length - 1];
    if (last !== undefined && sameOwner(last, run)) last.length += run.length;
    else out.push({ ...run });
  };
  /** Take `n` code points from the input; keep them in the output or drop them. */
  const take = (n: number, keep: boolean) => {
    let left = n;
    while (left > 0 && index < runs.length) {
      const run = runs[index];
      const available = run.length - offset;
      const used = Math.min(available, left);
      if (keep) push({ ...run, length: used });
      left -= used;
      offset += used;
      if (offset === run.length) {
        index++;
        offset = 0;
      }
    }
  };
  for (const c of edit) {
    if (typeof c === 'number') take(c, true);
    else if (typeof c === 'string') push({ ...owner, length: codePointLength(c) });
    else if (c !== null && typeof c === 'object') {
      const d = (c as { d: number | string }).d;
      take(typeof d === 'number' ? d : codePointLength(d), false);
    }
  }
  // The rest of the string is untouched.
  if (index < runs.length) {
    push({ ...runs[index], length: runs[index].length - offset });
    for (let i = index + 1; i < runs.length; i++) push(runs[i]);
  }
  return out;
}

function sameOwner(a: Owner, b: Owner): boolean {
  return a.version === b.version && (a.author?.id ?? null) === (b.author?.id ?? null);
}

export function toRanges(runs: readonly Run[]): BlameRange[] {
  const ranges: BlameRange[] = [];
  let start = 0;
  for (const run of runs) {
    ranges.push({ start, end: start + run.length, author: run.author, version: run.version, ts: run.ts });
    start += run.length;
  }
  return ranges;
}

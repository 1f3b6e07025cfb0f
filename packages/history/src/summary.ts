/** What an op changed, in words a history list can show: paths touched and text in/out. */
import { codePointLength, type JSONOp, type TextOp } from '@tandem/ot';
import type { OpSummary, StoredOp } from './types';
import { eachComponent, samePath } from './walk';

/** Characters of inserted / removed text kept as a sample. */
const SAMPLE_LENGTH = 80;

function sample(current: string, more: string): string {
  return current.length >= SAMPLE_LENGTH ? current : (current + more).slice(0, SAMPLE_LENGTH);
}

export function summarizeOp(stored: Pick<StoredOp, 'op' | 'create' | 'del'>): OpSummary {
  const summary: OpSummary = {
    kind: stored.create ? 'create' : stored.del ? 'delete' : 'edit',
    paths: [],
    textInserted: 0,
    textRemoved: 0,
    insertedSample: '',
    removedSample: '',
  };
  if (stored.create || stored.del) {
    summary.paths.push([]);
    return summary;
  }
  eachComponent((stored.op ?? null) as JSONOp, (component, path) => {
    if (!summary.paths.some((p) => samePath(p, path))) summary.paths.push(path);
    if (component.es !== undefined) countText(component.es as TextOp, summary);
  });
  return summary;
}

function countText(edit: TextOp, summary: OpSummary): void {
  for (const c of edit) {
    if (typeof c === 'string') {
      summary.textInserted += codePointLength(c);
      summary.insertedSample = sample(summary.insertedSample, c);
    } else if (typeof c === 'object' && c !== null) {
      const d = (c as { d: number | string }).d;
      if (typeof d === 'number') summary.textRemoved += d;
      else {
        summary.textRemoved += codePointLength(d);
        summary.removedSample = sample(summary.removedSample, d);
      }
    }
  }
}

/**
 * Many offsets in one string, moved through text edits together, each exactly as
 * `transformTextOffset(offset, edit, false)` moves it (a remote caret). The offsets are kept sorted
 * (the transform is monotone, so they stay sorted); an edit shifts everything after a point, so a
 * shift is recorded once for a whole suffix in a Fenwick tree over the indexes instead of being
 * written into each offset. An edit costs O(log² n) per place it touches, plus one write per offset
 * a delete collapses: typing into a string with a thousand anchors costs what it costs with one.
 */
import type { TextOp } from './json1';

export interface OffsetPoint {
  /** The offset, less the shifts pending in the tree (read it with `value`). */
  o: number;
  /** Index in the sorted list (kept by the list). */
  i: number;
}

export class OffsetList<P extends OffsetPoint> {
  private points: P[] = [];
  private sorted = true;
  /** Pending suffix shifts: a Fenwick tree over the indexes (undefined: none). */
  private tree: Float64Array | undefined;

  get size(): number {
    return this.points.length;
  }

  /** Every point, ascending by offset once an edit has been applied. */
  all(): readonly P[] {
    return this.points;
  }

  /** The current offset of `point` (one of this list's). */
  value(point: P): number {
    return this.tree === undefined ? point.o : point.o + this.prefix(point.i);
  }

  add(point: P): void {
    this.flatten();
    point.i = this.points.length;
    this.points.push(point);
    this.sorted = false;
  }

  /** Drop the points `gone` says to drop. */
  remove(gone: (point: P) => boolean): void {
    this.flatten();
    this.points = this.points.filter((p) => !gone(p));
    this.points.forEach((p, i) => {
      p.i = i;
    });
  }

  /**
   * Move every offset through `edit`; returns the points a delete collapsed onto its start (those
   * whose ranges may now be empty).
   */
  apply(edit: TextOp): P[] {
    const n = this.points.length;
    if (n === 0) return [];
    this.sort();
    // The places the edit acts, left to right, in the old text: at each, inserted length and
    // deleted length (an insert and a delete at one place: the inserted text lands before it).
    const places: [number, number, number][] = [];
    let pos = 0;
    for (const c of edit) {
      if (typeof c === 'number') pos += c;
      else if (typeof c === 'string') {
        const last = places.at(-1);
        const length = [...c].length;
        if (last !== undefined && last[0] === pos && last[2] === 0) last[1] += length;
        else places.push([pos, length, 0]);
      } else {
        const length = typeof c.d === 'number' ? c.d : [...c.d].length;
        const last = places.at(-1);
        if (last !== undefined && last[0] === pos && last[2] === 0) last[2] = length;
        else places.push([pos, 0, length]);
        pos += length;
      }
    }
    // Right to left: an edit further right only moves offsets past it, so the offsets at and
    // before each place are still those of the old text when it is handled.
    const collapsed: P[] = [];
    for (let k = places.length - 1; k >= 0; k--) {
      const [at, inserted, deleted] = places[k];
      const from = this.firstAfter(at);
      const to = deleted > 0 ? this.firstAfter(at + deleted) : from;
      for (let j = from; j < to; j++) {
        // Inside the deleted text: onto its start, after what was inserted there.
        this.points[j].o = at + inserted - (this.tree === undefined ? 0 : this.prefix(j));
        collapsed.push(this.points[j]);
      }
      if (inserted !== deleted && to < n) this.shift(to, inserted - deleted);
    }
    return collapsed;
  }

  /** First index whose offset is greater than `offset`. */
  private firstAfter(offset: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.value(this.points[mid]) > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Add `delta` to every offset from index `from` on. */
  private shift(from: number, delta: number): void {
    this.tree ??= new Float64Array(this.points.length + 1);
    for (let i = from + 1; i < this.tree.length; i += i & -i) this.tree[i] += delta;
  }

  /** The shifts pending for index `index`. */
  private prefix(index: number): number {
    const tree = this.tree as Float64Array;
    let sum = 0;
    for (let i = index + 1; i > 0; i -= i & -i) sum += tree[i];
    return sum;
  }

  /** Write the pending shifts into the offsets (before the list changes shape). */
  private flatten(): void {
    if (this.tree === undefined) return;
    for (const p of this.points) p.o += this.prefix(p.i);
    this.tree = undefined;
  }

  private sort(): void {
    if (this.sorted) return;
    this.flatten();
    this.points.sort((a, b) => a.o - b.o);
    this.points.forEach((p, i) => {
      p.i = i;
    });
    this.sorted = true;
  }
}

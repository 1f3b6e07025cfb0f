/**
 * A mutable chunked rope for long strings, indexed in code points.
 *
 * Why: a plain JS string costs a full copy per keystroke, and text-unicode must also convert its
 * code-point offset to UTF-16 by scanning from the start. Here text lives in chunks of at most
 * `MAX_CHUNK` UTF-16 units, each with its code-point count cached, so an edit copies one small
 * chunk. A cursor remembers the last chunk touched, so runs of nearby edits (typing) find their
 * chunk in O(1); a far jump scans the chunk table (≈1,000 entries for 1 MB), not the text.
 */
import { codePointLength, toUtf16Index } from './unicode';

/**
 * Largest chunk, in UTF-16 units. Small enough that re-copying a chunk per edit is cheap (~1 µs),
 * large enough that a 1 MB text has ~1,000–2,000 chunks to scan on a far jump.
 */
const MAX_CHUNK = 1024;

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

export class Rope {
  private chunks: string[] = [];
  /** Code points per chunk. */
  private cps: number[] = [];
  private cpLength = 0;
  /** Cursor cache: a chunk index and the code-point offset where it starts. */
  private at = 0;
  private atStart = 0;
  /** Flattened text, kept until the next edit (serializing twice costs nothing). */
  private flat: string | null = null;

  constructor(text = '') {
    this.appendChunks(text);
    this.flat = text;
  }

  /** Length in code points. */
  get length(): number {
    return this.cpLength;
  }

  toString(): string {
    if (this.flat === null) this.flat = this.chunks.join('');
    return this.flat;
  }

  /** JSON.stringify of a snapshot holding ropes yields plain JSON. */
  toJSON(): string {
    return this.toString();
  }

  /** The text between two code-point offsets (clamped). */
  slice(start: number, end = this.cpLength): string {
    const from = Math.max(0, start);
    const to = Math.min(end, this.cpLength);
    if (from >= to) return '';
    const first = this.locate(from);
    let off = from - this.atStart;
    let left = to - from;
    let out = '';
    for (let ci = first; left > 0 && ci < this.chunks.length; ci++) {
      const take = Math.min(left, this.cps[ci] - off);
      out += this.sliceChunk(ci, off, off + take);
      left -= take;
      off = 0;
    }
    return out;
  }

  /** Insert `text` at code-point offset `pos` (clamped to the end). */
  insert(pos: number, text: string, textCps = codePointLength(text)): void {
    if (text.length === 0) return;
    this.flat = null;
    if (this.chunks.length === 0) {
      this.appendChunks(text);
      return;
    }
    const p = Math.min(pos, this.cpLength);
    let ci = this.locate(p);
    // At a chunk boundary, append to the previous chunk so typing at the end extends one chunk.
    if (p === this.atStart && ci > 0) {
      ci--;
      this.at = ci;
      this.atStart -= this.cps[ci];
    }
    const chunk = this.chunks[ci];
    const u = this.unitOffset(ci, p - this.atStart);
    const next = chunk.slice(0, u) + text + chunk.slice(u);
    this.cps[ci] += textCps;
    this.cpLength += textCps;
    if (next.length <= MAX_CHUNK) this.chunks[ci] = next;
    else this.splitInto(ci, next);
  }

  /** Delete `count` code points starting at `pos`. */
  delete(pos: number, count: number): void {
    let left = Math.min(count, this.cpLength - pos);
    if (left <= 0) return;
    this.flat = null;
    let ci = this.locate(pos);
    let off = pos - this.atStart;
    while (left > 0) {
      if (off === this.cps[ci]) {
        // At the end of this chunk: move to the next one.
        this.atStart += this.cps[ci];
        ci++;
        this.at = ci;
        off = 0;
        continue;
      }
      const take = Math.min(left, this.cps[ci] - off);
      const chunk = this.chunks[ci];
      const a = this.unitOffset(ci, off);
      const b = this.unitOffset(ci, off + take);
      this.chunks[ci] = chunk.slice(0, a) + chunk.slice(b);
      this.cps[ci] -= take;
      this.cpLength -= take;
      left -= take;
      if (this.cps[ci] === 0 && this.chunks.length > 1) {
        this.chunks.splice(ci, 1);
        this.cps.splice(ci, 1);
        if (ci >= this.chunks.length) {
          // Deleted the last chunk: park the cursor on the new last one.
          ci = this.chunks.length - 1;
          this.atStart -= this.cps[ci];
        }
        this.at = ci;
        off = 0;
      }
    }
  }

  /** Code-point offset of a UTF-16 index (an index inside a surrogate pair moves before it). */
  codePointOffset(utf16Index: number): number {
    let units = 0;
    let cp = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i];
      if (units + chunk.length >= utf16Index) {
        const local = utf16Index - units;
        return cp + (this.cps[i] === chunk.length ? local : codePointLength(chunk.slice(0, local)));
      }
      units += chunk.length;
      cp += this.cps[i];
    }
    return cp;
  }

  /** UTF-16 index of a code-point offset. */
  utf16Offset(cpOffset: number): number {
    let units = 0;
    let cp = 0;
    for (let i = 0; i < this.chunks.length; i++) {
      if (cp + this.cps[i] >= cpOffset) return units + this.unitOffset(i, cpOffset - cp);
      units += this.chunks[i].length;
      cp += this.cps[i];
    }
    return units;
  }

  /** Index of the chunk holding code-point offset `pos`; sets the cursor to it. */
  private locate(pos: number): number {
    let ci = this.at;
    let start = this.atStart;
    if (ci >= this.chunks.length) {
      ci = 0;
      start = 0;
    }
    while (pos < start && ci > 0) {
      ci--;
      start -= this.cps[ci];
    }
    while (ci < this.chunks.length - 1 && pos > start + this.cps[ci]) {
      start += this.cps[ci];
      ci++;
    }
    this.at = ci;
    this.atStart = start;
    return ci;
  }

  /** UTF-16 offset inside chunk `ci` of its `cp`-th code point. */
  private unitOffset(ci: number, cp: number): number {
    const chunk = this.chunks[ci];
    return this.cps[ci] === chunk.length ? cp : toUtf16Index(chunk, cp);
  }

  private sliceChunk(ci: number, a: number, b: number): string {
    return this.chunks[ci].slice(this.unitOffset(ci, a), this.unitOffset(ci, b));
  }

  /** Replace chunk `ci` by `text` cut into chunks of at most MAX_CHUNK units. */
  private splitInto(ci: number, text: string): void {
    const parts = cut(text, MAX_CHUNK / 2);
    this.chunks.splice(ci, 1, ...parts);
    this.cps.splice(ci, 1, ...parts.map(codePointLength));
  }

  private appendChunks(text: string): void {
    for (const part of cut(text, MAX_CHUNK)) {
      const n = codePointLength(part);
      this.chunks.push(part);
      this.cps.push(n);
      this.cpLength += n;
    }
  }
}

/** Cut `text` into pieces of about `size` units, never between the halves of a surrogate pair. */
function cut(text: string, size: number): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    let j = Math.min(i + size, text.length);
    if (j < text.length && isHigh(text.charCodeAt(j - 1))) j++;
    parts.push(text.slice(i, j));
    i = j;
  }
  return parts;
}

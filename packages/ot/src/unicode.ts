/**
 * Unicode units. ot-text-unicode (and so every `es` text op) counts **code points**; JS strings index
 * **UTF-16 code units**. An emoji such as "😀" is 1 code point and 2 UTF-16 units. Everything in
 * @tandem/ot that takes or returns a string index names its unit; these helpers convert.
 */

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/** Number of code points in `s` (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && isLowSurrogate(s.charCodeAt(i + 1))) {
      n--;
      i++;
    }
  }
  return n;
}

/**
 * Code-point index of the UTF-16 index `utf16Index` in `s`. An index that falls between the two
 * halves of a surrogate pair is moved before the pair. Clamped to `[0, codePointLength(s)]`.
 */
export function toCodePointIndex(s: string, utf16Index: number): number {
  const end = Math.max(0, Math.min(utf16Index, s.length));
  let cp = 0;
  for (let i = 0; i < end; i++) {
    if (isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) {
      if (i + 1 === end) break; // splitting the pair: stay before it
      i++;
    }
    cp++;
  }
  return cp;
}

/** UTF-16 index of the code-point index `cpIndex` in `s`, clamped to `[0, s.length]`. */
export function toUtf16Index(s: string, cpIndex: number): number {
  let i = 0;
  for (let cp = 0; cp < cpIndex && i < s.length; cp++) {
    if (isHighSurrogate(s.charCodeAt(i)) && i + 1 < s.length && isLowSurrogate(s.charCodeAt(i + 1))) i += 2;
    else i++;
  }
  return i;
}

/** `s.slice` with code-point indexes. */
export function sliceCodePoints(s: string, start: number, end?: number): string {
  const a = toUtf16Index(s, start);
  return end === undefined ? s.slice(a) : s.slice(a, toUtf16Index(s, end));
}

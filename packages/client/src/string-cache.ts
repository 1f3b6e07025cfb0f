/**
 * Short strings repeat in every op message a client receives: the collection, the document id, the
 * sender's client id, the author. Decoding them through a small cache of their bytes skips the
 * UTF-8 decoding and the allocation (msgpack's decoder does this for map keys only).
 */
import type { Decoder } from '@msgpack/msgpack';

/** Longest string (in bytes) worth caching: ShareDB client ids are 32 bytes. */
const MAX_BYTES = 48;
/** Strings kept per byte length; a new one replaces the oldest (round robin). */
const PER_LENGTH = 32;

const utf8 = new TextDecoder();

export class StringCache {
  private readonly buckets: { bytes: Uint8Array; value: string }[][] = [];
  private readonly next: number[] = [];

  constructor() {
    for (let i = 0; i <= MAX_BYTES; i++) {
      this.buckets.push([]);
      this.next.push(0);
    }
  }

  canBeCached(byteLength: number): boolean {
    return byteLength > 0 && byteLength <= MAX_BYTES;
  }

  decode(bytes: Uint8Array, offset: number, byteLength: number): string {
    const bucket = this.buckets[byteLength];
    search: for (let i = 0; i < bucket.length; i++) {
      const entry = bucket[i];
      const known = entry.bytes;
      for (let j = 0; j < byteLength; j++) if (known[j] !== bytes[offset + j]) continue search;
      return entry.value;
    }
    // A copy: `bytes` may be a pooled Buffer that is reused for the next frame.
    const copy = bytes.slice(offset, offset + byteLength);
    const value = utf8.decode(copy);
    if (bucket.length < PER_LENGTH) bucket.push({ bytes: copy, value });
    else {
      bucket[this.next[byteLength]] = { bytes: copy, value };
      this.next[byteLength] = (this.next[byteLength] + 1) % PER_LENGTH;
    }
    return value;
  }
}

/** The decoder state the override reads (fields of @msgpack/msgpack's Decoder, not its public API). */
interface DecoderInternals {
  bytes: Uint8Array;
  pos: number;
  decodeUtf8String(byteLength: number, headerOffset: number): string;
}

/**
 * Decode `decoder`'s short string values through `cache` too (keys go through it as its
 * `keyDecoder`). @msgpack/msgpack has no option for values, so this overrides one internal method
 * of this instance; a sample is decoded right after, and any difference puts the original back.
 */
export function cacheStringValues(
  decoder: Decoder,
  cache: StringCache,
  sample: Uint8Array,
  expected: string,
): void {
  const internals = decoder as unknown as DecoderInternals;
  const original = internals.decodeUtf8String;
  if (typeof original !== 'function') return;
  internals.decodeUtf8String = function (this: DecoderInternals, byteLength: number, headerOffset: number) {
    const offset = this.pos + headerOffset;
    if (!cache.canBeCached(byteLength) || this.bytes.byteLength < offset + byteLength)
      return original.call(this, byteLength, headerOffset);
    const value = cache.decode(this.bytes, offset, byteLength);
    this.pos = offset + byteLength;
    return value;
  };
  let works = false;
  try {
    works =
      JSON.stringify(decoder.decode(sample)) === expected &&
      JSON.stringify(decoder.decode(sample)) === expected;
  } catch {}
  if (!works) internals.decodeUtf8String = original;
}

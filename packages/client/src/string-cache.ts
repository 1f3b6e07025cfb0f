/**
 * Short strings repeat in every op message a client receives: the collection, the document id, the
 * sender's client id, the author. Decoding them through a small cache of their bytes skips the
 * UTF-8 decoding and the allocation (msgpack's decoder does this for map keys only).
 */
import type { Decoder } from '@msgpack/msgpack';

/** Longest string (in bytes) worth caching: ShareDB client ids are 32 bytes. */
const MAX_BYTES = 48;
/** Slots in the table (a power of two): room for the ids and names of a few thousand peers. */
const SLOTS = 2048;

const utf8 = new TextDecoder();

/**
 * A direct-mapped table: a string's bytes hash to one slot, a hit is one comparison, a miss
 * decodes and takes the slot. Lookups stay O(length) however many distinct strings go by (a
 * searched list per length was slower than plain decoding once a room had hundreds of peers).
 */
export class StringCache {
  private readonly keys: (Uint8Array | undefined)[] = new Array(SLOTS).fill(undefined);
  private readonly values: string[] = new Array(SLOTS).fill('');

  canBeCached(byteLength: number): boolean {
    return byteLength > 0 && byteLength <= MAX_BYTES;
  }

  decode(bytes: Uint8Array, offset: number, byteLength: number): string {
    let hash = 2166136261 ^ byteLength; // FNV-1a
    for (let i = 0; i < byteLength; i++) hash = Math.imul(hash ^ bytes[offset + i], 16777619);
    const slot = (hash ^ (hash >>> 13)) & (SLOTS - 1);
    const known = this.keys[slot];
    if (known !== undefined && known.length === byteLength) {
      let same = true;
      for (let i = 0; i < byteLength && same; i++) same = known[i] === bytes[offset + i];
      if (same) return this.values[slot];
    }
    // A copy: `bytes` may be a pooled Buffer that is reused for the next frame.
    const copy = bytes.slice(offset, offset + byteLength);
    const value = isAscii(copy)
      ? String.fromCharCode.apply(null, copy as unknown as number[])
      : utf8.decode(copy);
    this.keys[slot] = copy;
    this.values[slot] = value;
    return value;
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
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

/**
 * Hocuspocus frames, as the benchmark's own Yjs clients read and write them:
 * varString(documentName) varUint(type) …, with y-protocols sync sub-messages inside.
 */
export const HP_SYNC = 0;
export const HP_AUTH = 2;
export const HP_SYNC_REPLY = 4;
export const HP_SYNC_STATUS = 8;
export const SYNC_STEP1 = 0;
export const SYNC_STEP2 = 1;
export const SYNC_UPDATE = 2;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class Writer {
  private bytes: number[] = [];
  uint(n: number): this {
    while (n > 0x7f) {
      this.bytes.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }
  array(data: Uint8Array): this {
    this.uint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }
  string(s: string): this {
    return this.array(encoder.encode(s));
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export class Reader {
  pos = 0;
  constructor(private readonly data: Uint8Array) {}
  uint(): number {
    let n = 0;
    let mult = 1;
    for (;;) {
      const b = this.data[this.pos++];
      n += (b & 0x7f) * mult;
      if (b < 0x80) return n;
      mult *= 128;
    }
  }
  array(): Uint8Array {
    const length = this.uint();
    const out = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  string(): string {
    return decoder.decode(this.array());
  }
  /** Skip a varString (the document name) without decoding it. */
  skipString(): this {
    const length = this.uint();
    this.pos += length;
    return this;
  }
}

/** The author and clock of an update's first struct (`numClients, numStructs, client, clock`). */
export function firstStruct(update: Uint8Array): { author: number; clock: number } | undefined {
  const header = new Reader(update);
  if (header.uint() === 0) return undefined;
  header.uint();
  const author = header.uint();
  const clock = header.uint();
  return { author, clock };
}

import { Encoder } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clientCodec } from '../src/codecs';
import { StringCache } from '../src/string-cache';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('StringCache', () => {
  it('returns the same string for the same bytes, and tells apart strings of one length', () => {
    const cache = new StringCache();
    const a = cache.decode(bytes('xxroomsxx'), 2, 5);
    expect(a).toBe('rooms');
    expect(cache.decode(bytes('rooms'), 0, 5)).toBe(a);
    expect(cache.decode(bytes('roomz'), 0, 5)).toBe('roomz');
    expect(cache.decode(bytes('héllo ✓'), 0, bytes('héllo ✓').length)).toBe('héllo ✓');
  });

  it('keeps its own copy: a reused input buffer does not change what it returns', () => {
    const cache = new StringCache();
    const pooled = bytes('alpha');
    expect(cache.decode(pooled, 0, 5)).toBe('alpha');
    pooled.set(bytes('omega'));
    expect(cache.decode(pooled, 0, 5)).toBe('omega');
    expect(cache.decode(bytes('alpha'), 0, 5)).toBe('alpha');
  });

  it('stays correct with far more distinct strings than slots (colliding ones replace each other)', () => {
    const cache = new StringCache();
    for (let round = 0; round < 2; round++)
      for (let i = 0; i < 5000; i++) {
        const text = `id-${String(i).padStart(5, '0')}`;
        expect(cache.decode(bytes(text), 0, text.length)).toBe(text);
      }
  });
});

describe('the client msgpack codec', () => {
  const encoder = new Encoder({ ignoreUndefined: true });
  const codec = clientCodec('msgpack');

  // @msgpack/msgpack refuses a `__proto__` key (prototype pollution); such a frame is a typed error.
  const json = fc.jsonValue().filter((value) => !JSON.stringify(value).includes('"__proto__"'));

  it('decodes any JSON value exactly (string values go through the cache)', () => {
    fc.assert(
      fc.property(json, (value) => {
        const decoded = codec.decode(encoder.encode(value));
        expect(decoded).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('decodes batches of op messages with repeated strings', () => {
    const op = (v: number) => ({
      a: 'op',
      c: 'rooms',
      d: 'room-1',
      v,
      src: 'c0ffee'.repeat(5),
      op: ['t', { es: [v, 'é'] }],
    });
    const frame = codec.batch([encoder.encode(op(1)), encoder.encode(op(2))]);
    expect(codec.decode(frame)).toEqual([op(1), op(2)]);
    expect(codec.decode(frame)).toEqual([op(1), op(2)]);
  });
});

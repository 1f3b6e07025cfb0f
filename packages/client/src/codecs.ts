/** The client's codecs (the msgpack implementation is bundled for browsers). */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { batchedJsonCodec, type Codec, msgpackCodec } from '@tandem/protocol';
import { cacheStringValues, StringCache } from './string-cache';

// ShareDB messages carry `undefined` fields; drop them like JSON does. Documents may nest deeper
// than msgpack's default bound of 100 (the server decides the limit and says so when exceeded).
const encoder = new Encoder({ ignoreUndefined: true, maxDepth: 1_024 });
// One decoder for every frame: `decode()` builds a new one per call (a browser tab or a Node process
// with many sockets decodes thousands of frames a second). It is re-entrant and resets per call.
const strings = new StringCache();
const decoder = new Decoder({ keyDecoder: strings });
const sample = { a: 'op', c: 'rooms', d: 'doc-1', v: 7, src: 'f00d', op: ['text', { es: [3, 'héllo ✓'] }] };
cacheStringValues(decoder, strings, encoder.encode(sample), JSON.stringify(sample));

export type CodecName = 'msgpack' | 'json';

export function clientCodec(name: CodecName): Codec {
  if (name === 'json') return batchedJsonCodec;
  return msgpackCodec({ encode: (value) => encoder.encode(value), decode: (bytes) => decoder.decode(bytes) });
}

/** The client's codecs (the msgpack implementation is bundled for browsers). */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { batchedJsonCodec, type Codec, msgpackCodec } from '@tandem/protocol';

// ShareDB messages carry `undefined` fields; drop them like JSON does.
const encoder = new Encoder({ ignoreUndefined: true });
// One decoder for every frame: `decode()` builds a new one per call (a browser tab or a Node process
// with many sockets decodes thousands of frames a second). It is re-entrant and resets per call.
const decoder = new Decoder();

export type CodecName = 'msgpack' | 'json';

export function clientCodec(name: CodecName): Codec {
  if (name === 'json') return batchedJsonCodec;
  return msgpackCodec({ encode: (value) => encoder.encode(value), decode: (bytes) => decoder.decode(bytes) });
}

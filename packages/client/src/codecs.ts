/** The client's codecs (the msgpack implementation is bundled for browsers). */
import { decode, Encoder } from '@msgpack/msgpack';
import { batchedJsonCodec, type Codec, msgpackCodec } from '@tandem/protocol';

// ShareDB messages carry `undefined` fields; drop them like JSON does.
const encoder = new Encoder({ ignoreUndefined: true });

export type CodecName = 'msgpack' | 'json';

export function clientCodec(name: CodecName): Codec {
  if (name === 'json') return batchedJsonCodec;
  return msgpackCodec({ encode: (value) => encoder.encode(value), decode: (bytes) => decode(bytes) });
}

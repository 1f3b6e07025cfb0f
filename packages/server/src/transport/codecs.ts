/** The server's codecs, chosen by the negotiated subprotocol. */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { batchedJsonCodec, type Codec, msgpackCodec, plainJsonCodec, Subprotocol } from '@tandem/protocol';

// ShareDB messages carry `undefined` fields (e.g. `seq` on ops without one); JSON drops them, so
// msgpack must too or a stock-shaped message would grow `null`s. The depth bound (the default is
// 100, below what documents may nest) stays above anything a client may send (security/limits.ts),
// so a reply echoing a request can always be encoded.
const encoder = new Encoder({ ignoreUndefined: true, maxDepth: 1_024 });
// One decoder for every frame (`decode()` builds a new one per call); re-entrant, reset per call.
const decoder = new Decoder();

export const serverMsgpackCodec: Codec = msgpackCodec({
  encode: (value) => encoder.encode(value),
  decode: (bytes) => decoder.decode(bytes),
});

export function codecFor(subprotocol: string): Codec {
  if (subprotocol === Subprotocol.msgpack) return serverMsgpackCodec;
  if (subprotocol === Subprotocol.json) return batchedJsonCodec;
  return plainJsonCodec;
}

/**
 * Wire codecs. A codec turns one message (a plain object: a ShareDB message or a Tandem message)
 * into one frame and back, and can join already-encoded messages into a batch frame without
 * re-encoding them (the server encodes each op once per codec and hands the same bytes to every
 * subscriber). The codec is negotiated with the WebSocket subprotocol:
 *
 * - no subprotocol            JSON, one message per frame: what a stock `sharedb/lib/client` speaks.
 * - `tandem.json.v1`          JSON; a frame may be a JSON array of messages (a batch).
 * - `tandem.msgpack.v1`       msgpack (binary frames); a frame may be a msgpack array of messages.
 *
 * Messages are always objects, so a top-level array unambiguously means a batch.
 * `@tandem/protocol` has no runtime dependencies: the msgpack implementation is passed in by the
 * server and the client (both depend on `@msgpack/msgpack`).
 */
import { ErrorCode, TandemError } from './errors';

/** One encoded message or frame: text for JSON codecs, bytes for binary ones. */
export type Frame = string | Uint8Array;

export const Subprotocol = {
  json: 'tandem.json.v1',
  msgpack: 'tandem.msgpack.v1',
} as const;
export type Subprotocol = (typeof Subprotocol)[keyof typeof Subprotocol];

export interface Codec {
  /** Name used in metrics and logs. */
  readonly name: 'json' | 'msgpack';
  /** The subprotocol that selects it; `''` for plain JSON without batching. */
  readonly subprotocol: Subprotocol | '';
  /** Whether frames are binary. */
  readonly binary: boolean;
  /** Whether the peer accepts batch frames (several messages in one frame). */
  readonly batching: boolean;
  encode(message: unknown): Frame;
  /** Decode one frame into a message or, for a batch frame, an array of messages. */
  decode(frame: Frame): unknown;
  /** Join already-encoded messages into one batch frame without re-encoding them. */
  batch(encoded: readonly Frame[]): Frame;
}

/** The subset of `@msgpack/msgpack` the msgpack codec needs. */
export interface MsgpackImplementation {
  encode(value: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

const textDecoder = new TextDecoder();

function invalid(reason: string, cause?: unknown): TandemError {
  return new TandemError(
    ErrorCode.INVALID_MESSAGE,
    `frame could not be decoded: ${reason}`,
    { reason },
    { cause },
  );
}

function jsonCodec(batching: boolean): Codec {
  return {
    name: 'json',
    subprotocol: batching ? Subprotocol.json : '',
    binary: false,
    batching,
    encode: (message) => JSON.stringify(message),
    decode(frame) {
      const text = typeof frame === 'string' ? frame : textDecoder.decode(frame);
      try {
        return JSON.parse(text);
      } catch (cause) {
        throw invalid('malformed JSON', cause);
      }
    },
    batch: (encoded) => `[${encoded.join(',')}]`,
  };
}

/** Plain JSON, one message per frame: the stock ShareDB wire format. */
export const plainJsonCodec: Codec = jsonCodec(false);
/** JSON with batch frames, for Tandem clients. */
export const batchedJsonCodec: Codec = jsonCodec(true);

/** msgpack array header for `n` items (fixarray, array 16 or array 32). */
export function msgpackArrayHeader(n: number): Uint8Array {
  if (n < 16) return Uint8Array.of(0x90 | n);
  if (n < 0x10000) return Uint8Array.of(0xdc, n >> 8, n & 0xff);
  return Uint8Array.of(0xdd, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function msgpackCodec(msgpack: MsgpackImplementation): Codec {
  return {
    name: 'msgpack',
    subprotocol: Subprotocol.msgpack,
    binary: true,
    batching: true,
    encode: (message) => msgpack.encode(message),
    decode(frame) {
      if (typeof frame === 'string') throw invalid('text frame on a msgpack connection');
      try {
        return msgpack.decode(frame);
      } catch (cause) {
        throw invalid('malformed msgpack', cause);
      }
    },
    batch(encoded) {
      const header = msgpackArrayHeader(encoded.length);
      let size = header.length;
      for (const part of encoded) size += (part as Uint8Array).length;
      const out = new Uint8Array(size);
      out.set(header, 0);
      let at = header.length;
      for (const part of encoded) {
        out.set(part as Uint8Array, at);
        at += (part as Uint8Array).length;
      }
      return out;
    },
  };
}

/**
 * Pick the codec for the subprotocols a client offered, in the server's order of preference
 * (msgpack, then batched JSON); no known subprotocol means plain JSON.
 */
export function selectSubprotocol(offered: Iterable<string>): Subprotocol | '' {
  const set = new Set(offered);
  if (set.has(Subprotocol.msgpack)) return Subprotocol.msgpack;
  if (set.has(Subprotocol.json)) return Subprotocol.json;
  return '';
}

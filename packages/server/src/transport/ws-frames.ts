/**
 * Server-to-client WebSocket frames built once and written to every socket as they are.
 *
 * A fan-out hands the same frame to a whole room. `ws.send` frames it again for every socket: a new
 * header, a cork, two writes and an uncork, about a fifth of the time a 100-socket fan-out takes
 * (the rest is the syscalls). So the last frame sent is kept framed (RFC 6455: FIN, text or binary
 * opcode, unmasked, 7/16/64-bit length), and each socket of the room gets those bytes in one write.
 *
 * A byte frame is recognised by identity, so frames must never change once sent (the codecs and the
 * shared-frame caches in frames.ts hand out fresh, never-reused arrays). Only frames up to
 * MEMO_BYTES are kept: a large one (a snapshot) is rarely sent twice in a row and would stay in
 * memory twice until the next send.
 */
import type { Frame } from '@tandem/protocol';

const MEMO_BYTES = 64 * 1024;

let lastFrame: Frame | undefined;
let lastWire: Buffer | undefined;

/** A FIN frame of `opcode` with room for `length` payload bytes; the payload starts at `offset`. */
function framed(opcode: number, length: number): { wire: Buffer; offset: number } {
  const offset = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const wire = Buffer.allocUnsafe(offset + length);
  wire[0] = 0x80 | opcode;
  if (offset === 2) wire[1] = length;
  else if (offset === 4) {
    wire[1] = 126;
    wire.writeUInt16BE(length, 2);
  } else {
    wire[1] = 127;
    wire.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    wire.writeUInt32BE(length >>> 0, 6);
  }
  return { wire, offset };
}

/** `frame` as one unmasked WebSocket message: text for a string, binary for bytes (as `ws.send`). */
export function wireFrame(frame: Frame): Buffer {
  // Strings compare by value: a frame equal to the last one has the same wire bytes.
  if (frame === lastFrame && lastWire !== undefined) return lastWire;
  const text = typeof frame === 'string';
  const { wire, offset } = framed(text ? 0x1 : 0x2, text ? Buffer.byteLength(frame) : frame.byteLength);
  if (text) wire.write(frame, offset, 'utf8');
  else wire.set(frame, offset);
  if (wire.byteLength <= MEMO_BYTES) {
    lastFrame = frame;
    lastWire = wire;
  }
  return wire;
}

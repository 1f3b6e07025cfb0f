import {
  batchedJsonCodec,
  ErrorCode,
  isTandemMessage,
  msgpackArrayHeader,
  plainJsonCodec,
  Subprotocol,
  selectSubprotocol,
  TandemError,
} from '@tandem/protocol';
import { describe, expect, it } from 'vitest';

describe('codecs', () => {
  it('joins pre-encoded JSON messages into a batch frame without re-encoding', () => {
    const parts = [
      { a: 'op', v: 1 },
      { a: 'op', v: 2 },
    ].map((m) => batchedJsonCodec.encode(m));
    expect(batchedJsonCodec.decode(batchedJsonCodec.batch(parts))).toEqual([
      { a: 'op', v: 1 },
      { a: 'op', v: 2 },
    ]);
    expect(plainJsonCodec.batching).toBe(false);
    expect(plainJsonCodec.subprotocol).toBe('');
  });

  it('drops undefined fields like ShareDB expects', () => {
    expect(plainJsonCodec.encode({ a: 'op', seq: undefined })).toBe('{"a":"op"}');
  });

  it('reports malformed frames as INVALID_MESSAGE', () => {
    try {
      plainJsonCodec.decode('{oops');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TandemError);
      expect((error as TandemError).code).toBe(ErrorCode.INVALID_MESSAGE);
    }
  });

  it('writes msgpack array headers for every size class', () => {
    expect([...msgpackArrayHeader(3)]).toEqual([0x93]);
    expect([...msgpackArrayHeader(300)]).toEqual([0xdc, 0x01, 0x2c]);
    expect([...msgpackArrayHeader(70_000)]).toEqual([0xdd, 0x00, 0x01, 0x11, 0x70]);
  });

  it('prefers msgpack, then batched JSON, else plain JSON', () => {
    expect(selectSubprotocol([Subprotocol.json, Subprotocol.msgpack])).toBe(Subprotocol.msgpack);
    expect(selectSubprotocol([Subprotocol.json])).toBe(Subprotocol.json);
    expect(selectSubprotocol(['graphql-ws'])).toBe('');
  });

  it('recognises Tandem messages by their namespace', () => {
    expect(isTandemMessage({ a: 'tandem', t: 'ping', ts: 1 })).toBe(true);
    expect(isTandemMessage({ a: 'op' })).toBe(false);
  });
});

import { ropeType, type } from '@tandem/ot';
import * as json1 from 'ot-json1';
import { describe, expect, it } from 'vitest';

describe('type.invert (what ShareDB rolls rejected ops back with)', () => {
  it('inverts ops whose removes carry their value', () => {
    expect(type.invert(['n', { r: 1, i: 2 }])).toEqual(['n', { r: 2, i: 1 }]);
  });

  it('refuses a remove without its value (json1 would insert `true`), so ShareDB refetches', () => {
    expect(() => type.invert(['n', { r: true, i: 2 }])).toThrow(
      expect.objectContaining({ code: 'INVALID_OP' }),
    );
  });
});

describe('type identity', () => {
  it('has json1’s name and uri (stock clients interoperate), for the client type and the rope type', () => {
    expect([type.name, type.uri]).toEqual([json1.type.name, json1.type.uri]);
    expect([ropeType.name, ropeType.uri]).toEqual([json1.type.name, json1.type.uri]);
  });
});

import { readFileSync } from 'node:fs';
import {
  ErrorCode,
  err,
  fromShareDbError,
  isTandemError,
  isWireError,
  ok,
  TandemError,
  unwrap,
} from '@tandem/protocol';
import { describe, expect, it } from 'vitest';

describe('TandemError', () => {
  it('has codes equal to their names', () => {
    for (const [name, code] of Object.entries(ErrorCode)) expect(code).toBe(name);
  });

  it('documents every code in docs/errors.md', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.values(ErrorCode).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('sends only code, message and details over the wire', () => {
    const cause = new Error('secret stack');
    const e = new TandemError(ErrorCode.LOCKED, 'path is locked', { path: ['a'] }, { cause });
    const wire = JSON.parse(JSON.stringify(e));
    expect(wire).toEqual({ code: 'LOCKED', message: 'path is locked', details: { path: ['a'] } });
    expect(isWireError(wire)).toBe(true);
    const back = TandemError.fromJSON(wire);
    expect(back).toBeInstanceOf(TandemError);
    expect(back.code).toBe('LOCKED');
    expect(back.details).toEqual({ path: ['a'] });
  });

  it('maps a malformed wire error to INTERNAL', () => {
    expect(TandemError.fromJSON({ code: 'NOPE', message: 'x' }).code).toBe('INTERNAL');
    expect(TandemError.fromJSON(null).code).toBe('INTERNAL');
    expect(isWireError({ code: 'FORBIDDEN' })).toBe(false);
  });

  it('wraps foreign errors and recognises its own', () => {
    const wrapped = TandemError.from(new TypeError('boom'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(wrapped.message).toBe('boom');
    expect(isTandemError(wrapped)).toBe(true);
    expect(isTandemError(new Error('x'))).toBe(false);
    const same = new TandemError(ErrorCode.FORBIDDEN, 'no');
    expect(TandemError.from(same)).toBe(same);
  });

  it('keeps the code and details of a TandemError from another copy of the module (ESM beside CJS)', () => {
    // What the other build's class produces: an Error named TandemError with a known code.
    class OtherTandemError extends Error {
      override readonly name = 'TandemError';
      constructor(
        readonly code: string,
        message: string,
        readonly details?: Record<string, unknown>,
      ) {
        super(message);
      }
    }
    const foreign = new OtherTandemError(ErrorCode.LOCKED, 'locked', { path: ['a'] });
    expect(foreign instanceof TandemError).toBe(false);
    const wrapped = TandemError.from(foreign, ErrorCode.INTERNAL);
    expect(wrapped).toBeInstanceOf(TandemError);
    expect(wrapped.toJSON()).toEqual({ code: ErrorCode.LOCKED, message: 'locked', details: { path: ['a'] } });
    // The ShareDB error map (a middleware's refusal travels through ShareDB) keeps it too.
    expect(fromShareDbError(foreign).toJSON()).toEqual(wrapped.toJSON());
  });

  it('unwraps results', () => {
    expect(unwrap(ok(3))).toBe(3);
    expect(() => unwrap(err(new TandemError(ErrorCode.INVALID_OP, 'bad')))).toThrow('bad');
  });
});

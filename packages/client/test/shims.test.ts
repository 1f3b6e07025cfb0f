// The modules bundled in place of Node's `events`, `util` and the `async` library for ShareDB's
// client (src/sharedb.ts): they must behave as the originals do for the calls ShareDB makes.
import { describe, expect, it } from 'vitest';
import { each, parallel } from '../src/shims/async';
import { EventEmitter } from '../src/shims/events';
import { inherits } from '../src/shims/util';

describe('async shim', () => {
  it('each: calls back once after every item, or once with the first error', () => {
    const calls: unknown[] = [];
    each(
      [1, 2, 3],
      (_n, next) => next(),
      (e) => calls.push(['done', e]),
    );
    each(
      [],
      (_n, next) => next(),
      (e) => calls.push(['empty', e]),
    );
    const nexts: ((e?: unknown) => void)[] = [];
    each(
      [1, 2],
      (_n, next) => nexts.push(next),
      (e) => calls.push(['failed', e]),
    );
    nexts[0]('boom');
    nexts[1]();
    expect(calls).toEqual([
      ['done', null],
      ['empty', null],
      ['failed', 'boom'],
    ]);
  });

  it('parallel: results in task order, whatever order they finish in', () => {
    const finish: (() => void)[] = [];
    let out: unknown;
    parallel<string>(
      [(next) => finish.push(() => next(null, 'a')), (next) => finish.push(() => next(null, 'b'))],
      (error, results) => {
        out = [error, results];
      },
    );
    finish[1]();
    expect(out).toBeUndefined();
    finish[0]();
    expect(out).toEqual([null, ['a', 'b']]);
  });
});

describe('events shim', () => {
  it('on, once, off, emit; an unhandled error throws; methods are enumerable (ShareDB mixes them in)', () => {
    const e = new (EventEmitter as unknown as new () => Record<string, (...a: unknown[]) => unknown>)();
    const seen: unknown[] = [];
    const listener = (x: unknown) => seen.push(['on', x]);
    e.on('x', listener);
    e.once('x', (x: unknown) => seen.push(['once', x]));
    e.emit('x', 1);
    e.emit('x', 2);
    e.removeListener('x', listener);
    expect(e.emit('x', 3)).toBe(false);
    expect(seen).toEqual([
      ['on', 1],
      ['once', 1],
      ['on', 2],
    ]);
    expect(() => e.emit('error', new Error('unhandled'))).toThrow('unhandled');
    const names: string[] = [];
    for (const name in EventEmitter.prototype) names.push(name);
    expect(names).toEqual(expect.arrayContaining(['on', 'once', 'emit', 'removeListener', 'listeners']));
  });
});

describe('util shim', () => {
  it('inherits sets the prototype chain and super_ as Node does', () => {
    function Base() {}
    function Child() {}
    inherits(Child, Base);
    expect(new (Child as unknown as new () => object)()).toBeInstanceOf(Base);
    expect((Child as { super_?: unknown }).super_).toBe(Base);
  });
});

/**
 * Moving stored anchors, against a stub store: ops read once from the oldest anchor's version, each
 * anchor joining at its own version; a version too far behind refused before any op is read; ops
 * the store no longer has (compacted) detach the anchors that needed them.
 */
import type { DocIO, StoredOp } from '@tandem/conflicts';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { describe, expect, it } from 'vitest';
import { DocumentAnchors, moveAnchors } from '../src/rebase';

function store(v: number, ops: StoredOp[] | 'compacted') {
  const reads: [number, number][] = [];
  const io = {
    read: async () => ({ v, data: { body: 'abcdefghij' } }),
    ops: async (_c: string, _id: string, from: number, to: number) => {
      reads.push([from, to]);
      if (ops === 'compacted')
        throw new TandemError(ErrorCode.NOT_FOUND, 'ops are not stored (compacted?)', {
          reason: 'compacted',
        });
      return ops.slice(from - (v - ops.length), to - (v - ops.length));
    },
  } as unknown as DocIO;
  return { io, reads };
}

const ref = { collection: 'notes', id: 'n' };

describe('moveAnchors', () => {
  it('reads the ops once from the oldest anchor; each anchor moves from its own version', async () => {
    // versions 7, 8, 9: an insert of two characters at 0, each time
    const ops = [7, 8, 9].map((v) => ({ v, op: ['body', { es: ['xy'] }] }) as StoredOp);
    const { io, reads } = store(10, ops);
    const moved = await moveAnchors(io, ref, [
      ['old', { path: ['body'], start: 1, end: 2, v: 7 }],
      ['newer', { path: ['body'], start: 1, end: 2, v: 9 }],
      ['current', { path: ['body'], start: 1, end: 2, v: 10 }],
    ]);
    expect(reads).toEqual([[7, 10]]);
    expect(moved.v).toBe(10);
    expect(moved.anchors.get('old')).toEqual({ path: ['body'], start: 7, end: 8, v: 10 });
    expect(moved.anchors.get('newer')).toEqual({ path: ['body'], start: 3, end: 4, v: 10 });
    expect(moved.anchors.get('current')).toEqual({ path: ['body'], start: 1, end: 2, v: 10 });
    expect([...moved.moved.keys()].sort()).toEqual(['newer', 'old']);
  });

  it('asks how far behind before reading any op', async () => {
    const { io, reads } = store(10_050, []);
    const tooOld = (behind: number) => {
      if (behind > 10_000) throw new TandemError(ErrorCode.INVALID_MESSAGE, 'too old', { reason: 'version' });
    };
    await expect(
      moveAnchors(io, ref, [['a', { path: ['body'], start: 0, end: 1, v: 3 }]], tooOld),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    expect(reads).toEqual([]);
  });

  it('detaches the anchors whose ops are no longer stored, keeping their path', async () => {
    const { io } = store(10, 'compacted');
    const moved = await moveAnchors(io, ref, [['a', { path: ['body'], start: 0, end: 1, v: 3 }]]);
    expect(moved.anchors.get('a')).toEqual({ path: ['body'], v: 10, detached: true });
  });
});

describe('DocumentAnchors', () => {
  it('starts from the anchors it moved last, and writes them back only once the stored ones are old', async () => {
    let v = 3;
    const stored = { threads: { t: { a: { path: ['body'], start: 1, end: 2, v: 1 } } } };
    const reads: [number, number][] = [];
    const writes: unknown[] = [];
    const io = {
      read: async () => ({ v, data: { body: 'abcdefghij' } }),
      ops: async (_c: string, _id: string, from: number, to: number) => {
        reads.push([from, to]);
        const ops: StoredOp[] = [];
        for (let u = from; u < to; u++) ops.push({ v: u, op: ['body', { es: ['x'] }] } as StoredOp);
        return ops;
      },
      update: async (_c: string, _id: string, next: (current: unknown) => { op?: unknown }) => {
        writes.push(next({ v: 1, data: stored }).op);
      },
    } as unknown as DocIO;
    const anchors = new DocumentAnchors(io, 5, () => {});
    expect((await anchors.current(ref, stored)).anchors.get('t')).toMatchObject({ start: 3, v: 3 });
    v = 5;
    // From its own anchors at 3, not the stored ones at 1: ops 3 and 4 only, and nothing written.
    expect((await anchors.current(ref, stored)).anchors.get('t')).toMatchObject({ start: 5, v: 5 });
    expect(reads).toEqual([
      [1, 3],
      [3, 5],
    ]);
    await anchors.flush();
    expect(writes).toEqual([]);
    // The stored anchor is now 5 versions old: written back (after the answer).
    v = 6;
    await anchors.current(ref, stored);
    await anchors.flush();
    expect(JSON.stringify(writes)).toContain('"start":6');
    expect(JSON.stringify(writes)).toContain('"v":6');
  });
});

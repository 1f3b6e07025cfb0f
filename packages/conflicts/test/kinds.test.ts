import {
  deleteTextAtCodePoint,
  insertTextAtCodePoint,
  move,
  remove,
  replace,
  spliceTextAtCodePoint,
} from '@tandem/ot';
import { describe, expect, test } from 'vitest';
import { concurrently, serverData, setup, twoClients } from './helpers';

describe('each kind, two clients through a real ShareDB backend', () => {
  test('same-field write: high, the later write takes the key (OT), both authors recorded', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { title: 'Draft' });
    await concurrently(a, replace(['title'], 'Alice'), b, replace(['title'], 'Bob'));
    await s.handle.flush();
    expect(s.records).toHaveLength(1);
    const [r] = s.records;
    expect(r).toMatchObject({
      kind: 'same-field-write',
      path: ['title'],
      severity: 'high',
      policy: 'merge',
      resolved: true,
      resolution: 'op-wins',
      status: 'resolved',
      authors: ['bob', 'alice'],
      op: { author: 'bob', baseVersion: 1, version: 2 },
      other: { author: 'alice', version: 1 },
    });
    expect(a.data).toEqual({ title: 'Bob' });
    expect(b.data).toEqual(a.data);
  });

  test('delete-vs-edit: high; the edit inside removed content is dropped', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { card: { text: 'hello' } });
    await concurrently(a, remove(['card']), b, insertTextAtCodePoint(['card', 'text'], 5, '!'));
    await s.handle.flush();
    expect(s.records).toMatchObject([
      {
        kind: 'delete-vs-edit',
        severity: 'high',
        path: ['card', 'text'],
        otherPath: ['card'],
        resolution: 'other-wins',
      },
    ]);
    expect(a.data).toEqual({});
    expect(b.data).toEqual({});
  });

  test('move collision: medium', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { x: 1, y: 2 });
    await concurrently(a, move(['x'], ['z']), b, move(['y'], ['z']));
    await s.handle.flush();
    expect(s.records).toMatchObject([{ kind: 'move-collision', severity: 'medium', path: ['z'] }]);
    expect(a.data).toEqual(b.data);
  });

  test('move cycle (json1 blackhole): high, both removed', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { p: {}, q: {} });
    await concurrently(a, move(['p'], ['q', 'child']), b, move(['q'], ['p', 'child']));
    await s.handle.flush();
    expect(s.records).toMatchObject([{ kind: 'move-cycle', severity: 'high', resolution: 'both-removed' }]);
    expect(a.data).toEqual(b.data);
  });

  test('overlapping text: medium when text is removed, low when both inserts are kept', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { body: 'the cat sat' });
    await concurrently(
      a,
      spliceTextAtCodePoint(['body'], 4, 3, 'dog'),
      b,
      deleteTextAtCodePoint(['body'], 5, 2),
    );
    await concurrently(
      a,
      insertTextAtCodePoint(['body'], 0, 'A'),
      b,
      insertTextAtCodePoint(['body'], 0, 'B'),
    );
    await s.handle.flush();
    expect(s.records).toMatchObject([
      { kind: 'overlapping-text', severity: 'medium', path: ['body'], resolution: 'merged' },
      { kind: 'overlapping-text', severity: 'low', path: ['body'], op: { ranges: [{ start: 0, end: 0 }] } },
    ]);
    expect(a.data).toEqual(b.data);
    expect(await serverData(s)).toEqual(a.data);
  });

  test('no record for concurrent edits that do not collide', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { title: 'x', body: 'hello world' });
    await concurrently(a, replace(['title'], 'y'), b, insertTextAtCodePoint(['body'], 0, '>'));
    await concurrently(
      a,
      insertTextAtCodePoint(['body'], 12, '!'),
      b,
      insertTextAtCodePoint(['body'], 1, '>'),
    );
    await s.handle.flush();
    expect(s.records).toEqual([]);
    expect(a.data).toEqual({ title: 'y', body: '>>hello world!' });
  });

  test('locked path: refused with LOCKED, recorded', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { title: 'x', body: 'b' });
    await s.handle.locks.acquire({ collection: 'notes', docId: 'n1', path: ['title'], owner: 'alice' });
    const error = await concurrently(a, replace(['title'], 'A', 'x'), b, replace(['title'], 'B', 'x'));
    expect(error).toMatchObject({ code: 'LOCKED' });
    await s.handle.flush();
    expect(s.records).toMatchObject([
      {
        kind: 'locked-path',
        severity: 'high',
        path: ['title'],
        otherPath: ['title'],
        resolution: 'rejected',
        authors: ['bob', 'alice'],
      },
    ]);
    expect(b.data).toEqual({ title: 'A', body: 'b' });
  });

  test('records are queryable by document, by author, by status', async () => {
    const s = setup();
    const { a, b } = await twoClients(s, { title: 'Draft' });
    await concurrently(a, replace(['title'], 'A'), b, replace(['title'], 'B'));
    await s.handle.flush();
    const byDoc = await s.handle.list({ collection: 'notes', docId: 'n1' });
    expect(byDoc.map((r) => r.id)).toEqual(s.records.map((r) => r.id));
    expect(await s.handle.list({ author: 'alice' })).toHaveLength(1);
    expect(await s.handle.list({ author: 'carol' })).toEqual([]);
    expect(await s.handle.list({ collection: 'notes', docId: 'n1', status: 'open' })).toEqual([]);
  });
});

/** The pure core on plain data: no backend, no I/O. */
import { blockingLock, type Collision, classify, compilePolicies, plan, settle } from '@tandem/conflicts';
import { apply, compose, replace, spliceTextAtCodePoint } from '@tandem/ot';
import { describe, expect, test } from 'vitest';

const doc = { title: 'Draft', body: 'the cat' };

describe('classify', () => {
  test('transforms over concurrent ops in order and names each collision with versions and authors', () => {
    const mine = replace(['title'], 'B', 'Draft');
    const { op, collisions } = classify(mine, [
      { op: spliceTextAtCodePoint(['body'], 0, 0, '>'), version: 4, author: 'x' },
      { op: replace(['title'], 'A', 'Draft'), version: 5, author: 'alice' },
    ]);
    expect(op).toEqual(['title', { r: true, i: 'B' }]);
    expect(collisions).toMatchObject([
      { kind: 'same-field-write', severity: 'high', path: ['title'], otherVersion: 5, otherAuthor: 'alice' },
    ]);
  });

  test('disjoint edits: no collision', () => {
    const { collisions } = classify(spliceTextAtCodePoint(['body'], 0, 0, 'a'), [
      { op: spliceTextAtCodePoint(['body'], 5, 0, 'b'), version: 1, author: 'x' },
    ]);
    expect(collisions).toEqual([]);
  });
});

describe('plan and settle', () => {
  const theirs = spliceTextAtCodePoint(['body'], 4, 3, 'dog');
  const mine = spliceTextAtCodePoint(['body'], 4, 3, 'cow');
  const { op: transformed, collisions } = classify(mine, [{ op: theirs, version: 1, author: 'alice' }]);
  const snapshot = apply(doc, theirs);

  test.each([
    ['last-writer-wins', 'the cow'],
    ['manual', 'the dog'],
  ] as const)('%s: the fixup makes the field %j', (policy, expected) => {
    const decided = plan(compilePolicies({ notes: { '/body': policy } }), 'notes', collisions as Collision[]);
    expect(decided).toMatchObject({ rejected: undefined, needsBase: true });
    const settled = settle({
      snapshot,
      transformed,
      original: mine,
      base: doc,
      decisions: decided.decisions,
    });
    expect(apply(snapshot, compose(transformed, settled.fixup))).toEqual({ title: 'Draft', body: expected });
    expect(settled.fields.get('/body')).toMatchObject({
      committed: 'the dog',
      incoming: 'the cow',
      applied: true,
    });
  });

  test('reject: the first collision under a reject rule refuses the op', () => {
    const decided = plan(compilePolicies({ '*': { '/**': 'reject' } }), 'notes', collisions);
    expect(decided.rejected?.match).toEqual({ policy: 'reject', rule: '/**', field: [] });
  });
});

test('blockingLock: others are blocked on the subtree and its ancestors, the owner and expired locks are not', () => {
  const locks = [{ id: 'l', collection: 'c', docId: 'd', path: ['form'], owner: 'alice', expiresAt: 100 }];
  expect(blockingLock(locks, [['form', 'name']], 'bob', 50)?.id).toBe('l');
  expect(blockingLock(locks, [[]], 'bob', 50)?.id).toBe('l');
  expect(blockingLock(locks, [['other']], 'bob', 50)).toBeUndefined();
  expect(blockingLock(locks, [['form']], 'alice', 50)).toBeUndefined();
  expect(blockingLock(locks, [['form']], 'bob', 100)).toBeUndefined();
});

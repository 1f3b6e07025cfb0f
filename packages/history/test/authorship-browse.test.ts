import { insertTextAtCodePoint, replace } from '@tandem/ot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INITIAL } from './gen';
import { type Env, openEnv, stores, User } from './harness';

const ref = { collection: 'docs', id: 'd1' };

for (const store of stores) {
  describe(`authorship and browse (${store.name})`, () => {
    let env: Env;
    beforeEach(async () => {
      env = await openEnv(store);
    });
    afterEach(() => env.close());

    it('stamps author, session, time and client intent on every op', async () => {
      const ann = new User(env.backend, 'ann', 'ann-tab-1');
      const bob = new User(env.backend, 'bob');
      const before = Date.now();
      await ann.create('docs', 'd1', INITIAL);
      await ann.edit('docs', 'd1', () => insertTextAtCodePoint(['a'], 0, 'Hi '), {
        message: 'greeting',
        intent: 'typing',
        author: { id: 'forged' },
      });
      await bob.edit('docs', 'd1', () => replace(['b'], 'there', 'world'), { message: 'x'.repeat(1000) });
      const { entries, next } = await env.history.page(ref);
      expect(next).toBeNull();
      expect(entries.map((e) => e.version)).toEqual([3, 2, 1]);
      expect(entries.map((e) => e.author?.id)).toEqual(['bob', 'ann', 'ann']);
      expect(entries[1]).toMatchObject({ session: 'ann-tab-1', message: 'greeting', intent: 'typing' });
      expect(entries[1].author).toEqual({ id: 'ann', name: 'ANN' });
      expect(entries[0].message).toHaveLength(500);
      expect(entries[0].ts).toBeGreaterThanOrEqual(before);
      expect(entries[2].summary.kind).toBe('create');
      expect(entries[1].summary).toMatchObject({
        paths: [['a']],
        textInserted: 3,
        textRemoved: 0,
        insertedSample: 'Hi ',
      });
      expect(entries[0].summary).toMatchObject({ paths: [['b']], kind: 'edit' });
    });

    it("server metadata (undoes, revertTo, history's intents) comes from history's own ops only", async () => {
      const ann = new User(env.backend, 'ann');
      const bob = new User(env.backend, 'bob');
      await ann.create('docs', 'd1', INITIAL);
      await ann.edit('docs', 'd1', () => insertTextAtCodePoint(['a'], 0, 'A'));
      // Bob claims his edit undoes Ann's and reverts to version 0, in history's own words.
      await bob.edit('docs', 'd1', () => insertTextAtCodePoint(['b'], 0, 'B'), {
        intent: ' Revert ',
        undoes: 2,
        revertTo: 0,
        message: 'approved by alice (owner)\u202e\u0007 \ud800',
      });
      await bob.edit('docs', 'd1', () => insertTextAtCodePoint(['b'], 0, 'b'), {
        intent: 'merge',
        message: '',
      });
      await bob.edit('docs', 'd1', () => insertTextAtCodePoint(['b'], 0, 'c'), {
        intent: 'review',
        message: '😀'.repeat(600),
      });
      const stored = await env.history.page(ref, { limit: 10 });
      const [review, merge, forged] = stored.entries;
      // Kept: the author's own words, as plain text, under the author the server stamped.
      expect(forged).toMatchObject({
        author: { id: 'bob' },
        intent: null,
        message: 'approved by alice (owner) \ufffd',
      });
      expect(merge).toMatchObject({ intent: null, message: null });
      expect(review).toMatchObject({ intent: 'review', message: '😀'.repeat(500) });
      const raw = await new Promise<{ m: Record<string, unknown> }[]>((resolve, reject) =>
        (env.backend.db as unknown as { getOps: (...a: unknown[]) => void }).getOps(
          'docs',
          'd1',
          2,
          3,
          { metadata: true },
          (e: unknown, ops: { m: Record<string, unknown> }[]) => (e ? reject(e) : resolve(ops)),
        ),
      );
      expect(raw[0].m).not.toHaveProperty('undoes');
      expect(raw[0].m).not.toHaveProperty('revertTo');

      // Bob's forged `undoes: 2` does not hide Ann's op from undo: her undo takes back version 2.
      const undone = await env.history.undoLast(ref, { id: 'ann', name: 'Ann' });
      expect(undone).not.toBeNull();
      expect((await env.history.current(ref)).data).toMatchObject({ a: INITIAL.a, b: `cbB${INITIAL.b}` });
      const [undo] = (await env.history.page(ref, { limit: 1 })).entries;
      expect(undo).toMatchObject({ author: { id: 'ann' }, intent: 'undo', message: 'undo version 2' });
      // And the undo is recorded as such: undoing again finds nothing left of Ann's.
      expect(await env.history.undoLast(ref, { id: 'ann' })).toBeNull();
    });

    it("history's writes act as the actor's whole principal", async () => {
      const ann = new User(env.backend, 'ann');
      await ann.create('docs', 'd1', INITIAL);
      await ann.edit('docs', 'd1', () => insertTextAtCodePoint(['a'], 0, 'A'));
      const seen: unknown[] = [];
      env.backend.use(
        'submit',
        (context: { agent: { custom: { principal?: unknown } } }, next: () => void) => {
          seen.push(context.agent.custom.principal);
          next();
        },
      );
      const principal = { id: 'ann', name: 'Ann', roles: ['admin'], grants: { 'docs/d1': 'owner' } };
      await env.history.revert(ref, { id: 'ann', name: 'Ann', principal }, 1);
      await env.history.undoOp(ref, { id: 'ann', principal }, 3);
      await env.history.fork(ref, { id: 'ann', principal }, { target: { collection: 'docs', id: 'f1' } });
      expect(seen.filter((p) => p !== undefined)).toEqual([principal, principal, principal]);
      // Without one, the actor is `{ id, name }` as before.
      await env.history.revert(ref, { id: 'bob', name: 'Bob' }, 1);
      expect(seen.at(-1)).toEqual({ id: 'bob', name: 'Bob' });
      await expect(env.history.revert(ref, { id: 'bob', principal }, 1)).rejects.toMatchObject({
        code: 'INTERNAL',
      });
    });

    it('pages with a cursor and filters by author and time', async () => {
      const ann = new User(env.backend, 'ann');
      const bob = new User(env.backend, 'bob');
      await ann.create('docs', 'd1', INITIAL);
      for (let i = 0; i < 12; i++) {
        await (i % 3 === 0 ? bob : ann).edit('docs', 'd1', () =>
          insertTextAtCodePoint(['a'], 0, String(i % 10)),
        );
      }
      const first = await env.history.page(ref, { limit: 5 });
      expect(first.entries.map((e) => e.version)).toEqual([13, 12, 11, 10, 9]);
      const second = await env.history.page(ref, { limit: 5, before: first.next as number });
      expect(second.entries.map((e) => e.version)).toEqual([8, 7, 6, 5, 4]);
      const third = await env.history.page(ref, { limit: 5, before: second.next as number });
      expect(third.entries.map((e) => e.version)).toEqual([3, 2, 1]);
      expect(third.next).toBeNull();

      const bobs = await env.history.page(ref, { author: 'bob' });
      expect(bobs.entries.map((e) => e.version)).toEqual([11, 8, 5, 2]);

      const all = (await env.history.page(ref, { limit: 100 })).entries;
      const mid = all[6].ts;
      const since = await env.history.page(ref, { since: mid, limit: 100 });
      expect(since.entries.every((e) => e.ts >= mid)).toBe(true);
      expect(since.entries.length).toBe(all.filter((e) => e.ts >= mid).length);
      const until = await env.history.page(ref, { until: mid, limit: 100 });
      expect(until.entries.length).toBe(all.filter((e) => e.ts <= mid).length);
    });
  });
}

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

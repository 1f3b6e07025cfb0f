import { codePointLength, insertTextAtCodePoint } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editScript } from './gen';
import { openEnv, runScript, stores, User } from './harness';

const ref = { collection: 'docs', id: 'd1' };

for (const store of stores) {
  describe(`blame (${store.name})`, () => {
    it('covers every character exactly once, at every version', async () => {
      await fc.assert(
        fc.asyncProperty(editScript(25), fc.constantFrom('a', 'b', 'c'), async (script, field) => {
          const env = await openEnv(store);
          try {
            const expected = await runScript(env, ref.collection, ref.id, script);
            for (let v = 1; v < expected.length; v++) {
              const result = await env.history.blame(ref, [field], v);
              const text = (expected[v] as Record<string, string>)[field];
              expect(result.text).toBe(text);
              let at = 0;
              for (const range of result.ranges) {
                expect(range.start).toBe(at);
                expect(range.end).toBeGreaterThan(range.start);
                expect(range.version).toBeLessThanOrEqual(v);
                at = range.end;
              }
              expect(at).toBe(codePointLength(text));
            }
          } finally {
            await env.close();
          }
        }),
        { numRuns: store.name === 'memory' ? 15 : 4 },
      );
    });

    it('names who wrote each range', async () => {
      const env = await openEnv(store);
      try {
        const ann = new User(env.backend, 'ann');
        const bob = new User(env.backend, 'bob');
        await ann.create('docs', 'd1', { a: 'hello world' });
        await bob.edit('docs', 'd1', () => insertTextAtCodePoint(['a'], 5, ' big'));
        await ann.edit('docs', 'd1', () => insertTextAtCodePoint(['a'], 15, '!'));
        const { text, ranges } = await env.history.blame(ref, ['a']);
        expect(text).toBe('hello big world!');
        expect(ranges.map((r) => [text.slice(r.start, r.end), r.author?.id, r.version])).toEqual([
          ['hello', 'ann', 1],
          [' big', 'bob', 2],
          [' world', 'ann', 1],
          ['!', 'ann', 3],
        ]);
        await expect(env.history.blame(ref, ['nope'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
      } finally {
        await env.close();
      }
    });
  });
}

import { apply, compose, type Doc, type JSONOp, replace, transform } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EditSpec, editScript, type Field, opFor } from './gen';
import { openEnv, runScript, stores, User } from './harness';

const source = { collection: 'docs', id: 'd1' };
const mia = { id: 'mia', name: 'Mia' };

/** Run `script` on a document through `user`, returning the ops as applied and the final data. */
async function edit(user: User, ref: typeof source, start: Doc, script: EditSpec[]) {
  let data = start;
  let composed: JSONOp = null;
  for (const spec of script) {
    const op = opFor(spec, data as Record<Field, string>);
    data = apply(data, op) as Doc;
    composed = compose(composed, op);
    await user.edit(ref.collection, ref.id, () => op);
  }
  return { data, composed };
}

const sortedChars = (s: string) => [...s].sort().join('');

for (const store of stores) {
  const runs = store.name === 'memory' ? 20 : 5;
  describe(`fork and merge (${store.name})`, () => {
    it('merges concurrent edits from both sides, keeps both, and converges', async () => {
      const insertOnly = editScript(10).map((s) => s.map((e) => ({ ...e, kind: 'insert' as const })));
      await fc.assert(
        fc.asyncProperty(
          editScript(8),
          insertOnly,
          insertOnly,
          insertOnly,
          insertOnly,
          async (base, mine, theirs, mine2, theirs2) => {
            const env = await openEnv(store);
            try {
              const expected = await runScript(env, source.collection, source.id, base);
              const baseData = expected[expected.length - 1];
              const forked = await env.history.fork(source, mia, {});
              expect(forked).toMatchObject({ source, version: expected.length - 1, merges: [] });
              expect((await env.history.lineage(forked.fork))?.source).toEqual(source);
              const ann = new User(env.backend, 'ann');
              const bob = new User(env.backend, 'bob');
              const f = await edit(ann, forked.fork, baseData, mine);
              const s = await edit(bob, source, baseData, theirs);
              const result = await env.history.merge(forked.fork, mia);
              const merged = (await env.history.current(source)).data as Record<Field, string>;
              // Convergence: the other order (fork's edits first, then the source's) gives the same.
              const otherOrder = apply(f.data, transform(s.composed, f.composed, 'right'));
              expect(merged).toEqual(otherOrder);
              // Both sides' inserts are all there.
              const base0 = baseData as Record<Field, string>;
              const fork0 = f.data as Record<Field, string>;
              const src0 = s.data as Record<Field, string>;
              for (const field of ['a', 'b', 'c'] as Field[]) {
                const inserted = sortedChars(fork0[field] + src0[field]);
                expect(sortedChars(merged[field] + base0[field])).toEqual(inserted);
              }
              expect(result.version === null).toBe(mine.length === 0);
              expect((await env.history.lineage(forked.fork))?.merges.map((m) => m.author.id)).toEqual([
                'mia',
              ]);

              // Both sides go on editing; a second merge brings only the fork's new edits, and keeps
              // everything either side inserted since the first merge.
              const f2 = await edit(ann, forked.fork, f.data, mine2);
              const s2 = await edit(bob, source, merged, theirs2);
              await env.history.merge(forked.fork, mia);
              const merged2 = (await env.history.current(source)).data as Record<Field, string>;
              for (const field of ['a', 'b', 'c'] as Field[]) {
                const forkNew = (f2.data as Record<Field, string>)[field];
                const sourceNew = (s2.data as Record<Field, string>)[field];
                // merged2 = merged + the fork's new inserts (forkNew - fork0) + the source's (sourceNew - merged)
                expect(sortedChars(merged2[field] + fork0[field])).toEqual(sortedChars(forkNew + sourceNew));
              }
              expect((await env.history.lineage(forked.fork))?.merges).toHaveLength(2);
            } finally {
              await env.close();
            }
          },
        ),
        { numRuns: runs },
      );
    });

    it('reports collisions when both sides changed the same field', async () => {
      const env = await openEnv(store);
      try {
        await runScript(env, source.collection, source.id, []);
        const forked = await env.history.fork(source, mia, { target: { collection: 'drafts', id: 'copy' } });
        expect(forked.fork).toEqual({ collection: 'drafts', id: 'copy' });
        const ann = new User(env.backend, 'ann');
        const bob = new User(env.backend, 'bob');
        await ann.edit('drafts', 'copy', () => replace(['b'], 'fork side', 'world'));
        await bob.edit('docs', 'd1', () => replace(['b'], 'source side', 'world'));
        const result = await env.history.merge(forked.fork, mia);
        expect(result.collisions.length).toBeGreaterThan(0);
        expect(result.collisions[0]).toMatchObject({
          kind: 'same-field-write',
          severity: 'high',
          path: ['b'],
          otherPath: ['b'],
          otherAuthor: 'bob',
          otherVersion: 1,
          forkAuthors: [{ id: 'ann' }],
        });
        const [entry] = (await env.history.page(source, { limit: 1 })).entries;
        expect(entry).toMatchObject({ author: { id: 'mia' }, intent: 'merge' });
      } finally {
        await env.close();
      }
    });
  });
}

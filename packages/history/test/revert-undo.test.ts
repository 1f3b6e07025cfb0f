import { apply, type Doc, insertTextAtCodePoint } from '@tandem/ot';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editScript, type Field, INITIAL, opFor } from './gen';
import { openEnv, runScript, stores, User } from './harness';

const ref = { collection: 'docs', id: 'd1' };
const rex = { id: 'rex', name: 'Rex' };

for (const store of stores) {
  const runs = store.name === 'memory' ? 25 : 6;
  describe(`revert and undo (${store.name})`, () => {
    it('revert yields exactly the old snapshot, as one new op by the reverter', async () => {
      await fc.assert(
        fc.asyncProperty(editScript(20), fc.nat(), async (script, pick) => {
          const env = await openEnv(store);
          try {
            const expected = await runScript(env, ref.collection, ref.id, script);
            const target = 1 + (pick % (expected.length - 1));
            const head = expected.length - 1;
            const result = await env.history.revert(ref, rex, target);
            const now = await env.history.current(ref);
            expect(now.data).toEqual(expected[target]);
            if (JSON.stringify(expected[target]) === JSON.stringify(expected[head]))
              expect(result).toBeNull();
            else {
              expect(result?.version).toBe(head);
              expect(now.v).toBe(head + 1);
              const [entry] = (await env.history.page(ref, { limit: 1 })).entries;
              expect(entry).toMatchObject({ author: { id: 'rex' }, intent: 'revert' });
              // History is not rewritten.
              expect((await env.history.snapshotAt(ref, head)).data).toEqual(expected[head]);
            }
          } finally {
            await env.close();
          }
        }),
        { numRuns: runs },
      );
    });

    it('a revert racing a concurrent edit keeps the concurrent edit', async () => {
      const env = await openEnv(store);
      try {
        await runScript(env, ref.collection, ref.id, [
          { user: 0, field: 'a', kind: 'insert', at: 5, count: 1, text: ' there' },
        ]);
        // Someone edits b after the revert read the document but before it committed: ShareDB
        // transforms the revert over it.
        const bob = new User(env.backend, 'bob');
        let fired = false;
        env.backend.use(
          'submit',
          (context: { agent: { custom: { principal?: { id: string } } } }, next: () => void) => {
            if (fired || context.agent.custom.principal?.id !== 'rex') return next();
            fired = true;
            bob.edit('docs', 'd1', () => insertTextAtCodePoint(['b'], 0, 'big ')).then(() => next(), next);
          },
        );
        await env.history.revert(ref, rex, 1);
        expect((await env.history.current(ref)).data).toEqual({ a: 'hello', b: 'big world', c: '' });
      } finally {
        await env.close();
      }
    });

    it('a revert racing random concurrent edits keeps them (property)', async () => {
      await fc.assert(
        fc.asyncProperty(editScript(12), editScript(4), fc.nat(), async (script, concurrent, pick) => {
          // History on a and b; the concurrent edits land on c between the revert's read and commit.
          const own = script.map((s) => ({ ...s, field: s.field === 'c' ? ('a' as Field) : s.field }));
          const others = concurrent.map((s) => ({ ...s, field: 'c' as Field }));
          const env = await openEnv(store);
          try {
            const expected = await runScript(env, ref.collection, ref.id, own);
            const target = 1 + (pick % (expected.length - 1));
            let c = (expected[expected.length - 1] as Record<Field, string>).c;
            const bob = new User(env.backend, 'bob');
            let fired = false;
            env.backend.use(
              'submit',
              (context: { agent: { custom: { principal?: { id: string } } } }, next: () => void) => {
                if (fired || context.agent.custom.principal?.id !== 'rex') return next();
                fired = true;
                (async () => {
                  for (const spec of others) {
                    const op = opFor(spec, { a: '', b: '', c });
                    c = (apply({ c }, op) as { c: string }).c;
                    await bob.edit('docs', 'd1', () => op);
                  }
                })().then(() => next(), next);
              },
            );
            await env.history.revert(ref, rex, target);
            const old = expected[target] as Record<Field, string>;
            const now = (await env.history.current(ref)).data as Record<Field, string>;
            expect({ a: now.a, b: now.b }).toEqual({ a: old.a, b: old.b });
            expect(now.c).toBe(c);
          } finally {
            await env.close();
          }
        }),
        { numRuns: runs },
      );
    });

    it('selective undo of an op that commutes with later ones equals the document without it', async () => {
      await fc.assert(
        fc.asyncProperty(editScript(15), fc.nat(), async (script, pick) => {
          // The undone op is the only one on field c, so every later op commutes with it.
          const others = script.map((s) => ({ ...s, field: s.field === 'c' ? ('a' as Field) : s.field }));
          const at = pick % (others.length + 1);
          const lone = {
            user: 1,
            field: 'c' as Field,
            kind: 'insert' as const,
            at: 0,
            count: 1,
            text: 'LONE',
          };
          const full = [...others.slice(0, at), lone, ...others.slice(at)];
          const env = await openEnv(store);
          try {
            await runScript(env, ref.collection, ref.id, full);
            // Without it: replay the other ops alone.
            let without: Doc = INITIAL;
            for (const spec of others)
              without = apply(without, opFor(spec, without as Record<Field, string>)) as Doc;
            const undone = await env.history.undoOp(ref, rex, at + 2);
            expect(undone).not.toBeNull();
            expect((await env.history.current(ref)).data).toEqual(without);
            const [entry] = (await env.history.page(ref, { limit: 1 })).entries;
            expect(entry).toMatchObject({ intent: 'undo', author: { id: 'rex' } });
          } finally {
            await env.close();
          }
        }),
        { numRuns: runs },
      );
    });

    it("undoes one author's last op, skipping ops already undone", async () => {
      const env = await openEnv(store);
      try {
        await runScript(env, ref.collection, ref.id, [
          { user: 1, field: 'a', kind: 'insert', at: 0, count: 1, text: 'A' },
          { user: 2, field: 'b', kind: 'insert', at: 0, count: 1, text: 'B' },
          { user: 1, field: 'c', kind: 'insert', at: 0, count: 1, text: 'C' },
          { user: 2, field: 'b', kind: 'insert', at: 0, count: 1, text: 'D' },
        ]);
        const user1 = { id: 'user1' };
        await env.history.undoLast(ref, user1);
        expect((await env.history.current(ref)).data).toEqual({ a: 'Ahello', b: 'DBworld', c: '' });
        await env.history.undoLast(ref, user1);
        expect((await env.history.current(ref)).data).toEqual({ a: 'hello', b: 'DBworld', c: '' });
        expect(await env.history.undoLast(ref, user1)).toBeNull();
        await env.history.undoLast(ref, rex, 'user2');
        expect((await env.history.current(ref)).data).toEqual({ a: 'hello', b: 'Bworld', c: '' });
      } finally {
        await env.close();
      }
    });
  });
}

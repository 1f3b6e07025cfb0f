import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editScript } from './gen';
import { openEnv, runScript, stores } from './harness';

const ref = { collection: 'docs', id: 'd1' };

for (const store of stores) {
  describe(`time travel (${store.name})`, () => {
    it('snapshot at every version equals the replayed history', async () => {
      await fc.assert(
        fc.asyncProperty(editScript(30), fc.integer({ min: 1, max: 7 }), async (script, interval) => {
          const env = await openEnv(store, { milestoneInterval: interval });
          try {
            const expected = await runScript(env, ref.collection, ref.id, script);
            for (let v = 0; v < expected.length; v++) {
              const snapshot = await env.history.snapshotAt(ref, v);
              expect(snapshot.v).toBe(v);
              expect(snapshot.data ?? null).toEqual(expected[v]);
            }
          } finally {
            await env.close();
          }
        }),
        { numRuns: store.name === 'memory' ? 25 : 8 },
      );
    });

    it('snapshot at a time is the document after every op committed by then', async () => {
      const env = await openEnv(store, { milestoneInterval: 3 });
      try {
        const expected = await runScript(
          env,
          ref.collection,
          ref.id,
          Array.from({ length: 10 }, (_, i) => ({
            user: 0,
            field: 'a' as const,
            kind: 'insert' as const,
            at: i,
            count: 1,
            text: 'x',
          })),
        );
        const { entries } = await env.history.page(ref, { limit: 100 });
        for (const entry of entries) {
          const snapshot = await env.history.snapshotAtTime(ref, entry.ts);
          // Several ops can share a millisecond: the snapshot is at the last of them.
          const last = Math.max(...entries.filter((e) => e.ts <= entry.ts).map((e) => e.version));
          expect(snapshot.v).toBe(last);
          expect(snapshot.data).toEqual(expected[last]);
        }
        expect((await env.history.snapshotAtTime(ref, 0)).v).toBe(0);
      } finally {
        await env.close();
      }
    });

    it('refuses versions beyond the current one', async () => {
      const env = await openEnv(store);
      try {
        await runScript(env, ref.collection, ref.id, []);
        await expect(env.history.snapshotAt(ref, 5)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      } finally {
        await env.close();
      }
    });
  });
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { editScript } from './gen';
import { openEnv, runScript, stores } from './harness';

const ref = { collection: 'docs', id: 'd1' };
const ann = { id: 'ann' };

for (const store of stores) {
  describe(`compaction (${store.name})`, () => {
    it('deletes old ops and keeps named versions, milestones and every later query correct', async () => {
      const script = fc.sample(editScript(40), { numRuns: 1, seed: 7 })[0];
      const env = await openEnv(store, { milestoneInterval: 4 });
      try {
        const expected = await runScript(env, ref.collection, ref.id, script);
        const head = expected.length - 1;
        const cut = Math.floor(head / 2) + 1;
        const early = await env.history.createVersion(ref, ann, { label: 'early', version: 2 });
        await env.history.createVersion(ref, ann, { label: 'late', version: head });
        const result = await env.history.compact(ref, cut);
        expect(result).toEqual({ before: cut, deleted: cut });
        // Compacting again below the cut-off does nothing.
        expect((await env.history.compact(ref, cut - 1)).deleted).toBe(0);

        for (let v = cut; v <= head; v++)
          expect((await env.history.snapshotAt(ref, v)).data).toEqual(expected[v]);
        expect((await env.history.versionSnapshot(ref, 'early')).data).toEqual(expected[2]);
        expect(early.checksum).toBe((await env.history.getVersion(ref, 'early')).checksum);
        const report = await env.history.verify(ref);
        expect(report).toMatchObject({ ok: true, from: cut });
        expect(report.versions.find((v) => v.label === 'early')?.source).toBe('milestone');

        const { entries, next } = await env.history.page(ref, { limit: 1000 });
        expect(next).toBeNull();
        expect(entries.map((e) => e.version)).toEqual(Array.from({ length: head - cut }, (_, i) => head - i));
        const blame = await env.history.blame(ref, ['a']);
        expect(blame.text).toBe((expected[head] as { a: string }).a);
        expect((await env.history.diff(ref, cut, head)).to).toBe(head);
        // Below the cut-off (and not a named version), the ops are gone.
        if (cut > 3)
          await expect(env.history.snapshotAt(ref, 3)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      } finally {
        await env.close();
      }
    });
  });
}

describe('compaction without the capability', () => {
  it('is refused with INVALID_CONFIG', async () => {
    const { createStorage } = await import('@tandem/storage');
    const ShareDB = (await import('sharedb')).default;
    const { installHistory } = await import('@tandem/history');
    const storage = await createStorage('memory:');
    const backend = new ShareDB({ db: storage.db as never });
    const history = installHistory(backend);
    await expect(history.compact(ref, 1)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await storage.close();
  });
});

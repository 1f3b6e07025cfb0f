import { checksum } from '@tandem/history';
import { insertTextAtCodePoint } from '@tandem/ot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INITIAL } from './gen';
import { type Env, openEnv, runScript, stores, User } from './harness';

const ref = { collection: 'docs', id: 'd1' };
const ann = { id: 'ann', name: 'Ann' };
const script = Array.from({ length: 8 }, (_, i) => ({
  user: i % 3,
  field: 'b' as const,
  kind: 'insert' as const,
  at: i,
  count: 1,
  text: `${i}`,
}));

for (const store of stores) {
  describe(`named versions and verify (${store.name})`, () => {
    let env: Env;
    beforeEach(async () => {
      env = await openEnv(store);
    });
    afterEach(() => env.close());

    it('creates, lists and gets named versions with the checksum of the canonical snapshot', async () => {
      const expected = await runScript(env, ref.collection, ref.id, script);
      const v1 = await env.history.createVersion(ref, ann, {
        label: 'draft',
        description: 'first',
        version: 4,
      });
      const v2 = await env.history.createVersion(ref, ann, { label: 'final' });
      expect(v1).toMatchObject({
        label: 'draft',
        description: 'first',
        version: 4,
        author: { id: 'ann', name: 'Ann' },
      });
      expect(v2.version).toBe(expected.length - 1);
      expect(v1.checksum).toBe(checksum({ type: 'http://sharejs.org/types/JSONv1', data: expected[4] }));
      expect(v1.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect((await env.history.listVersions(ref)).map((v) => v.label)).toEqual(['draft', 'final']);
      expect((await env.history.getVersion(ref, 'final')).checksum).toBe(v2.checksum);
      expect((await env.history.versionSnapshot(ref, 'draft')).data).toEqual(expected[4]);
      await expect(env.history.createVersion(ref, ann, { label: 'draft' })).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      await expect(env.history.getVersion(ref, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Records live in the reserved collection of the configured backend.
      const record = await new Promise<{ data: unknown }>((resolve, reject) =>
        env.storage.db.getSnapshot(
          '_tandem_versions',
          'docs/d1',
          null,
          null,
          (e: unknown, s: { data: unknown }) => (e ? reject(e) : resolve(s)),
        ),
      );
      expect(Object.keys((record.data as { versions: object }).versions)).toEqual(['draft', 'final']);
    });

    it.skipIf(store.tamper === undefined)(
      'verify passes on an intact history and fails after a stored op is altered in the database',
      async () => {
        await runScript(env, ref.collection, ref.id, script);
        await env.history.createVersion(ref, ann, { label: 'mid', version: 5 });
        await env.history.createVersion(ref, ann, { label: 'end' });
        const intact = await env.history.verify(ref);
        expect(intact).toMatchObject({ ok: true, error: null, current: { ok: true } });
        expect(intact.versions.every((v) => v.ok)).toBe(true);

        // Op 2 (producing version 3) inserted "1" at 1 in b; make it insert "Z" instead.
        await store.tamper?.(env.storage, ref.collection, ref.id, 2, insertTextAtCodePoint(['b'], 1, 'Z'));
        const tampered = await env.history.verify(ref);
        expect(tampered.ok).toBe(false);
        expect(tampered.versions.map((v) => v.ok)).toEqual([false, false]);
        expect(tampered.current.ok).toBe(false);
      },
    );

    it.skipIf(store.tamper === undefined)('verify reports an op that no longer applies', async () => {
      await runScript(env, ref.collection, ref.id, script);
      await store.tamper?.(env.storage, ref.collection, ref.id, 3, insertTextAtCodePoint(['b'], 999, 'Z'));
      const report = await env.history.verify(ref);
      expect(report.ok).toBe(false);
      expect(report.error?.version).toBe(3);
    });

    it('a label race has exactly one winner', async () => {
      await new User(env.backend, 'ann').create('docs', 'd1', INITIAL);
      const results = await Promise.allSettled([
        env.history.createVersion(ref, ann, { label: 'same' }),
        env.history.createVersion(ref, { id: 'bob' }, { label: 'same' }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect((await env.history.listVersions(ref)).length).toBe(1);
    });
  });
}

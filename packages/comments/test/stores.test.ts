/**
 * The same comments on every store the server has (memory, SQLite, PostgreSQL): nothing here is
 * store-specific, and this proves it — threads, replies, reactions, a mention's notification, a
 * thread gone with its last comment, and anchors after many ops with background moves and their
 * write-back (every 10 versions here, written back every 50).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notifications as notificationsOf, comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import { attach } from '@tandem/server';
import { testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { client, until } from '../../server/test/helpers';

const schemas = testSchemas();
afterAll(() => schemas.dropAll());
const postgresSkip = await testPostgresUnavailable();
if (postgresSkip) console.log(`@tandem/comments: ${postgresSkip}`);
const file = join(tmpdir(), `tandem-comments-stores-${process.pid}-${Date.now()}.db`);
afterAll(() => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
});

const stores: [string, () => string][] = [
  ['memory', () => 'memory:'],
  ['sqlite', () => `sqlite:${file}`],
  ...(postgresSkip ? [] : ([['postgres', () => schemas.next()]] as [string, () => string][])),
];

describe.each(stores)('comments on %s', (_name, url) => {
  it('threads, replies, reactions, mentions, deletes, and anchors after 60 ops', async () => {
    const server = await attach(
      { port: 0 },
      {
        storage: url(),
        hooks: { authenticate: ({ token }) => ({ id: String(token) }) },
        extensions: [comments({ rebaseEvery: 10 })],
      },
    );
    const ann = client(server.url(), { token: 'ann' });
    const ben = client(server.url(), { token: 'ben' });
    try {
      const doc = ann.doc<{ body: string }>('notes', 'stores');
      await doc.create({ body: 'abcdefghij' });
      const view = threadsOf(doc);
      await view.list();
      const inbox = notificationsOf(ben);
      await inbox.list();
      const t = await view.add({
        anchor: { path: ['body'], start: 3, end: 6 },
        body: { text: '@ben def?', mentions: [{ start: 0, end: 4, userId: 'ben' }] },
      });
      expect(t.quote).toBe('def');
      await until(() => inbox.unread === 1, 5_000, 'the mention');
      const benView = threadsOf(ben.doc<{ body: string }>('notes', 'stores'));
      await benView.list();
      const replied = await benView.reply(t.id, 'yes');
      await benView.react(t.id, t.comments[0].id, 'like');
      for (let i = 0; i < 60; i++) await doc.submit(['body', { es: ['x'] }]);
      await until(() => benView.threads[0]?.anchor.start === 63, 5_000, 'the anchor at Ben');
      const cy = client(server.url(), { token: 'cy' });
      const fresh = threadsOf(cy.doc('notes', 'stores'));
      expect(await fresh.list()).toMatchObject([
        {
          id: t.id,
          anchor: { path: ['body'], start: 63, end: 66 },
          comments: [{ reactions: { like: ['ben'] } }, { body: { text: 'yes' } }],
        },
      ]);
      const metrics = server.tandem.metrics().extensions?.comments as { backgroundRebases: number };
      expect(metrics.backgroundRebases).toBeGreaterThan(0);
      await benView.delete(t.id, replied.comments[1].id);
      expect(await view.delete(t.id, t.comments[0].id)).toBeUndefined();
      expect(await threadsOf(client(server.url(), { token: 'dee' }).doc('notes', 'stores')).list()).toEqual(
        [],
      );
    } finally {
      await ann.close();
      await ben.close();
      await server.close();
    }
  });
});

/**
 * Comments across two real server processes sharing one SQLite file and Redis: a mention made on
 * process A notifies the user on process B, live and in the list; reading it on one socket marks it
 * read on the others; thread changes reach watchers on the other process; a commenter comments but
 * cannot edit; a document a user cannot read — never, or no longer — sends them no thread and no
 * notification (each "nothing" proven by a later event that did arrive).
 */
import type { NotificationData, TandemClient, Thread } from '@tandem/client';
import { ErrorCode } from '@tandem/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from '../../server/test/helpers';
import { type ServerProcess, serverProcesses } from '../../server/test/server-processes';

const servers = serverProcesses('comments');
const fixture = new URL('./fixtures/comments-process.ts', import.meta.url);
let a: ServerProcess;
let b: ServerProcess;
const clients: TandemClient[] = [];
const on = (server: ServerProcess, user: string): TandemClient => {
  const c = client(server.url, { token: user });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  const args = [servers.storage(), servers.prefix];
  [a, b] = await Promise.all([servers.start(fixture, args), servers.start(fixture, args)]);
}, 90_000);
afterAll(() => Promise.all(clients.map((c) => c.close())));

async function created(owner: TandemClient, id: string) {
  const doc = owner.doc<{ body: string }>('notes', id);
  await doc.create({ body: 'we should ship on friday' });
  const view = doc.comments();
  await view.list();
  return { doc, view };
}

const mention = (text: string, userId: string) => ({
  text,
  mentions: [{ start: 0, end: text.indexOf(' '), userId }],
});

describe('comments on two server processes + Redis', () => {
  it('a mention made on A notifies the user on B live and in the list; read on one socket, read on all', async () => {
    const olga = on(a, 'olga');
    const erinOnB = on(b, 'erin');
    const erinOnA = on(a, 'erin');
    const { view } = await created(olga, 'mention');
    const inbox = erinOnB.notifications();
    const other = erinOnA.notifications();
    await Promise.all([inbox.list(), other.list()]);
    const live: NotificationData[] = [];
    inbox.on('notification', (n) => live.push(n));
    const thread = await view.add({
      anchor: { path: ['body'], start: 15, end: 19 },
      body: mention('@erin is friday ok?', 'erin'),
    });
    await until(() => live.length === 1, 10_000, 'the notification on process B');
    expect(live[0]).toMatchObject({
      kind: 'mention',
      collection: 'notes',
      docId: 'mention',
      threadId: thread.id,
      by: { id: 'olga', name: 'OLGA' },
      read: false,
    });
    const listed = await erinOnB.notifications().list();
    expect(listed.unread).toBe(1);
    await until(() => other.unread === 1, 10_000, 'the notification on the other socket (A)');
    await inbox.markRead([live[0].id]);
    await until(() => other.unread === 0, 10_000, 'read on A after marking on B');
    expect(other.snapshot.items[0].read).toBe(true);
  });

  it('threads made and replied to on A reach a watcher on B; a commenter replies but cannot edit', async () => {
    const olga = on(a, 'olga');
    const cora = on(b, 'cora');
    const { view } = await created(olga, 'watch');
    const coraDoc = cora.doc<{ body: string }>('notes', 'watch');
    const coraView = coraDoc.comments();
    await coraView.list();
    const seen: (readonly Thread[])[] = [];
    coraView.on('change', (threads) => seen.push(threads));
    const thread = await view.add({ anchor: { path: ['body'], start: 0, end: 2 }, body: 'who?' });
    await until(() => coraView.threads.length === 1, 10_000, 'the new thread on B');
    expect(coraView.threads[0]).toMatchObject({
      id: thread.id,
      quote: 'we',
      anchor: { path: ['body'], start: 0, end: 2 },
    });
    await coraView.reply(thread.id, 'all of us');
    await until(() => view.threads[0]?.comments.length === 2, 10_000, 'the reply on A');
    await expect(coraDoc.submit(['body', { es: ['x'] }])).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    expect(seen.length).toBeGreaterThan(0);
  });

  it('an unreadable document sends nothing: not its threads, not its notifications — before or after access is lost', async () => {
    const olga = on(a, 'olga');
    const vic = on(b, 'vic');
    const { view: secretView } = await created(olga, 'secret');
    const { view: openView } = await created(olga, 'open');
    // Vic (a viewer) follows both documents and his notifications.
    const secretAtVic = vic.doc('notes', 'secret').comments();
    const openAtVic = vic.doc('notes', 'open').comments();
    await Promise.all([secretAtVic.list(), openAtVic.list()]);
    const inbox = vic.notifications();
    await inbox.list();
    const got: NotificationData[] = [];
    inbox.on('notification', (n) => got.push(n));
    // Vic loses the secret document (on both processes: each has its own role table).
    await Promise.all([a.ask({ deny: 'vic:notes/secret' }), b.ask({ deny: 'vic:notes/secret' })]);
    await secretView.add({
      anchor: { path: ['body'], start: 3, end: 9 },
      body: mention('@vic secret', 'vic'),
    });
    // Then an event he may see, sent after: once it is here, the secret one would have been.
    await openView.add({ anchor: { path: ['body'], start: 3, end: 9 }, body: mention('@vic open', 'vic') });
    await until(
      () => got.length === 1 && openAtVic.threads.length === 1,
      10_000,
      'the open thread and mention',
    );
    expect(got[0].docId).toBe('open');
    expect(secretAtVic.threads).toEqual([]);
    expect((await inbox.list()).items.map((n) => n.docId)).toEqual(['open']);
    await expect(
      vic.call({ t: 'call', ext: 'comments', method: 'list', args: ['notes', 'secret'] }),
    ).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    // Mallory has no role anywhere: mentioned, never told; cannot list.
    const mallory = on(b, 'mallory');
    const malloryInbox = mallory.notifications();
    await malloryInbox.list();
    await openView.add({
      anchor: { path: ['body'], start: 10, end: 14 },
      body: mention('@mallory look', 'mallory'),
    });
    expect((await malloryInbox.list()).items).toEqual([]);
    await expect(mallory.doc('notes', 'open').comments().list()).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
  });
});

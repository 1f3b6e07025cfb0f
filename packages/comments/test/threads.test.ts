/**
 * Comments over real sockets, one server: threads anchored to text that moves, replies, edits,
 * deletes, resolve / reopen, reactions, notifications, the role model (a commenter cannot edit, a
 * viewer cannot comment), limits and hostile bodies with typed errors that lose nothing stored.
 */
import type { TandemClient } from '@tandem/client';
import { notifications as notificationsOf, comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import { insertText } from '@tandem/ot';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach, type DocumentRole, roleAuthorize } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from '../../server/test/helpers';

const ROLES: Record<string, DocumentRole> = {
  olga: 'owner',
  erin: 'editor',
  eddie: 'editor',
  cora: 'commenter',
  vic: 'viewer',
};

let server: AttachedTandem;
/** Users whose upgrades are refused ("network down"): their clients stay offline. */
const unreachable = new Set<string>();
const clients: TandemClient[] = [];
const as = (user: string) => {
  const c = client(server.url(), { token: user });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: {
        authenticate: ({ token }) => {
          if (unreachable.has(String(token))) throw new TandemError(ErrorCode.UNAUTHORIZED, 'unreachable');
          return { id: String(token), name: String(token).toUpperCase() };
        },
        authorize: roleAuthorize({ roleOf: (principal) => ROLES[principal.id] }),
      },
      extensions: [comments({ maxThreadsPerDocument: 3, maxMentions: 3, maxBodyLength: 100 })],
    },
  );
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await server.close();
});

async function newDoc(owner: TandemClient, id: string, text: string) {
  const doc = owner.doc<{ body: string; title: string }>('notes', id);
  await doc.create({ body: text, title: 'T' });
  return doc;
}

describe('threads', () => {
  it('anchors follow concurrent edits on every client; replies, edits, resolve, reactions reach watchers', async () => {
    const olga = as('olga');
    const cora = as('cora');
    const doc = await newDoc(olga, 'follow', 'hello wonderful world');
    const mine = threadsOf(doc);
    await mine.list();
    const start = 'hello '.length;
    const thread = await mine.add({
      anchor: { path: ['body'], start, end: start + 'wonderful'.length },
      body: 'is it, @CORA?',
    });
    expect(thread.quote).toBe('wonderful');
    expect(thread.anchor).toEqual({ path: ['body'], start: 6, end: 15 });
    // Cora opens the same document: she sees the thread where it is.
    const hers = cora.doc<{ body: string }>('notes', 'follow');
    const theirs = threadsOf(hers);
    const listed = await theirs.list();
    expect(listed.map((t) => t.anchor)).toEqual([{ path: ['body'], start: 6, end: 15 }]);
    // Olga types before the anchor (with an emoji: JS indexes at the API), Erin edits too.
    await doc.submit(insertText(['body'], 0, '😀 ', doc.data?.body ?? ''));
    await until(() => hers.data?.body.startsWith('😀 ') === true, 5_000, 'the edit at Cora');
    const moved = { path: ['body'], start: 9, end: 18 };
    await until(() => theirs.threads[0]?.anchor.start === 9, 5_000, 'the anchor moved at Cora');
    expect(theirs.threads[0].anchor).toEqual(moved);
    expect(mine.threads[0].anchor).toEqual(moved);
    expect(hers.data?.body.slice(9, 18)).toBe('wonderful');
    // Cora replies (she is a commenter); Olga sees it live and is notified.
    const olgaNotified = notificationsOf(olga);
    await olgaNotified.list();
    await theirs.reply(thread.id, 'yes it is');
    await until(() => mine.threads[0]?.comments.length === 2, 5_000, 'the reply at Olga');
    await until(() => olgaNotified.unread === 1, 5_000, 'the reply notification');
    expect(olgaNotified.snapshot.items[0]).toMatchObject({ kind: 'reply', by: { id: 'cora', name: 'CORA' } });
    // Reactions toggle; counts and who reacted.
    const first = thread.comments[0].id;
    await theirs.react(thread.id, first, 'love');
    await until(() => mine.threads[0]?.comments[0].reactions.love?.length === 1, 5_000, 'the reaction');
    expect(mine.threads[0].comments[0].reactions).toEqual({ love: ['cora'] });
    await until(() => olgaNotified.unread === 2, 5_000, 'the reaction notification');
    await theirs.react(thread.id, first, 'love');
    await until(() => mine.threads[0]?.comments[0].reactions.love === undefined, 5_000, 'the reaction off');
    // Resolve, reopen, edit own.
    await theirs.resolve(thread.id);
    await until(() => mine.threads[0]?.resolved !== null, 5_000, 'resolved');
    expect(mine.threads[0].resolved?.by.id).toBe('cora');
    await mine.reopen(thread.id);
    await until(() => theirs.threads[0]?.resolved === null, 5_000, 'reopened');
    await mine.edit(thread.id, first, 'edited');
    await until(() => theirs.threads[0]?.comments[0].body.text === 'edited', 5_000, 'the edit');
    expect(theirs.threads[0].comments[0].editedAt).toBeTypeOf('number');
    await olgaNotified.markRead('all');
    expect(olgaNotified.unread).toBe(0);
  });

  it('a thread whose text is deleted stays, detached, with its quote; an edit far away moves nothing', async () => {
    const erin = as('erin');
    const doc = await newDoc(erin, 'detach', 'keep this and drop that');
    const view = threadsOf(doc);
    await view.list();
    const body = () => doc.data?.body ?? '';
    const t1 = await view.add({ anchor: { path: ['body'], start: 19, end: 23 }, body: 'that?' });
    const t2 = await view.add({ anchor: { path: ['title'] }, body: 'the title' });
    await doc.submit(['title', { es: [1, '!'] }]);
    await doc.submit(['body', { es: [14, { d: 'drop that' }] }]);
    expect(body()).toBe('keep this and ');
    const threads = view.threads;
    expect(threads.find((t) => t.id === t1.id)).toMatchObject({ detached: true, quote: 'that' });
    expect(threads.find((t) => t.id === t2.id)).toMatchObject({
      detached: false,
      anchor: { path: ['title'] },
    });
    // A fresh listing (the server's own rebase) agrees.
    const other = threadsOf(as('olga').doc('notes', 'detach'));
    const listed = await other.list();
    expect(listed.find((t) => t.id === t1.id)).toMatchObject({ detached: true, quote: 'that' });
    // A closed view stops following; the next one for the document starts afresh.
    view.close();
    const again = threadsOf(doc);
    expect(again).not.toBe(view);
    expect((await again.list()).map((t) => t.id).sort()).toEqual([t1.id, t2.id].sort());
  });

  it('anchors follow undo and a history revert like any other op', async () => {
    const olga = as('olga');
    const doc = await newDoc(olga, 'revert', 'hello world');
    const view = threadsOf(doc);
    await view.list();
    await view.add({ anchor: { path: ['body'], start: 6, end: 11 }, body: 'which world?' });
    const before = doc.version as number;
    await doc.submit(['body', { es: [5, ' big'] }]);
    expect(view.threads[0].anchor).toEqual({ path: ['body'], start: 10, end: 15 });
    await doc.undo();
    await until(() => doc.pendingCount === 0, 5_000, 'the undo acknowledged');
    expect(view.threads[0].anchor).toEqual({ path: ['body'], start: 6, end: 11 });
    await doc.submit(['body', { es: [0, 'oh '] }]);
    await olga.history('notes', 'revert').revert(before);
    await until(() => doc.data?.body === 'hello world', 5_000, 'the revert at the client');
    expect(view.threads[0].anchor).toEqual({ path: ['body'], start: 6, end: 11 });
    const listed = await olga.call({ t: 'call', ext: 'comments', method: 'list', args: ['notes', 'revert'] });
    expect((listed as { threads: { anchor: unknown }[] }).threads[0].anchor).toEqual({
      path: ['body'],
      start: 6,
      end: 11,
    });
  });

  it('roles: a viewer cannot comment or react; a commenter cannot edit; only authors (or owners) edit and delete', async () => {
    const olga = as('olga');
    const doc = await newDoc(olga, 'roles', 'some text');
    const own = threadsOf(doc);
    await own.list();
    const thread = await own.add({ anchor: { path: ['body'], start: 0, end: 4 }, body: 'first' });
    const vic = as('vic').doc<{ body: string }>('notes', 'roles');
    const vicView = threadsOf(vic);
    expect((await vicView.list()).length).toBe(1);
    const forbidden = server.tandem.metrics().errors.FORBIDDEN ?? 0;
    await expect(vicView.reply(thread.id, 'no')).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
    // Refused calls are counted (and audited) like every refusal.
    expect(server.tandem.metrics().errors.FORBIDDEN).toBe(forbidden + 1);
    await expect(vicView.react(thread.id, thread.comments[0].id, 'like')).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(
      vicView.add({ anchor: { path: ['body'], start: 0, end: 1 }, body: 'x' }),
    ).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    const cora = as('cora');
    const coraDoc = cora.doc<{ body: string }>('notes', 'roles');
    const coraView = threadsOf(coraDoc);
    await coraView.list();
    await expect(coraDoc.submit(['body', { es: ['x'] }])).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    const reply = await coraView.reply(thread.id, 'from cora');
    const coraComment = reply.comments[1].id;
    const erinView = threadsOf(as('erin').doc('notes', 'roles'));
    await erinView.list();
    await expect(erinView.edit(thread.id, coraComment, 'hijack')).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    await expect(erinView.delete(thread.id, coraComment)).rejects.toMatchObject({
      code: ErrorCode.FORBIDDEN,
    });
    // The owner may delete anyone's; the comment keeps its place, emptied.
    const afterDelete = await own.delete(thread.id, coraComment);
    expect(afterDelete?.comments[1]).toMatchObject({
      deleted: { by: 'olga' },
      body: { text: '', mentions: [] },
    });
    await expect(coraView.edit(thread.id, coraComment, 'back')).rejects.toMatchObject({
      code: ErrorCode.NOT_FOUND,
    });
    // Deleting the last comment removes the thread.
    expect(await own.delete(thread.id, thread.comments[0].id)).toBeUndefined();
    await until(() => coraView.threads.length === 0, 5_000, 'the thread gone at Cora');
    // Nobody without a role reads threads.
    const mallory = threadsOf(as('mallory').doc('notes', 'roles'));
    await expect(mallory.list()).rejects.toMatchObject({ code: ErrorCode.FORBIDDEN });
  });

  it('limits and hostile input get typed errors and change nothing stored', async () => {
    const olga = as('olga');
    const doc = await newDoc(olga, 'limits', 'abcdefghijklmnop');
    const view = threadsOf(doc);
    await view.list();
    const at = (i: number) => ({ path: ['body'], start: i, end: i + 1 });
    const markup = '<img src=x onerror=alert(1)></textarea><script>alert(2)</script>';
    const stored = await view.add({ anchor: at(0), body: markup });
    expect(stored.comments[0].body.text).toBe(markup);
    const call = (method: string, args: unknown[]) =>
      olga.call({ t: 'call', ext: 'comments', method, args: ['notes', 'limits', ...args] });
    const v = doc.version;
    const refused: [string, unknown[], string][] = [
      ['create', [{ anchor: at(1), v, body: { text: 'x'.repeat(101), mentions: [] } }], ErrorCode.TOO_LARGE],
      [
        'create',
        [{ anchor: at(1), v, body: { text: 'x'.repeat(1_000_000), mentions: [] } }],
        ErrorCode.TOO_LARGE,
      ],
      [
        'create',
        [{ anchor: at(1), v, body: { text: 'bad \ud800 half', mentions: [] } }],
        ErrorCode.INVALID_MESSAGE,
      ],
      [
        'create',
        [{ anchor: at(1), v, body: { text: 'nul \u0000', mentions: [] } }],
        ErrorCode.INVALID_MESSAGE,
      ],
      ['create', [{ anchor: at(1), v, body: { text: '   ', mentions: [] } }], ErrorCode.INVALID_MESSAGE],
      ['create', [{ anchor: at(1), v, body: 'plain' }], ErrorCode.INVALID_MESSAGE],
      [
        'create',
        [{ anchor: { path: ['body'], start: 3, end: 3 }, v, body: { text: 'x' } }],
        ErrorCode.INVALID_MESSAGE,
      ],
      [
        'create',
        [{ anchor: { path: ['body'], start: 10, end: 99 }, v, body: { text: 'x' } }],
        ErrorCode.INVALID_MESSAGE,
      ],
      ['create', [{ anchor: { path: ['nope'] }, v, body: { text: 'x' } }], ErrorCode.NOT_FOUND],
      ['create', [{ anchor: { path: ['__proto__'] }, v, body: { text: 'x' } }], ErrorCode.NOT_FOUND],
      ['create', [{ anchor: at(1), v: (v ?? 0) + 5, body: { text: 'x' } }], ErrorCode.INVALID_MESSAGE],
      ['create', [{ anchor: at(1), v: -1, body: { text: 'x' } }], ErrorCode.INVALID_MESSAGE],
      [
        'create',
        [
          {
            anchor: at(1),
            v,
            body: {
              text: 'a b c d',
              mentions: [
                { start: 0, end: 1, userId: 'a' },
                { start: 2, end: 3, userId: 'b' },
                { start: 4, end: 5, userId: 'c' },
                { start: 6, end: 7, userId: 'd' },
              ],
            },
          },
        ],
        ErrorCode.TOO_LARGE,
      ],
      [
        'create',
        [{ anchor: at(1), v, body: { text: 'ab', mentions: [{ start: 0, end: 9, userId: 'a' }] } }],
        ErrorCode.INVALID_MESSAGE,
      ],
      ['reply', ['no-such-thread', { text: 'x', mentions: [] }], ErrorCode.NOT_FOUND],
      ['reply', [stored.id, { text: 'x', mentions: 'no' }], ErrorCode.INVALID_MESSAGE],
      ['react', [stored.id, stored.comments[0].id, 'hug', true], ErrorCode.INVALID_MESSAGE],
      ['react', [stored.id, stored.comments[0].id, 'like', 'yes'], ErrorCode.INVALID_MESSAGE],
      ['edit', [stored.id, 'nope', { text: 'x', mentions: [] }], ErrorCode.NOT_FOUND],
    ];
    for (const [method, args, code] of refused)
      await expect(
        call(method, args),
        `${method} ${JSON.stringify(args).slice(0, 120)}`,
      ).rejects.toMatchObject({
        code,
      });
    await expect(
      olga.call({ t: 'call', ext: 'comments', method: 'list', args: [1, 'limits'] }),
    ).rejects.toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    // The per-document limit (3 here).
    await view.add({ anchor: at(2), body: 'two' });
    await view.add({ anchor: at(3), body: 'three' });
    await expect(view.add({ anchor: at(4), body: 'four' })).rejects.toMatchObject({
      code: ErrorCode.TOO_LARGE,
      details: { limit: 'maxThreadsPerDocument' },
    });
    const fresh = await threadsOf(as('erin').doc('notes', 'limits')).list();
    expect(fresh.map((t) => t.comments[0].body.text)).toEqual([markup, 'two', 'three']);
    expect(server.tandem.metrics().extensions?.comments).toMatchObject({ threads: expect.any(Number) });
  });

  it('mentions notify the mentioned users once, and only while they can read the document', async () => {
    const olga = as('olga');
    const doc = await newDoc(olga, 'mentions', 'mention someone');
    const view = threadsOf(doc);
    await view.list();
    const text = '@Erin and 😀 @Vic';
    const erin = notificationsOf(as('erin'));
    const vic = notificationsOf(as('vic'));
    const mallory = notificationsOf(as('mallory'));
    await Promise.all([erin.list(), vic.list(), mallory.list()]);
    const erinGot: unknown[] = [];
    erin.on('notification', (n) => erinGot.push(n));
    const thread = await view.add({
      anchor: { path: ['body'], start: 0, end: 7 },
      body: {
        text,
        mentions: [
          { start: 0, end: 5, userId: 'erin' },
          { start: text.indexOf('@Vic'), end: text.length, userId: 'vic' },
          { start: 6, end: 9, userId: 'mallory' },
        ].sort((a, b) => a.start - b.start),
      },
    });
    expect(thread.comments[0].body.mentions.find((m) => m.userId === 'vic')).toEqual({
      start: text.indexOf('@Vic'),
      end: text.length,
      userId: 'vic',
    });
    await until(() => erin.unread === 1 && vic.unread === 1, 5_000, 'mention notifications');
    expect(erinGot).toMatchObject([{ kind: 'mention', priority: 3, threadId: thread.id, excerpt: text }]);
    // Mallory cannot read the document: told nothing, live or listed.
    expect((await mallory.list()).items).toEqual([]);
    expect(mallory.unread).toBe(0);
  });

  it('notifications made while a user was offline are listed, with the unread count, after the reconnect', async () => {
    const olga = as('olga');
    const doc = await newDoc(olga, 'away', 'while you were out');
    const view = threadsOf(doc);
    await view.list();
    const eddie = as('eddie');
    const inbox = notificationsOf(eddie);
    await inbox.list();
    unreachable.add('eddie');
    eddie.reconnect();
    await until(() => eddie.status === 'offline', 5_000, 'Eddie offline');
    await view.add({
      anchor: { path: ['body'], start: 0, end: 5 },
      body: { text: '@eddie see this', mentions: [{ start: 0, end: 6, userId: 'eddie' }] },
    });
    expect(inbox.unread).toBe(0);
    unreachable.delete('eddie');
    eddie.reconnect();
    await until(() => inbox.unread === 1, 5_000, 'the notification listed after the reconnect');
    expect(inbox.snapshot.items[0]).toMatchObject({
      kind: 'mention',
      docId: 'away',
      excerpt: '@eddie see this',
    });
  });
});

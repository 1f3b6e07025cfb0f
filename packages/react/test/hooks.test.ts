/**
 * The hooks in real Chromium with react-dom, against a real in-process Tandem server; peers are
 * Node clients over real sockets. The point is behaviour (data, status, undo, history) and that a
 * peer's keystroke re-renders only the components that read what changed.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { TandemClient, TandemDoc } from '@tandem/client';
import { comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { caller, haveChromium, type PageServer, pageServer } from '../../codemirror/test/browser';
import { client, until } from '../../server/test/helpers';
import type { Harness, Invoice } from './fixtures/app';

const browsers = haveChromium('the React hooks tests');

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** The peer range is React 18 and 19: the same app runs on both (React 18 swapped in by alias). */
const REACTS: [string, Record<string, string>][] = [
  ['React 19', {}],
  ['React 18', { react: packageDir('react-18'), 'react-dom': packageDir('react-dom-18') }],
];

let server: PageServer;
let page: Page;
const peers: TandemClient[] = [];

const call = caller<Harness>(() => page);

const token = (id: string) => JSON.stringify({ id, name: id });
let docs = 0;

/** A document with data, the app mounted on it, and a peer (a Node client) subscribed to it. */
async function setup(options: { strict?: boolean } = {}) {
  const id = `invoice-${++docs}`;
  const peer = client(server.wsUrl, { token: token(`peer-${docs}`) });
  peers.push(peer);
  const doc = peer.doc<Invoice>('invoices', id);
  await doc.create({ title: 'Invoice 😀', body: 'hello', items: [{ name: 'a', qty: 1 }], total: 1 });
  await doc.subscribe();
  await doc.presence.update({ path: ['body'], offset: 0 });
  await call('mount', { url: server.wsUrl, token: token('me'), collection: 'invoices', id, ...options });
  await expect.poll(async () => (await call('values')).title).toBe('Invoice 😀');
  await expect.poll(async () => (await call('values')).peerNames).toEqual([`peer-${docs}`]);
  return { id, peer, doc };
}

const values = () => call('values');

/** The peer types `text` one keystroke (one op) at a time at the end of the body. */
async function typeAtEnd(doc: TandemDoc<Invoice>, text: string) {
  const body = doc.text(['body']);
  for (const ch of text) await body.insert(body.value.length, ch);
  body.destroy();
}

describe.skipIf(!browsers).each(REACTS)('@tandem/react in Chromium, %s', (_, alias) => {
  beforeAll(async () => {
    server = await pageServer(
      new URL('./fixtures/app.ts', import.meta.url).pathname,
      { extensions: [comments()] },
      alias,
    );
    page = await server.open();
  });

  afterEach(async () => {
    await call('unmount');
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  afterAll(async () => {
    await server?.close();
  });

  it('runs the React it was bundled with', async () => {
    expect(await call('reactVersion')).toMatch(alias.react === undefined ? /^19\./ : /^18\./);
  });

  it("a peer's keystrokes re-render only what reads the body; their carets only what reads carets", async () => {
    const { doc } = await setup();
    await expect.poll(async () => (await values()).history).toMatchObject({ loading: false });
    const before = await call('renders');
    const typed = ' world, typed by a peer 𝒳';
    await typeAtEnd(doc, typed);
    // The peer's caret moves with each keystroke too.
    await doc.presence.update({ path: ['body'], offset: 5 });
    await expect.poll(async () => (await values()).body).toBe(`hello${typed}`);
    await expect.poll(async () => (await values()).carets).toEqual([5]);
    const after = await call('renders');
    const delta = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    // The body re-rendered (at most once per keystroke: React may batch several).
    expect(delta('body')).toBeGreaterThan(0);
    expect(delta('body')).toBeLessThanOrEqual([...typed].length);
    expect(delta('carets')).toBeGreaterThan(0);
    // Nothing else did: not the title, the items, the names list, undo, status, history, the
    // comment texts, the bell or the parent.
    for (const name of [
      'title',
      'items',
      'peerNames',
      'undo',
      'status',
      'history',
      'threadTexts',
      'bell',
      'document',
    ])
      expect(delta(name), name).toBe(0);
  });

  it('local edits, sync status and undo/redo re-render what they change, and reach the peer', async () => {
    const { doc } = await setup();
    expect((await values()).undo).toEqual({ canUndo: false, canRedo: false });
    expect((await values()).status).toMatchObject({ status: 'online', online: true, unsynced: 0 });
    const before = await call('renders');
    await call('act', 'setBody', 'hello there 😀');
    await until(() => doc.data?.body === 'hello there 😀', 5_000, 'the edit reaches the peer');
    await expect.poll(async () => (await values()).undo).toEqual({ canUndo: true, canRedo: false });
    // The status went to one unsynced edit and back to none.
    await expect.poll(async () => (await values()).status).toMatchObject({ unsynced: 0 });
    const after = await call('renders');
    expect(after.status - before.status).toBeGreaterThanOrEqual(1);
    expect(after.title - before.title).toBe(0);
    // A peer's edit does not change what I can undo: no undo re-render for it.
    const mid = await call('renders');
    await typeAtEnd(doc, '!');
    await expect.poll(async () => (await values()).body).toBe('hello there 😀!');
    expect((await call('renders')).undo).toBe(mid.undo);
    // Undo removes only my edit; redo brings it back.
    expect(await call('act', 'undo')).toBe(true);
    await until(() => doc.data?.body === 'hello!', 5_000, 'undo reaches the peer');
    await expect.poll(async () => (await values()).undo).toEqual({ canUndo: false, canRedo: true });
    expect(await call('act', 'redo')).toBe(true);
    await until(() => doc.data?.body === 'hello there 😀!', 5_000, 'redo reaches the peer');
    await call('act', 'spliceBody', 0, 5, 'HELLO');
    await until(() => doc.data?.body === 'HELLO there 😀!', 5_000, 'splice reaches the peer');
    // No string at the path: a typed refusal, and the document is untouched.
    await expect(call('act', 'setMissing', 'x')).rejects.toThrow(/no string at \["missing"\]/);
    expect((await values()).body).toBe('HELLO there 😀!');
  });

  it('presence: others appear by name, my presence reaches them, and names do not re-render on caret moves', async () => {
    const { doc } = await setup(); // the peer is there by name
    const before = await call('renders');
    for (const offset of [2, 3, 4]) await doc.presence.update({ path: ['body'], offset });
    await expect.poll(async () => (await values()).carets).toEqual([4]);
    expect((await call('renders')).peerNames).toBe(before.peerNames);
    await call('act', 'setOffset', 3);
    await until(
      () => doc.presence.peers().some((p) => p.user.name === 'me' && p.offset === 3),
      5_000,
      'my presence reaches the peer',
    );
  });

  it('comments: threads and replies both ways, a mention rings the bell; anchors move without re-rendering the texts', async () => {
    const { doc } = await setup();
    await expect
      .poll(async () => (await values()).threadTexts)
      .toMatchObject({ loading: false, threads: [] });
    const view = threadsOf(doc);
    await view.list();
    const thread = await view.add({
      anchor: { path: ['body'], start: 1, end: 4 },
      body: { text: '@me look', mentions: [{ start: 0, end: 3, userId: 'me' }] },
    });
    await expect
      .poll(async () => (await values()).threadTexts)
      .toMatchObject({ threads: [`${thread.id}:@me look`] });
    await expect.poll(async () => (await values()).anchors).toEqual([[1, 4]]);
    await expect.poll(async () => (await values()).bell).toBe(1);
    // The peer types before the anchor: the anchors move, the texts and the bell do not re-render.
    const before = await call('renders');
    await doc.submit(['body', { es: ['>> '] }]);
    await expect.poll(async () => (await values()).anchors).toEqual([[4, 7]]);
    const after = await call('renders');
    expect(after.threadTexts).toBe(before.threadTexts);
    expect(after.bell).toBe(before.bell);
    // A reply from the page reaches the peer; marking read clears the bell.
    await call('act', 'reply', thread.id, 'seen it 😀');
    await until(() => view.threads[0]?.comments.length === 2, 5_000, 'the reply at the peer');
    expect(view.threads[0].comments[1]).toMatchObject({ author: { id: 'me' }, body: { text: 'seen it 😀' } });
    await call('act', 'markAllRead');
    await expect.poll(async () => (await values()).bell).toBe(0);
    // A thread made on the page reaches the peer where the page put it.
    const id = (await call('act', 'addThread', 0, 2, 'from the page')) as string;
    await until(() => view.threads.length === 2, 5_000, 'the page thread at the peer');
    expect(view.threads.find((t) => t.id === id)).toMatchObject({
      quote: '>>',
      anchor: { path: ['body'], start: 0, end: 2 },
    });
  });

  it('history loads its page and refreshes on demand', async () => {
    const { doc } = await setup();
    await expect.poll(async () => (await values()).history).toMatchObject({ loading: false });
    const first = (await values()).history as { entries: number };
    await typeAtEnd(doc, 'xy');
    await call('act', 'refreshHistory');
    await expect
      .poll(async () => ((await values()).history as { entries: number }).entries)
      .toBeGreaterThan(first.entries);
  });

  it('works under StrictMode, holding one socket (the provider closes its first client and opens another)', async () => {
    const { doc } = await setup({ strict: true });
    // The page's user holds exactly one socket: no client made during render was left open.
    const mine = () => server.tandem.tandem.metrics().connections - peers.length;
    await expect.poll(mine).toBe(1);
    await call('act', 'setBody', 'strict 😀');
    await until(() => doc.data?.body === 'strict 😀', 5_000, 'the edit reaches the peer');
    await typeAtEnd(doc, '!');
    await expect.poll(async () => (await values()).body).toBe('strict 😀!');
  });

  it('a document that cannot be read reports an error status', async () => {
    await call('mount', {
      url: server.wsUrl,
      token: token('me'),
      collection: '_tandem_reserved',
      id: 'x',
    });
    await expect.poll(async () => (await values()).document).toMatchObject({ status: 'error' });
  });
});

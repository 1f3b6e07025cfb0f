/**
 * Typing indicators over real sockets: ephemeral presence, delivered to the other viewers (the
 * test waits for the event and prints how long it took), shown as `commenting`, never stored, and
 * gone when the typist disconnects. Their expiry 5 s after the last keystroke is logic, tested with
 * fake timers in @tandem/client (presence-status.test.ts).
 */
import type { PeerPresence } from '@tandem/client';
import { comments as threadsOf } from '@tandem/client/comments';
import { comments } from '@tandem/comments';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from '../../server/test/helpers';

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: { authenticate: ({ token }) => ({ id: String(token), name: String(token) }) },
      extensions: [comments()],
    },
  );
});
afterAll(() => server.close());

describe('typing indicators', () => {
  it('reach the other viewer, name the thread, and go with the typist', async () => {
    const ann = client(server.url(), { token: 'ann' });
    const ben = client(server.url(), { token: 'ben' });
    const annDoc = ann.doc<{ body: string }>('notes', 'typing');
    await annDoc.create({ body: 'hello' });
    const thread = await threadsOf(annDoc).add({ anchor: { path: ['body'], start: 0, end: 5 }, body: 'hi' });
    const benDoc = ben.doc<{ body: string }>('notes', 'typing');
    await benDoc.subscribe();
    const seen: PeerPresence[][] = [];
    benDoc.presence.on('change', (peers) => seen.push(peers));
    // Ben's presence subscription is in place once Ann's first presence reaches him.
    await annDoc.presence.update({ path: ['body'], offset: 0 });
    await until(() => benDoc.presence.peers().length === 1, 5_000, 'Ann present at Ben');
    const started = performance.now();
    annDoc.presence.typing(thread.id);
    await until(
      () => benDoc.presence.peers()[0]?.typing?.threadId === thread.id,
      5_000,
      'the typing indicator',
    );
    console.log(`typing indicator delivered in ${(performance.now() - started).toFixed(1)} ms`);
    expect(benDoc.presence.peers()[0]).toMatchObject({ status: 'commenting', user: { id: 'ann' } });
    // Typing in the document: the indicator names no thread.
    await annDoc.submit(['body', { es: [5, '!'] }]);
    await until(
      () => benDoc.presence.peers()[0]?.typing?.threadId === undefined,
      5_000,
      'typing in the document',
    );
    expect(benDoc.presence.peers()[0]).toMatchObject({ status: 'editing', typing: {} });
    await ann.close();
    await until(() => benDoc.presence.peers().length === 0, 5_000, 'gone at disconnect');
    expect(seen.length).toBeGreaterThan(0);
    await ben.close();
  });
});

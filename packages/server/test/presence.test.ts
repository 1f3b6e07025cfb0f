import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      heartbeatMs: 200,
      hooks: {
        authenticate: ({ token }) => ({ id: String(token), name: `User ${token}`, colour: '#123456' }),
      },
    },
  );
});
afterAll(async () => {
  await server.close();
});

describe('presence', () => {
  it('carries server-stamped user, moves cursors with edits, shows RTT, and is gone after a disconnect', async () => {
    const a = client(server.url(), { token: 'a' });
    const b = client(server.url(), { token: 'b' });
    const docA = a.doc<{ text: string }>('p', 'doc');
    await docA.create({ text: 'hello world' });
    await docA.subscribe();
    const docB = b.doc<{ text: string }>('p', 'doc');
    await docB.subscribe();
    const presenceB = docB.presence;
    presenceB.on('change', () => {});
    // The client claims to be someone else: the server overrides it. The server stamps the round
    // trip its heartbeat measured for a's socket: once one was measured, send until b sees it.
    await until(() => server.tandem.metrics().rttMs !== undefined, 5_000, 'a heartbeat round trip');
    for (let sent = 0; typeof presenceB.peers()[0]?.rtt !== 'number'; sent++) {
      expect(sent).toBeLessThan(50);
      const seen = new Promise<void>((resolve) => {
        const off = presenceB.on('change', () => {
          off();
          resolve();
        });
      });
      await docA.presence.update({ path: ['text'], offset: 6, user: { id: 'mallory' } } as never);
      await seen;
    }
    const [peer] = presenceB.peers();
    expect(presenceB.peers()).toHaveLength(1);
    expect(peer.user).toEqual({ id: 'a', name: 'User a', colour: '#123456' });
    expect(peer.offset).toBe(6);
    expect(typeof peer.rtt).toBe('number');
    expect(server.tandem.metrics().rttMs).toBeGreaterThanOrEqual(0);

    // b inserts before a's caret: a's cursor moves right.
    await docB.text(['text']).insert(0, '>> ');
    await until(() => presenceB.peers()[0]?.offset === 9, 5_000, 'cursor moved');

    await a.close();
    await until(() => presenceB.peers().length === 0, 200, 'presence gone within one heartbeat');
    await b.close();
  });
});

describe('presence across a reconnect', () => {
  it('hides peers who left while this client was offline; peers still there reappear', async () => {
    const stays = client(server.url(), { token: 'stays' });
    const leaves = client(server.url(), { token: 'leaves' });
    const watcher = client(server.url(), { token: 'watcher' });
    const create = stays.doc<{ text: string }>('p', 'reconnect');
    await create.create({ text: 'abc' });
    for (const c of [stays, leaves, watcher]) await c.doc('p', 'reconnect').subscribe();
    const view = watcher.doc('p', 'reconnect').presence;
    await stays.doc('p', 'reconnect').presence.update({ path: ['text'], offset: 1 });
    await leaves.doc('p', 'reconnect').presence.update({ path: ['text'], offset: 2 });
    await until(() => view.peers().length === 2, 5_000, 'two peers');

    watcher.reconnect();
    await until(() => watcher.status !== 'online', 2_000, 'watcher offline');
    await leaves.close();
    await until(() => watcher.status === 'online', 5_000, 'watcher back');
    await until(() => view.peers().length === 1, 5_000, 'only the peer who stayed');
    expect(view.peers()[0].user.id).toBe('stays');
    await stays.close();
    await watcher.close();
  });
});

import { memoryStore } from '@tandem/client';
import { ErrorCode, TandemError } from '@tandem/protocol';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

let server: AttachedTandem;
let reachable = true;
let holdAcks = false;

beforeAll(async () => {
  server = await attach(
    { port: 0 },
    {
      storage: 'memory:',
      hooks: {
        // "Network down": upgrades are refused while unreachable, so the client stays offline.
        authenticate: () => {
          if (!reachable) throw new TandemError(ErrorCode.UNAUTHORIZED, 'unreachable');
          return { id: 'u1', name: 'User' };
        },
      },
    },
  );
  const backend = await server.tandem.backend();
  // Commit, then sit on the acknowledgement: the op is durable but its sender never hears so.
  backend.use('afterWrite', (_context: unknown, next: () => void) => {
    if (holdAcks) setTimeout(next, 60_000).unref();
    else next();
  });
});
afterAll(async () => {
  await server.close();
});

async function serverText(id: string): Promise<string> {
  const backend = await server.tandem.backend();
  const doc = backend.connect().get('offline', id);
  await new Promise<void>((resolve, reject) => doc.fetch((e) => (e ? reject(e) : resolve())));
  return doc.data.text;
}

describe('offline queue', () => {
  it('edits made offline survive a client restart and are committed exactly once', async () => {
    const saved = new Map<string, string>();
    const store = memoryStore(saved);
    const first = client(server.url(), { offlineStore: store });
    const doc = first.doc<{ text: string }>('offline', 'a');
    await doc.create({ text: 'base' });
    await doc.subscribe();

    reachable = false;
    first.reconnect();
    await until(() => first.status === 'offline', 2_000, 'offline');
    const text = doc.text(['text']);
    void text.insert(4, ' one').catch(() => {});
    void text.insert(8, ' two').catch(() => {});
    expect(first.unsyncedCount).toBeGreaterThan(0);
    // Both offline edits are in the store before the "page" goes away.
    await until(() => [...saved.values()].some((queued) => queued.includes(' two')), 2_000, 'queue saved');
    await first.close(); // the "page" goes away with ops unsent

    reachable = true;
    const second = client(server.url(), { offlineStore: store });
    const again = second.doc<{ text: string }>('offline', 'a');
    await again.subscribe();
    await until(() => second.unsyncedCount === 0, 5_000, 'queue drained');
    expect(await serverText('a')).toBe('base one two');
    expect(again.data?.text).toBe('base one two');
    await second.close();
  });

  it('an op committed before the restart but never acknowledged is not committed twice', async () => {
    const store = memoryStore();
    const first = client(server.url(), { offlineStore: store });
    const doc = first.doc<{ text: string }>('offline', 'b');
    await doc.create({ text: 'x' });
    await doc.subscribe();

    holdAcks = true;
    void doc
      .text(['text'])
      .insert(1, 'y')
      .catch(() => {});
    let committed = '';
    for (let i = 0; i < 100 && committed !== 'xy'; i++) {
      committed = await serverText('b');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(committed).toBe('xy');
    expect(first.unsyncedCount).toBe(1); // no ack yet
    await first.close();

    holdAcks = false;
    const second = client(server.url(), { offlineStore: store });
    const again = second.doc<{ text: string }>('offline', 'b');
    await again.subscribe();
    await until(() => second.unsyncedCount === 0, 5_000, 'queue drained');
    expect(await serverText('b')).toBe('xy');
    expect(again.data?.text).toBe('xy');
    await second.close();
  });
});

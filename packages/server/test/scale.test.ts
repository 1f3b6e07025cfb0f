import type { TandemClient, TandemDoc } from '@tandem/client';
import { describe, expect, it } from 'vitest';
import { client, until } from './helpers';
import { REDIS_URL } from './redis-url';
import { serverProcesses } from './server-processes';

const servers = serverProcesses('scale');

describe('scale-out', () => {
  it('two processes + Redis + one SQLite file: clients converge, and survive SIGKILL of one process', async () => {
    const args = [servers.storage(), servers.prefix];
    const [one, two] = await Promise.all([
      servers.start('server-process.ts', args),
      servers.start('server-process.ts', args),
    ]);

    const clients: TandemClient[] = [];
    const docs: TandemDoc<{ log: string[] }>[] = [];
    for (let i = 0; i < 6; i++) {
      // Each client prefers "its" process and fails over to the other.
      const urls = i % 2 === 0 ? [one.url, two.url] : [two.url, one.url];
      const c = client(urls, { codec: i % 3 === 0 ? 'json' : 'msgpack' });
      clients.push(c);
      docs.push(c.doc('scale', 'doc'));
    }
    await docs[0].create({ log: [] });
    await Promise.all(docs.map((d) => d.subscribe()));

    const acked: string[] = [];
    const submitRound = async (round: number) => {
      await Promise.all(
        docs.map((doc, i) =>
          doc
            .submit(['log', 0, { i: `c${i}-r${round}` }])
            .then(() => acked.push(`c${i}-r${round}`))
            .catch(() => {}),
        ),
      );
    };
    await submitRound(0);
    await until(() => docs.every((d) => d.data?.log.length === 6), 10_000, 'cross-process convergence');

    // Kill process one mid-run: its clients fail over to process two.
    const rounds = [1, 2, 3, 4, 5].map(async (round) => {
      if (round === 2) one.process.kill('SIGKILL');
      await submitRound(round);
    });
    await Promise.all(rounds);
    await until(
      () => clients.every((c) => c.status === 'online' && c.unsyncedCount === 0),
      20_000,
      'all synced',
    );
    // 6 clients x 6 rounds; every op was acknowledged (unsynced is 0), so all 36 must be there.
    await until(() => docs.every((d) => d.data?.log.length === 36), 10_000, 'final convergence');
    const log = docs[0].data?.log ?? [];
    for (const doc of docs) expect(doc.data?.log).toEqual(log);
    for (const entry of acked) expect(log.filter((e) => e === entry)).toHaveLength(1);
    expect(new Set(log).size).toBe(36); // none lost, none doubled
    await Promise.all(clients.map((c) => c.close()));
  });
});

describe('scale-out over Redis (in-process, one shared store object)', () => {
  it('two Tandem instances sharing a store and Redis deliver each other’s ops and presence; clients fail over', async () => {
    const { attach } = await import('@tandem/server');
    const ShareDB = (await import('sharedb')).default;
    const db = new ShareDB.MemoryDB();
    const storage = { db, close: async () => {} };
    const prefix = `tandem-test-inproc-${process.pid}-${Date.now()}`;
    const redis = { url: REDIS_URL, prefix };
    const a = await attach({ port: 0 }, { storage, redis });
    const b = await attach({ port: 0 }, { storage, redis });
    const onA = client([a.url(), b.url()]);
    const onB = client(b.url());
    const docA = onA.doc<{ text: string }>('redis', 'doc');
    await docA.create({ text: '' });
    await docA.subscribe();
    const docB = onB.doc<{ text: string }>('redis', 'doc');
    await docB.subscribe();
    await docA.text(['text']).insert(0, 'from A ');
    await docB.text(['text']).insert(0, 'from B ');
    await until(
      () => docA.data?.text === docB.data?.text && docA.data?.text.length === 14,
      5_000,
      'converged via Redis',
    );

    await docB.presence.update({ path: ['text'], offset: 0 });
    await until(() => docA.presence.peers().length === 1, 5_000, 'presence via Redis');

    // Instance A goes away: its client reconnects to B and keeps editing.
    await a.close();
    await docA.text(['text']).insert(0, '!');
    await until(() => onA.status === 'online' && onA.unsyncedCount === 0, 5_000, 'failed over');
    await until(() => docB.data?.text === docA.data?.text, 5_000, 'converged after failover');
    expect(docB.data?.text.startsWith('!')).toBe(true);
    await onA.close();
    await onB.close();
    await b.close();
  });
});

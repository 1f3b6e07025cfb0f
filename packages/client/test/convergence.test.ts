import type { TandemClient, TandemDoc } from '@tandem/client';
import { type AttachedTandem, attach } from '@tandem/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from './helpers';

/** Seeded PRNG (mulberry32) so a failure replays: the seed is printed in the assertion message. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Shape {
  text: string;
  log: Record<string, string[]>;
}

let server: AttachedTandem;
beforeAll(async () => {
  server = await attach({ port: 0 }, { storage: 'memory:' });
});
afterAll(async () => {
  await server.close();
});

async function serverSnapshot(collection: string, id: string): Promise<{ v: number; data: Shape }> {
  const backend = await server.tandem.backend();
  const doc = backend.connect().get(collection, id);
  await new Promise<void>((resolve, reject) => doc.fetch((e) => (e ? reject(e) : resolve())));
  return { v: doc.version as number, data: doc.data };
}

describe('convergence over real sockets', () => {
  it('20 clients with random concurrent edits and random reconnects converge; no acknowledged op is lost', async () => {
    const seed = Number(process.env.TANDEM_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    const N = 20;
    const ROUNDS = 25;
    const clients: TandemClient[] = [];
    const docs: TandemDoc<Shape>[] = [];
    for (let i = 0; i < N; i++) {
      const c = client(server.url(), { codec: i % 2 === 0 ? 'msgpack' : 'json' });
      clients.push(c);
      docs.push(c.doc<Shape>('conv', 'doc'));
    }
    await docs[0].create({ text: '', log: Object.fromEntries(clients.map((_, i) => [`c${i}`, []])) });
    await Promise.all(docs.map((d) => d.subscribe()));

    const acked: string[] = [];
    const work = clients.map(async (c, i) => {
      const doc = docs[i];
      const text = doc.text(['text']);
      for (let round = 0; round < ROUNDS; round++) {
        const r = random();
        if (r < 0.08) {
          c.reconnect();
        } else if (r < 0.45) {
          const entry = `c${i}-${round}`;
          const at = doc.data?.log[`c${i}`].length ?? 0;
          doc.submit(['log', `c${i}`, at, { i: entry }]).then(() => acked.push(entry));
        } else if (r < 0.8 || text.value.length === 0) {
          const at = Math.floor(random() * (text.value.length + 1));
          void text.insert(at, String.fromCharCode(97 + (i % 26))).catch(() => {});
        } else {
          const at = Math.floor(random() * text.value.length);
          void text.delete(at, 1).catch(() => {});
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 15));
      }
    });
    await Promise.all(work);
    await until(
      () => clients.every((c) => c.status === 'online' && c.unsyncedCount === 0),
      20_000,
      `all synced (seed ${seed})`,
    );
    const snapshot = await serverSnapshot('conv', 'doc');
    await until(
      () => docs.every((d) => d.version === snapshot.v),
      10_000,
      `all at v${snapshot.v} (seed ${seed})`,
    );

    for (const doc of docs) expect(doc.data, `seed ${seed}`).toEqual(snapshot.data);
    const logged = Object.values(snapshot.data.log).flat();
    for (const entry of acked)
      expect(
        logged.filter((e) => e === entry),
        `${entry} (seed ${seed})`,
      ).toHaveLength(1);
    expect(new Set(logged).size).toBe(logged.length);
    expect(acked.length).toBeGreaterThan(0);
    await Promise.all(clients.map((c) => c.close()));
  });
});

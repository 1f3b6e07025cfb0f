// Randomized scale-out convergence: three server processes sharing one SQLite file and Redis, stock
// ShareDB clients (sharedb/lib/client over plain JSON) and Tandem clients (JSON and msgpack) typing
// into two documents as users under their rate limits, random disconnects, and one server process
// SIGKILLed mid-run and restarted on its port. Then every replica must equal the store's snapshot,
// every acknowledged op be in it exactly once, no client have seen an op ahead of its version (a
// ShareDB client fetches then) nor logged a warning ("Invalid version from server" …) nor been told
// RATE_LIMITED.
//
// The schedule (who types what, where and when, who disconnects, which process dies when) comes
// from a seed, printed first: SCALE_SEED=<seed> replays it. SCALE_MS=<ms> types for longer than the
// default 20 s (the whole test takes about a minute in CI).
import ShareDB from 'sharedb/lib/client';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { until } from './helpers';
import { type ServerProcess, serverProcesses } from './server-processes';
import {
  expectConverged,
  Ledger,
  complaints as noComplaints,
  type Replica,
  sleep,
  stockReplica,
  stream,
  tandemReplica,
  typeUntil,
} from './typists';

const servers = serverProcesses('scale-random');

const SEED = Number(process.env.SCALE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TYPING_MS = Number(process.env.SCALE_MS ?? 20_000);
const DOCS = ['alpha', 'beta'];
const USERS = ['ada', 'bo', 'cy', 'di'];
const PROCESSES = 3;
const complaints = noComplaints();

describe('randomized scale-out convergence (3 processes + Redis + one SQLite file)', () => {
  it(`seed ${SEED}: every replica equals the store, every acknowledged op exactly once, no warning, no RATE_LIMITED`, async () => {
    console.log(`scale-random: SCALE_SEED=${SEED} SCALE_MS=${TYPING_MS}`);
    const random = stream(SEED);
    const args = [servers.storage(), servers.prefix];
    const procs: ServerProcess[] = await Promise.all(
      Array.from({ length: PROCESSES }, () => servers.start('scale-process.ts', [...args, '0'])),
    );
    const urls = procs.map((p) => p.url);
    const alive = new Set(urls);

    // Create the documents before anyone subscribes (from a plain stock connection).
    const seedSocket = new WebSocket(`${urls[0]}?token=setup`);
    const setup = new ShareDB.Connection(seedSocket as never);
    for (const id of DOCS) {
      const doc = setup.get('scale', id);
      await new Promise<void>((resolve, reject) =>
        doc.create({ log: [] }, 'json1', (error) => (error ? reject(error) : resolve())),
      );
    }
    setup.close();

    const replicas: Replica[] = [];
    for (let i = 0; i < 6; i++) {
      const common = { user: USERS[i % USERS.length], collection: 'scale', docs: DOCS, complaints };
      const clientRandom = stream(SEED + 1_000 * (i + 1));
      // Tandem clients prefer a different process each and fail over through the list.
      const order = urls.map((_, k) => urls[(i + k) % urls.length]);
      const live = () => {
        const now = [...alive];
        return now[Math.floor(clientRandom() * now.length)];
      };
      replicas.push(
        i % 2 === 0
          ? tandemReplica({
              ...common,
              name: `tandem-${i}`,
              urls: order,
              codec: i % 4 === 0 ? 'json' : 'msgpack',
            })
          : stockReplica({ ...common, name: `stock-${i}`, next: live, random: clientRandom }),
      );
    }
    await until(
      () => replicas.every((r) => DOCS.every((id) => r.snapshot(id) !== undefined)),
      10_000,
      'every replica subscribed',
    );

    const ledger = new Ledger();
    let typing = true;
    const started = Date.now();
    // Each replica on its own seeded schedule: ~3-16 ops/s, a drop every ~12 ops.
    const loops = typeUntil(replicas, DOCS, ledger, { seed: SEED, stop: () => !typing, dropRate: 0.08 });

    // One process dies mid-run (SIGKILL: no goodbye, maybe ops committed and never published) and
    // comes back on its port a little later.
    const victim = Math.floor(random() * PROCESSES);
    const killAt = TYPING_MS * (0.3 + random() * 0.3);
    const downMs = 500 + random() * 1_500;
    const chaos = (async () => {
      await sleep(killAt);
      const dead = procs[victim];
      const port = new URL(dead.url).port;
      alive.delete(dead.url);
      const exited = new Promise((resolve) => dead.process.once('exit', resolve));
      dead.process.kill('SIGKILL');
      await exited;
      await sleep(downMs);
      procs[victim] = await servers.start('scale-process.ts', [...args, port]);
      alive.add(procs[victim].url);
    })();

    while (Date.now() - started < TYPING_MS) await sleep(100);
    typing = false;
    await loops;
    await chaos;

    try {
      const stored = await expectConverged(replicas, ledger, {
        url: servers.storage(),
        collection: 'scale',
        docs: DOCS,
      });
      const metrics = await Promise.all(procs.map((p) => p.ask({ metrics: true })));
      console.log(
        `scale-random: ${ledger.submitted.size} ops submitted, ${ledger.acked.size} acknowledged, versions ${DOCS.map((id) => stored.get(id)?.v).join('/')}, ` +
          `process ${victim} killed at ${Math.round(killAt)} ms for ${Math.round(downMs)} ms; pub/sub per process ${JSON.stringify(metrics.map((m) => m.pubsub))}`,
      );
      expect(ledger.refused).toEqual([]);
      expect(complaints.warnings).toEqual([]);
      expect(complaints.fetches).toEqual([]);
      expect(complaints.rateLimited).toEqual([]);
      for (const m of metrics) expect((m.security as Record<string, number>).rate_limited ?? 0).toBe(0);
      expect(ledger.acked.size).toBeGreaterThan(50);
    } finally {
      await Promise.all(replicas.map((r) => r.close()));
    }
  }, 120_000);
});

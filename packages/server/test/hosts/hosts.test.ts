// Three hosts on this machine (network namespaces, see network.ts), one Tandem server process each,
// sharing the machine's PostgreSQL (a schema of this run's, reached through a TCP gate the test
// owns) and a private Redis, both over the hosts' own links. Tandem clients (JSON and msgpack, each
// with the list of hosts, its own first) and stock ShareDB clients (reconnecting to the next host in
// their list) type into two documents from this (the root) namespace, three per host, while the
// shared parts fail one at a time:
//   1. one host's server is SIGKILLed: its clients fail over to the others; it comes back.
//   2. one host is cut from Redis for 5 s (its switch port goes down), then mended.
//   3. Redis is SIGKILLed and restarted (empty) mid-run.
//   4. the store's connections are cut and refused for 5 s (through a gate the test owns):
//      submits fail with STORAGE_UNAVAILABLE; Tandem clients hold their ops and resend them.
// Each fault ends with every replica equal to the store's snapshot, every acknowledged op in it
// exactly once, and nothing refused except what the fault explains. What each fault cost (fail-over,
// catch-up, readiness) is measured and printed: docs/deploy.md quotes it.
//
// Typing schedules come from a seed, printed first: HOSTS_SEED=<seed> replays them.

import { testPostgresUnavailable, testSchemas } from '@tandem/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, until } from '../helpers';
import { type PrivateRedis, privateRedis } from '../private-redis';
import { type ServerProcess, serverProcesses } from '../server-processes';
import { type TcpProxy, tcpProxy } from '../tcp-proxy';
import {
  expectConverged,
  Ledger,
  type Log,
  complaints as noComplaints,
  type Replica,
  sleep,
  stockReplica,
  stream,
  tandemReplica,
  typeUntil,
} from '../typists';
import { buildNetwork, type Host, type Network, namespacesUnavailable } from './network';

const unavailable = namespacesUnavailable();
if (unavailable !== undefined) console.log(`hosts: skipped: ${unavailable}`);

const SEED = Number(process.env.HOSTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COLLECTION = 'hosts';
const DOCS = ['alpha', 'beta'];
const USERS = ['ada', 'bo', 'cy', 'di', 'ed'];
/** Every host's server listens on this port at its own address. */
const PORT = 8080;
/** How long the partition and the store outage last (the issue's 5 s). */
const OUTAGE_MS = 5_000;
/** Ops acknowledged before a fault strikes, so it hits clients in full flow. */
const WARM_OPS = 30;

const servers = serverProcesses('hosts');

describe.skipIf(unavailable !== undefined)('three hosts sharing a store and Redis, under faults', () => {
  let net: Network;
  let redis: PrivateRedis;
  let gate: TcpProxy;
  const schemas = testSchemas();
  /** The store as servers reach it (through the gate), and as the test reads it (directly). */
  const store = { servers: '', direct: schemas.next() };
  const procs: ServerProcess[] = [];
  const replicas: Replica[] = [];
  const ledger = new Ledger();
  const complaints = noComplaints();
  const measured: Record<string, number | string> = {};
  let phases = 0;

  const hostOf = (url: string | undefined) => (url === undefined ? undefined : new URL(url).hostname);
  const start = (host: Host) =>
    servers.start(
      'scale-process.ts',
      [store.servers, servers.prefix, String(PORT), redis.url, host.address],
      { netns: host.ns },
    );
  /** GET /ready of a host: 200 (true) or not. */
  const ready = async (host: Host) => {
    try {
      const response = await fetch(`http://${host.address}:${PORT}/ready`, {
        signal: AbortSignal.timeout(3_000),
      });
      return response.status === 200;
    } catch {
      return false;
    }
  };
  /** Poll an async condition until it holds. */
  const eventually = async (check: () => Promise<boolean>, timeoutMs: number, what: string) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  };
  /** Whether every token is in the replica's copy of the documents. */
  const holds = (replica: Replica, tokens: readonly string[]) => {
    const seen = new Set(DOCS.flatMap((id) => (replica.snapshot(id)?.data as Log | undefined)?.log ?? []));
    return tokens.every((token) => seen.has(token));
  };
  const ackedBy = (replica: Replica, after: number) =>
    [...ledger.acked].some(([token, at]) => at > after && token.startsWith(`${replica.name}#`));

  /**
   * Type while `fault` runs (it starts once WARM_OPS more ops were acknowledged), stop, and check
   * that everything converged. Returns what the phase refused.
   */
  async function phase(name: string, fault: () => Promise<void>) {
    const seed = SEED + 100_000 * ++phases;
    const refusedBefore = ledger.refused.length;
    const ackedBefore = ledger.acked.size;
    let typing = true;
    const loops = typeUntil(replicas, DOCS, ledger, { seed, stop: () => !typing });
    const started = Date.now();
    try {
      await until(() => ledger.acked.size >= ackedBefore + WARM_OPS, 20_000, `${name}: ops flowing`);
      await fault();
    } finally {
      typing = false;
      await loops;
    }
    const stored = await expectConverged(replicas, ledger, {
      url: store.direct,
      collection: COLLECTION,
      docs: DOCS,
    });
    measured[`${name}.ops`] = ledger.acked.size - ackedBefore;
    measured[`${name}.ms`] = Date.now() - started;
    console.log(
      `hosts: ${name}: ${ledger.acked.size - ackedBefore} ops acknowledged, versions ${DOCS.map((id) => stored.get(id)?.v).join('/')}, ` +
        `measured ${JSON.stringify(Object.fromEntries(Object.entries(measured).filter(([k]) => k.startsWith(`${name}.`))))}`,
    );
    return ledger.refused.slice(refusedBefore);
  }

  beforeAll(async () => {
    console.log(`hosts: HOSTS_SEED=${SEED}`);
    net = await buildNetwork(3);
    redis = await privateRedis(net.redisGateway);
    const postgres = new URL(store.direct);
    const unreachable = await testPostgresUnavailable(store.direct);
    if (unreachable !== undefined) throw new Error(`hosts: the test needs PostgreSQL: ${unreachable}`);
    // PostgreSQL listens on this machine's loopback: the hosts reach it through the gate, on the
    // front network.
    gate = await tcpProxy({ host: postgres.hostname, port: Number(postgres.port || 5432) }, net.frontGateway);
    const through = new URL(store.direct);
    through.hostname = gate.host;
    through.port = String(gate.port);
    store.servers = through.toString();
    console.log(
      `hosts: hosts ${net.hosts.map((h) => `${h.ns}=${h.address}`).join(', ')}; redis ${redis.url}; ` +
        `postgres ${through.host} → ${postgres.host}, schema ${postgres.searchParams.get('schema')}`,
    );
    procs.push(...(await Promise.all(net.hosts.map(start))));
    const urls = procs.map((p) => p.url);

    // The documents exist before anyone types.
    const setup = client(urls, { token: 'setup' });
    for (const id of DOCS) await setup.doc<Log>(COLLECTION, id).create({ log: [] });
    await setup.close();

    net.hosts.forEach((host, h) => {
      const order = urls.map((_, k) => urls[(h + k) % urls.length]);
      const common = { collection: COLLECTION, docs: DOCS, complaints };
      const user = (i: number) => USERS[(3 * h + i) % USERS.length];
      let k = 0;
      replicas.push(
        tandemReplica({
          ...common,
          name: `h${host.index}-tandem-json`,
          user: user(0),
          urls: order,
          codec: 'json',
        }),
        tandemReplica({
          ...common,
          name: `h${host.index}-tandem-msgpack`,
          user: user(1),
          urls: order,
          codec: 'msgpack',
        }),
        stockReplica({
          ...common,
          name: `h${host.index}-stock`,
          user: user(2),
          next: () => order[k++ % order.length],
          random: stream(SEED + h),
        }),
      );
    });
    await until(
      () => replicas.every((r) => DOCS.every((id) => r.snapshot(id) !== undefined)),
      20_000,
      'every replica subscribed',
    );
  }, 150_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    const alive = procs.filter((p) => p.process.exitCode === null && p.process.signalCode === null);
    const exits = alive.map((p) => new Promise((resolve) => p.process.once('exit', resolve)));
    for (const p of alive) p.process.kill('SIGKILL');
    await Promise.all(exits);
    await redis?.stop();
    await gate?.close();
    await schemas.dropAll();
    await net?.close();
    console.log(`hosts: measured ${JSON.stringify(measured)}`);
  }, 60_000);

  it('1. a host’s server is SIGKILLed: its clients fail over to the other hosts; it comes back', async () => {
    const victim = net.hosts[1];
    let onVictim: Replica[] = [];
    const refused = await phase('kill', async () => {
      const dead = procs[1];
      onVictim = replicas.filter((r) => hostOf(r.where()) === victim.address);
      expect(onVictim.length).toBeGreaterThan(0);
      const exited = new Promise((resolve) => dead.process.once('exit', resolve));
      dead.process.kill('SIGKILL');
      await exited;
      const killed = Date.now();
      // Fail-over: each of its clients has an op acknowledged by another host.
      await until(
        () => onVictim.every((r) => hostOf(r.where()) !== victim.address && ackedBy(r, killed)),
        20_000,
        'the killed host’s clients acknowledged elsewhere',
      );
      measured['kill.failoverMs'] = Date.now() - killed;
      procs[1] = await start(victim);
      measured['kill.restartMs'] = Date.now() - killed;
      await eventually(() => ready(victim), 10_000, 'the restarted host ready');
    });
    expect(refused).toEqual([]);
    for (const r of onVictim) expect(hostOf(r.where()), r.name).not.toBe(victim.address);
  }, 90_000);

  it('2. a host is cut from Redis for 5 s: its clients keep committing, nobody diverges, all catch up on heal', async () => {
    const cut = net.hosts[2];
    const refused = await phase('partition', async () => {
      const onCut = replicas.filter((r) => hostOf(r.where()) === cut.address);
      expect(onCut.length).toBeGreaterThan(0);
      await net.redisLink(cut, false);
      const from = Date.now();
      // Readiness reports the lost Redis (a load balancer would drain the host).
      await eventually(async () => !(await ready(cut)), OUTAGE_MS, 'the cut host not ready');
      measured['partition.notReadyMs'] = Date.now() - from;
      await sleep(from + OUTAGE_MS - Date.now());
      // The store is still reachable: the cut host's clients had their ops committed meanwhile.
      for (const r of onCut) expect(ackedBy(r, from), `${r.name} acknowledged while cut`).toBe(true);
      const before = [...ledger.acked.keys()];
      await net.redisLink(cut, true);
      const healed = Date.now();
      // Catch-up: every replica has every op acknowledged before the heal.
      await until(() => replicas.every((r) => holds(r, before)), 30_000, 'every replica caught up');
      measured['partition.catchUpMs'] = Date.now() - healed;
      await eventually(() => ready(cut), 30_000, 'the mended host ready');
      measured['partition.readyAgainMs'] = Date.now() - healed;
    });
    expect(refused).toEqual([]);
  }, 90_000);

  it('3. Redis is killed and restarted (empty) mid-run: pub/sub reconnects and fills what it missed', async () => {
    const refused = await phase('redis', async () => {
      const before = await Promise.all(procs.map((p) => p.ask({ metrics: true })));
      const reconnects = (m: Record<string, unknown>) => (m.pubsub as { reconnects: number }).reconnects;
      const restarting = Date.now();
      await redis.restart();
      measured['redis.restartMs'] = Date.now() - restarting;
      const acked = [...ledger.acked.keys()];
      await eventually(
        async () => {
          const now = await Promise.all(procs.map((p) => p.ask({ metrics: true })));
          return now.every((m, i) => reconnects(m) > reconnects(before[i]));
        },
        30_000,
        'every host’s pub/sub reconnected',
      );
      measured['redis.reconnectMs'] = Date.now() - restarting;
      await until(() => replicas.every((r) => holds(r, acked)), 30_000, 'every replica caught up');
      measured['redis.catchUpMs'] = Date.now() - restarting;
      const after = Date.now();
      await until(() => replicas.every((r) => ackedBy(r, after)), 20_000, 'every replica typing again');
    });
    expect(refused).toEqual([]);
  }, 90_000);

  it('4. the store is unreachable for 5 s: submits fail with STORAGE_UNAVAILABLE, Tandem clients hold and resend, service resumes', async () => {
    const tandems = replicas.filter((r) => r.name.includes('-tandem-'));
    const errorsBefore = complaints.errors.length;
    const newErrors = () => complaints.errors.slice(errorsBefore);
    let holding = 0;
    const refused = await phase('store', async () => {
      gate.block();
      const from = Date.now();
      await until(
        () => newErrors().some((e) => e.code === 'STORAGE_UNAVAILABLE'),
        OUTAGE_MS,
        'a submit answered STORAGE_UNAVAILABLE',
      );
      measured['store.firstRefusalMs'] = Date.now() - from;
      await eventually(async () => !(await ready(net.hosts[0])), OUTAGE_MS, 'a host not ready');
      measured['store.notReadyMs'] = Date.now() - from;
      await sleep(from + OUTAGE_MS - Date.now());
      // Every Tandem client holds what it typed; none was refused (checked below).
      holding = tandems.filter((r) => r.pending() > 0).length;
      gate.unblock();
      const healed = Date.now();
      await until(
        () => tandems.every((r) => ackedBy(r, healed)),
        30_000,
        'every Tandem client’s ops stored again',
      );
      measured['store.resumeMs'] = Date.now() - healed;
      await eventually(
        async () => (await Promise.all(net.hosts.map(ready))).every(Boolean),
        30_000,
        'every host ready',
      );
      measured['store.readyAgainMs'] = Date.now() - healed;
    });
    measured['store.resets'] = gate.resets;
    measured['store.holdingClients'] = holding;
    measured['store.stockRefused'] = refused.length;
    expect(holding).toBe(tandems.length);
    // Stock ShareDB clients roll a refused op back (ShareDB's behaviour); Tandem's are never refused.
    for (const r of refused)
      expect(r, r.token).toMatchObject({
        code: 'STORAGE_UNAVAILABLE',
        replica: expect.stringMatching(/-stock$/),
      });
    // The clients heard why, and of nothing else.
    expect(new Set(newErrors().map((e) => e.code))).toEqual(new Set(['STORAGE_UNAVAILABLE']));
  }, 90_000);

  it('no client saw an op out of order, a warning, RATE_LIMITED or an error no fault explains', async () => {
    const explained = complaints.errors.filter((e) => e.code === 'STORAGE_UNAVAILABLE');
    expect(complaints.errors.filter((e) => !explained.includes(e))).toEqual([]);
    expect(complaints.fetches).toEqual([]);
    expect(complaints.warnings).toEqual([]);
    expect(complaints.rateLimited).toEqual([]);
    expect(ledger.acked.size).toBeGreaterThan(4 * WARM_OPS);
  });
});

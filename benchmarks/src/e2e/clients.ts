/**
 * The simulated users, run as their own child process (pinned to the other core):
 * `node --conditions=source --import tsx src/e2e/clients.ts`. Receives one ClientsConfig over IPC,
 * opens the clients, runs the load (or holds idle sockets), and reports one ClientsResult.
 * Phases that need a server snapshot are announced and, where the order matters, awaited.
 */

import { percentile, seededRandom } from '../report';
import { createDriver, type SimClient } from './drivers';
import { LoadStats } from './stats';
import {
  type ClientsConfig,
  type ClientsMessage,
  type ClientsPhase,
  IDLE_STEPS,
  type IdleConfig,
  type LoadConfig,
  type LoadResult,
} from './types';
import { type Viewer, viewerOpener } from './viewers';

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function send(message: ClientsMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, () => resolve());
  });
}

let continueWaiter: (() => void) | undefined;
/** Announce a phase; with `wait`, block until the orchestrator says continue (after its snapshot). */
function phase(name: ClientsPhase, wait = false): Promise<void> {
  void send({ type: 'phase', phase: name } as ClientsMessage);
  if (!wait) return Promise.resolve();
  return new Promise((resolve) => {
    continueWaiter = resolve;
  });
}

/** Open clients from..n-1 in bounded parallel batches (client 0, which creates the room, first). */
async function openAll(count: number, open: (index: number) => Promise<void>, from = 0): Promise<void> {
  if (from === 0 && count > 0) await open(0);
  const batch = 50;
  for (let start = Math.max(1, from); start < count; start += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, i) => open(start + i)));
  }
}

async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const stats = new LoadStats();
  const typists = Math.min(config.typists ?? config.clients, config.clients);
  // Latency is measured where ops are applied: at the typists, who see each other's keystrokes.
  stats.receivers = typists - 1;
  const driver = await createDriver(config.system, config, stats);
  const openViewer = viewerOpener(config.system, config, stats);
  const random = seededRandom(config.seed);
  let running = false;
  const fullSpeed = config.rate === 0;
  const typeOne = (client: SimClient) => {
    const t = now();
    stats.typed(t);
    client.type(random(), t);
  };
  const onAck = (client: SimClient) => {
    // Closed loop: a client types its next character as soon as the previous one is acknowledged.
    if (running && fullSpeed) setImmediate(() => running && typeOne(client));
  };
  const clients: SimClient[] = [];
  const viewers: Viewer[] = [];
  const connectStart = now();
  if (typists === config.clients || typists === 0) {
    await openAll(config.clients, async (i) => {
      if (i < typists) clients.push(await driver.open(i, onAck));
      else viewers.push(await openViewer(i));
    });
  } else {
    // Typists join spread evenly through the room (typist j after the viewers of the j slices
    // before it), so that they are a fair sample of receivers: servers fan an op out in join order
    // (or some order of their own), and typists who all joined first would be served first.
    const viewersEach = (config.clients - typists) / typists;
    for (let j = 0, opened = 0; j < typists; j++) {
      clients.push(await driver.open(j, onAck));
      const upTo = Math.round((j + 1) * viewersEach);
      await openAll(upTo - opened, async (i) => {
        viewers.push(await openViewer(typists + opened + i));
      });
      opened = upTo;
    }
  }
  const connectMs = now() - connectStart;
  // Waits for the orchestrator: a suite may start more load (flood: the attackers) first.
  await phase('connected', true);
  await sleep(200);

  running = true;
  const loadStart = now();
  let timer: ReturnType<typeof setInterval> | undefined;
  if (fullSpeed) {
    for (const client of clients) typeOne(client);
  } else {
    // Open loop at a fixed total rate: each tick types what is due, on clients picked at random.
    let issued = 0;
    timer = setInterval(() => {
      const due = Math.floor(((now() - loadStart) * config.rate) / 1000) - issued;
      for (let i = 0; i < due; i++) typeOne(clients[Math.floor(random() * clients.length)]);
      issued += Math.max(0, due);
    }, 2);
  }
  await sleep(config.warmupMs);
  const cpuStart = process.cpuUsage();
  stats.windowStart = now();
  await phase('measure-start');
  await sleep(config.measureMs);
  stats.windowEnd = now();
  const cpu = process.cpuUsage(cpuStart);
  await phase('measure-end');
  const windowMs = stats.windowEnd - stats.windowStart;
  running = false;
  if (timer !== undefined) clearInterval(timer);

  // Drain: every keystroke acknowledged, then every replica equal (or the deadline passes).
  const drainEnd = now() + config.drainMs;
  let converged = 'n/a';
  while (now() < drainEnd && clients.some((c) => c.unacked > 0)) await sleep(20);
  const checked = clients[0].fingerprint() !== undefined;
  if (checked) {
    const distinct = () => new Set(clients.map((c) => c.fingerprint()).filter((f) => f !== undefined)).size;
    while (now() < drainEnd && distinct() > 1) await sleep(20);
    const count = distinct();
    const unacked = clients.reduce((n, c) => n + c.unacked, 0);
    converged = count === 1 && unacked === 0 ? 'yes' : `no (${count} distinct replicas, ${unacked} unacked)`;
  } else {
    while (now() < drainEnd && stats.windowDeliveries < stats.expectedDeliveries) await sleep(20);
  }
  // Viewers prove they received every op, each against the server's state, with a drain of their own.
  const viewerEnd = now() + config.drainMs;
  const failures = await Promise.all(viewers.map((v) => v.verify(stats.totalTyped, viewerEnd)));
  for (const client of clients) client.close();
  for (const viewer of viewers) viewer.close();

  const latencies = stats.latencies;
  if (stats.breakdown !== undefined) {
    const parts = Object.entries(stats.breakdown).map(
      ([name, values]) =>
        `${name} p50 ${percentile(values, 50).toFixed(2)} p90 ${percentile(values, 90).toFixed(2)} p99 ${percentile(values, 99).toFixed(2)}`,
    );
    process.stderr.write(
      `[breakdown ${config.system}] total p50 ${percentile(latencies, 50).toFixed(2)} p99 ${percentile(latencies, 99).toFixed(2)} | ${parts.join(' | ')}\n`,
    );
  }
  const perSec = (n: number) => (n * 1000) / windowMs;
  return {
    kind: 'load',
    committedPerSec: perSec(stats.committed),
    deliveredPerSec: stats.receivers > 0 ? perSec(stats.delivered) / stats.receivers : 0,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.reduce((m, v) => Math.max(m, v), 0),
    samples: latencies.length,
    missing: Math.max(0, stats.expectedDeliveries - stats.windowDeliveries),
    bytesPerOp: stats.delivered > 0 ? stats.bytes / stats.delivered : Number.NaN,
    meanFrameBytes: stats.frames > 0 ? stats.bytes / stats.frames : Number.NaN,
    opsPerFrame: stats.frames > 0 ? stats.delivered / stats.frames : Number.NaN,
    clientCpu: (cpu.user + cpu.system) / 1000 / windowMs,
    converged,
    connectMs,
    typed: stats.totalTyped,
    acked: stats.totalCommitted,
    errors: [...new Set(stats.errors)].slice(0, 5),
    viewers:
      viewers.length === 0
        ? undefined
        : {
            count: viewers.length,
            deliveredPerSec: perSec(stats.viewerOps) / viewers.length,
            opsPerFrame: stats.viewerFrames > 0 ? stats.viewerOps / stats.viewerFrames : Number.NaN,
            bytesPerOp: stats.viewerOps > 0 ? stats.viewerBytes / stats.viewerOps : Number.NaN,
            complete: failures.filter((f) => f === undefined).length,
            failures: [...new Set(failures.filter((f) => f !== undefined))].slice(0, 3),
          },
  };
}

async function runIdle(config: IdleConfig): Promise<void> {
  const stats = new LoadStats();
  const driver = await createDriver(config.system, config, stats);
  const clients: SimClient[] = [];
  const noop = () => {};
  // The room exists and one client is in it before the baseline, so the delta is per connection;
  // a few clients come and go first so lazily initialised server code is not charged to them.
  const into = (list: SimClient[]) => async (i: number) => {
    list.push(await driver.open(i, noop));
  };
  await openAll(1, into(clients));
  const warm: SimClient[] = [];
  await openAll(Math.min(50, config.clients) + 1, into(warm), 1);
  for (const client of warm) client.close();
  await sleep(500);
  await phase('idle-step', true);
  const start = now();
  for (let step = 1, opened = 1; step <= IDLE_STEPS; step++) {
    const target = 1 + Math.round((config.clients * step) / IDLE_STEPS);
    await openAll(target, into(clients), opened);
    opened = target;
    await phase('idle-step', true);
  }
  const connectMs = now() - start;
  for (const client of clients) client.close();
  await send({ type: 'result', result: { kind: 'idle', connected: clients.length - 1, connectMs } });
}

process.on('message', (message: ClientsConfig | { type: 'continue' }) => {
  if ('type' in message) {
    const resume = continueWaiter;
    continueWaiter = undefined;
    resume?.();
    return;
  }
  const run =
    message.kind === 'load'
      ? runLoad(message).then((result) => send({ type: 'result', result }))
      : runIdle(message);
  run
    .then(() => process.exit(0))
    .catch(async (error: unknown) => {
      await send({ type: 'error', message: String((error as Error)?.stack ?? error) });
      process.exit(1);
    });
});
// The orchestrator going away (even killed) closes the IPC channel: never outlive it.
process.on('disconnect', () => process.exit(0));

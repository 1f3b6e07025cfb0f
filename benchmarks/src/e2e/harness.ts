/**
 * The orchestrator: for one cell (system × workload) it starts the server under test in its own
 * process (one core), the simulated clients in another (the other core), relays phases into server snapshots
 * (RSS, CPU time, Tandem metrics), and kills both children when the cell ends — on error and on
 * timeout too. 127.0.0.1 only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  ClientsConfig,
  ClientsMessage,
  ClientsPhase,
  ClientsResult,
  IdleResult,
  LoadResult,
  ServerMessage,
  SystemName,
} from './types';
import { IDLE_STEPS, serverOf } from './types';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The benchmarks package: `--import tsx` resolves from here. */
const cwd = fileURLToPath(new URL('../..', import.meta.url));

const hasTaskset = (() => {
  if (process.env.E2E_NO_PIN) return false;
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Whether children are pinned (by default server → core 0, clients → core 1; see `Cores`). */
export const pinned = hasTaskset;

const live = new Set<ChildProcess>();
function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
process.once('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(130);
  });
}

/** E2E_WRITE_TRACE: the server reports where an op's time goes between its sockets (./write-trace.ts). */
const tracingWrites = process.env.E2E_WRITE_TRACE !== undefined;

/** Start one of the scripts next to this file as a child (killed with the orchestrator). */
export function start(script: string, args: string[], core: number, nodeFlags: string[]): ChildProcess {
  const profile = process.env.E2E_PROF === script ? ['--cpu-prof', '--cpu-prof-dir=/tmp/e2e-prof'] : [];
  const node = [
    ...nodeFlags,
    ...profile,
    '--conditions=source',
    '--import',
    'tsx',
    `${here}${script}`,
    ...args,
  ];
  const [command, argv] = hasTaskset
    ? ['taskset', ['-c', String(core), process.execPath, ...node]]
    : [process.execPath, node];
  const child = spawn(command, argv, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface ProcStat {
  /** CPU time of every thread (µs). */
  cpuMicros: number;
  /**
   * Time the main (JavaScript) thread was running, and was runnable but waiting for a CPU (µs;
   * /proc/<pid>/schedstat, NaN where the kernel does not keep it).
   */
  mainRunMicros: number;
  mainWaitMicros: number;
  rss: number;
}

/**
 * CPU time (µs), the main thread's scheduler times (µs) and RSS (bytes) of a process read from
 * /proc, so a server whose event loop is saturated is still measured at the right moment (an IPC
 * request would wait in its queue).
 */
export function procStat(pid: number | undefined): ProcStat | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state(0) … utime(11) stime(12) … rss pages(21).
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(fields[21]);
    // on-CPU ns, run-queue wait ns, timeslices
    let sched = [Number.NaN, Number.NaN];
    try {
      sched = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number);
    } catch {}
    return {
      cpuMicros: (ticks * 1e6) / clockTicks,
      mainRunMicros: sched[0] / 1000,
      mainWaitMicros: sched[1] / 1000,
      rss: rssPages * 4096,
    };
  } catch {
    return undefined;
  }
}

export interface ServerSnapshot {
  rss: number;
  heapUsed: number;
  cpuMicros: number;
  metrics?: Record<string, unknown>;
}

class ServerProcess {
  private nextId = 1;
  private readonly waiting = new Map<number, (s: ServerSnapshot) => void>();
  constructor(readonly child: ChildProcess) {
    child.on('message', (message: ServerMessage) => {
      if (message.type !== 'snapshot') return;
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
    });
  }
  /** Ask the server for a snapshot; undefined if its event loop does not answer within `limitMs`. */
  snapshot(gc: boolean, limitMs = 15_000): Promise<ServerSnapshot | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(undefined);
      }, limitMs);
      this.waiting.set(id, (snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      this.child.send({ type: 'snapshot', gc, id });
    });
  }
}

function failure(child: ChildProcess, what: string): Promise<never> {
  return new Promise((_, reject) => {
    // A clients process exits once it has reported its result: that exit is expected.
    let reported = false;
    child.once('exit', (code, signal) =>
      setTimeout(
        () => reported || reject(new Error(`${what} exited (${code ?? signal})`)),
        code === 0 ? 1_000 : 0,
      ),
    );
    child.on('message', (message: { type: string; message?: string }) => {
      if (message.type === 'result') reported = true;
      if (message.type === 'error') reject(new Error(`${what}: ${message.message}`));
    });
  });
}

function timeout(ms: number, what: string): { promise: Promise<never>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Which core each child is pinned to (when taskset is available). */
export interface Cores {
  server: number;
  clients: number;
}
const DEFAULT_CORES: Cores = { server: 0, clients: 1 };

async function startServer(
  system: SystemName,
  args: string[],
  core: number,
): Promise<{ server: ServerProcess; url: string }> {
  const child = start('server.ts', [serverOf(system), ...args], core, [
    '--expose-gc',
    ...(process.env.E2E_SERVER_FLAGS?.split(' ').filter(Boolean) ?? []),
  ]);
  const ready = new Promise<string>((resolve) => {
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') resolve(message.url);
    });
  });
  const limit = timeout(30_000, `${system} server start`);
  try {
    const url = await Promise.race([ready, failure(child, `${system} server`), limit.promise]);
    return { server: new ServerProcess(child), url };
  } finally {
    limit.cancel();
  }
}

export interface LoadCell {
  system: SystemName;
  clients: number;
  rate: number;
  warmupMs: number;
  measureMs: number;
  drainMs?: number;
  /** Extra arguments for the server child (server.ts documents them). */
  serverArgs?: string[];
  /** Default: server on core 0, clients on core 1. */
  cores?: Cores;
  /** The room shape: this many typists, the other clients viewers (LoadConfig.typists). */
  typists?: number;
  /** Every phase the clients announce, with the room, e.g. to add load beside them (the flood suite). */
  /** Told each phase; the load starts once what it returns for `connected` settles. */
  onPhase?(
    phase: ClientsPhase,
    room: { url: string; collection: string; docId: string },
  ): void | Promise<void>;
}

export interface LoadCellResult extends LoadResult {
  serverRss: number;
  /** Server CPU time / wall time in the window (1 = its core saturated). */
  serverCpu: number;
  /**
   * Share of the window in which the server's (the clients') main thread was running or waiting
   * for a CPU: how busy it was whatever other processes took of its core. Near 1 = saturated, even
   * when its CPU share is low because the core is shared; clearly below 1 = idle while it could run.
   */
  serverBusy: number;
  clientBusy: number;
  metrics?: Record<string, unknown>;
}

export interface IdleCellResult extends IdleResult {
  /** Server RSS after GC with one client, then with all N more idle clients (bytes). */
  baselineRss: number;
  loadedRss: number;
  /**
   * Growth per connection: the least-squares slope of the server's RSS (and of its V8 heap +
   * external memory) over five GC'd points, at 0, ¼, ½, ¾ and all of the connections. A slope over
   * five points is far steadier than a difference of two (RSS moves in pages as V8 and malloc
   * take and return memory).
   */
  rssPerConnection: number;
  heapPerConnection: number;
  /** How well a straight line explains the RSS points (1 = exactly; low values mean noise). */
  rssFit: number;
}

/** Least-squares slope of y over x, and R². */
export function linearFit(points: readonly (readonly [number, number])[]): { slope: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
    syy += (y - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

async function withChildren<T>(
  system: SystemName,
  limitMs: number,
  serverArgs: string[] | undefined,
  cores: Cores,
  body: (server: ServerProcess, url: string, clients: ChildProcess) => Promise<T>,
): Promise<T> {
  const children: ChildProcess[] = [];
  const limit = timeout(limitMs, `${system} cell`);
  try {
    const { server, url } = await startServer(system, serverArgs ?? [], cores.server);
    children.push(server.child);
    const clients = start('clients.ts', [], cores.clients, []);
    children.push(clients);
    return await Promise.race([
      body(server, url, clients),
      failure(server.child, `${system} server`),
      failure(clients, `${system} clients`),
      limit.promise,
    ]);
  } finally {
    limit.cancel();
    if (process.env.E2E_PROF !== undefined || tracingWrites) {
      // A profiled or traced child reports on a clean exit: disconnecting makes it exit.
      for (const child of children) if (child.connected) child.disconnect();
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    }
    for (const child of children) child.kill('SIGKILL');
  }
}

function resultOf(clients: ChildProcess): Promise<ClientsResult> {
  return new Promise((resolve) => {
    clients.on('message', (message: ClientsMessage) => {
      if (message.type === 'result') resolve(message.result);
    });
  });
}

let roomSeq = 0;

export function runLoadCell(cell: LoadCell): Promise<LoadCellResult> {
  const drainMs = cell.drainMs ?? 5_000;
  const limitMs = 45_000 + cell.warmupMs + cell.measureMs + drainMs + cell.clients * 40;
  const docId = `room-${++roomSeq}`;
  const cores = cell.cores ?? DEFAULT_CORES;
  return withChildren(cell.system, limitMs, cell.serverArgs, cores, async (server, url, clients) => {
    let startSnap: Promise<ServerSnapshot | undefined> | undefined;
    let endSnap: Promise<ServerSnapshot | undefined> | undefined;
    let startProc: ProcStat | undefined;
    let endProc: ProcStat | undefined;
    let startClients: ProcStat | undefined;
    let endClients: ProcStat | undefined;
    let t0 = 0;
    let t1 = 0;
    clients.on('message', (message: ClientsMessage) => {
      if (message.type !== 'phase') return;
      const told = cell.onPhase?.(message.phase, { url, collection: 'rooms', docId });
      if (message.phase === 'connected') {
        Promise.resolve(told).then(
          () => clients.send({ type: 'continue' }),
          () => clients.send({ type: 'continue' }),
        );
      } else if (message.phase === 'measure-start') {
        t0 = performance.now();
        startProc = procStat(server.child.pid);
        startClients = procStat(clients.pid);
        startSnap = server.snapshot(false);
      } else if (message.phase === 'measure-end') {
        t1 = performance.now();
        endProc = procStat(server.child.pid);
        endClients = procStat(clients.pid);
        endSnap = server.snapshot(false);
      }
    });
    const result = resultOf(clients);
    const config: ClientsConfig = {
      kind: 'load',
      system: cell.system,
      url,
      clients: cell.clients,
      rate: cell.rate,
      warmupMs: cell.warmupMs,
      measureMs: cell.measureMs,
      drainMs,
      collection: 'rooms',
      docId,
      seed: 42,
      typists: cell.typists,
    };
    clients.send(config);
    const load = (await result) as LoadResult;
    if (startSnap === undefined || endSnap === undefined) throw new Error('measurement phases missing');
    const [a, b] = await Promise.all([startSnap, endSnap]);
    const cpuMicros =
      startProc !== undefined && endProc !== undefined
        ? endProc.cpuMicros - startProc.cpuMicros
        : (b?.cpuMicros ?? Number.NaN) - (a?.cpuMicros ?? Number.NaN);
    const busy = (a?: ProcStat, b?: ProcStat) =>
      a === undefined || b === undefined
        ? Number.NaN
        : (b.mainRunMicros + b.mainWaitMicros - a.mainRunMicros - a.mainWaitMicros) / 1000 / (t1 - t0);
    return {
      ...load,
      serverRss: endProc?.rss ?? b?.rss ?? Number.NaN,
      serverCpu: cpuMicros / 1000 / (t1 - t0),
      serverBusy: busy(startProc, endProc),
      clientBusy: busy(startClients, endClients),
      metrics: b?.metrics,
    };
  });
}

export function runIdleCell(system: SystemName, count: number): Promise<IdleCellResult> {
  return withChildren(system, 120_000, undefined, DEFAULT_CORES, async (server, url, clients) => {
    const snapshots: ServerSnapshot[] = [];
    clients.on('message', async (message: ClientsMessage) => {
      if (message.type !== 'phase' || message.phase !== 'idle-step') return;
      // Let connection setup garbage settle before the GC'd measurement.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const snapshot = await server.snapshot(true, 60_000);
      if (snapshot !== undefined) snapshots.push(snapshot);
      clients.send({ type: 'continue' });
    });
    const result = resultOf(clients);
    clients.send({
      kind: 'idle',
      system,
      url,
      clients: count,
      collection: 'rooms',
      docId: `room-${++roomSeq}`,
    } satisfies ClientsConfig);
    const idle = (await result) as IdleResult;
    if (snapshots.length !== IDLE_STEPS + 1) throw new Error('idle steps missing');
    const at = (step: number) => Math.round((count * step) / IDLE_STEPS);
    const rss = linearFit(snapshots.map((s, step) => [at(step), s.rss]));
    const heap = linearFit(snapshots.map((s, step) => [at(step), s.heapUsed]));
    return {
      ...idle,
      baselineRss: snapshots[0].rss,
      loadedRss: snapshots[IDLE_STEPS].rss,
      rssPerConnection: rss.slope,
      heapPerConnection: heap.slope,
      rssFit: rss.r2,
    };
  });
}

/**
 * e2e — one room, many clients, real sockets: raw ShareDB + json1, Hocuspocus 3 / Yjs, the bare-ws
 * broadcast limit and Tandem (JSON and msgpack), on the same workload in the same run.
 *
 * Each cell runs a fresh server process (pinned to core 0, --expose-gc) and a fresh clients process
 * (core 1) — see ../e2e/harness.ts. Workloads: N clients typing single characters at random
 * positions, at a fixed total offered rate (open loop) and at full speed (closed loop: each client
 * types its next character when the previous one is acknowledged); and N idle subscribed sockets for
 * memory per connection. Environment overrides for exploration: E2E_SYSTEMS=ws,sharedb (also
 * tandem-stock: a stock ShareDB client on Tandem's plain JSON) E2E_CLIENTS=10,100 E2E_RATE=200
 * E2E_WARMUP_MS=1000 E2E_MEASURE_MS=5000 E2E_IDLE=1000; E2E_PROF=server.ts writes a CPU profile of each server to
 * /tmp/e2e-prof; E2E_HEAPSNAP=dir writes a heap snapshot of the server at each idle measurement;
 * E2E_NO_PIN=1 skips taskset.
 */
import { loadavg } from 'node:os';
import { type IdleCellResult, type LoadCellResult, pinned, runIdleCell, runLoadCell } from '../e2e/harness';
import { SYSTEM_LABELS, SYSTEMS, type SystemName } from '../e2e/types';
import { type BenchOptions, formatNumber, printTable } from '../report';

export interface Workload {
  clients: number;
  /** Offered total ops/s; 0 = full speed (closed loop). */
  rate: number;
}

export interface E2EPlan {
  systems: SystemName[];
  clients: number[];
  /** Offered total rate for the fixed-rate rows (ops/s). */
  rate: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  /** Idle sockets for memory per connection (0 = skip). */
  idle: number;
  /** The cells to run. */
  workloads: Workload[];
}

export function planFor(options: BenchOptions, env: NodeJS.ProcessEnv = process.env): E2EPlan {
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const plan: Omit<E2EPlan, 'workloads'> = options.quick
    ? {
        systems: [...SYSTEMS],
        clients: [10, 50],
        rate: 200,
        warmupMs: 300,
        measureMs: 1_000,
        drainMs: 1_500,
        idle: 200,
      }
    : {
        systems: [...SYSTEMS],
        clients: [10, 100, 500],
        rate: 200,
        warmupMs: 1_000,
        measureMs: 4_000,
        drainMs: 3_000,
        idle: 1_000,
      };
  const systems = list(env.E2E_SYSTEMS);
  if (systems !== undefined) plan.systems = systems as SystemName[];
  const clients = list(env.E2E_CLIENTS);
  if (clients !== undefined) plan.clients = clients.map(Number);
  if (env.E2E_RATE !== undefined) plan.rate = Number(env.E2E_RATE);
  if (env.E2E_MEASURE_MS !== undefined) plan.measureMs = Number(env.E2E_MEASURE_MS);
  if (env.E2E_WARMUP_MS !== undefined) plan.warmupMs = Number(env.E2E_WARMUP_MS);
  if (env.E2E_IDLE !== undefined) plan.idle = Number(env.E2E_IDLE);
  // Full runs: every client count at the fixed rate and at full speed. Quick runs keep one cell per
  // count (the smallest at the fixed rate, the others at full speed) so the suite takes about a minute.
  const workloads = options.quick
    ? plan.clients.map((clients, i) => ({ clients, rate: i === 0 ? plan.rate : 0 }))
    : plan.clients.flatMap((clients) => [
        { clients, rate: plan.rate },
        { clients, rate: 0 },
      ]);
  return { ...plan, workloads };
}

const workloadLabel = (w: Workload) =>
  `${w.clients} clients, ${w.rate === 0 ? 'full speed' : `${w.rate} ops/s offered`}`;
const key = (w: Workload) => `${w.clients}/${w.rate}`;

type Cell = LoadCellResult | { error: string };
const isError = (cell: Cell | undefined): cell is { error: string } => cell !== undefined && 'error' in cell;

/** Below this R², an RSS slope is page noise, not growth per connection. */
const MIN_RSS_FIT = 0.9;

/**
 * Whether two RSS slopes can be compared: both fits straight lines and bare ws growing at all (at
 * 1,000 sockets bare ws grows by a few MB, which V8 and malloc page moves can hide entirely).
 */
const rssComparable = (cell: IdleCellResult, ws: IdleCellResult): boolean =>
  ws.rssPerConnection > 0 && ws.rssFit >= MIN_RSS_FIT && cell.rssFit >= MIN_RSS_FIT;

const ms = (n: number) => (Number.isFinite(n) ? formatNumber(n, 1) : '—');
const mb = (bytes: number) => formatNumber(bytes / 1_048_576, 1);
const pct = (x: number) => `${Math.round(x * 100)}%`;
/** a ÷ b, or '—' when b is not a positive measurement (RSS deltas can be ≤ 0 from noise). */
const positiveRatio = (a: number | undefined, b: number | undefined) =>
  b === undefined || !(b > 0) ? '—' : ratio(a, b);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
    ? '—'
    : `${formatNumber(a / b, 2)}×`;

function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(', ');
}

export async function run(options: BenchOptions): Promise<void> {
  const plan = planFor(options);
  const started = Date.now();
  const loadBefore = load();
  console.log(
    `Server and clients in separate processes${pinned ? ' (taskset: server core 0, clients core 1)' : ' (taskset unavailable: not pinned)'}; ` +
      `${formatNumber(plan.warmupMs / 1000, 1)} s warm-up + ${formatNumber(plan.measureMs / 1000, 1)} s measured per cell; load average at start ${loadBefore}.\n`,
  );

  const workloads = plan.workloads;
  const results = new Map<string, Map<SystemName, Cell>>();
  for (const workload of workloads) {
    const row = new Map<SystemName, Cell>();
    results.set(key(workload), row);
    // Systems alternate within a workload, so load drifting on the shared machine hits all of them.
    for (const system of plan.systems) {
      try {
        row.set(
          system,
          await runLoadCell({
            system,
            clients: workload.clients,
            rate: workload.rate,
            warmupMs: plan.warmupMs,
            measureMs: plan.measureMs,
            drainMs: plan.drainMs,
          }),
        );
      } catch (error) {
        row.set(system, { error: String((error as Error).message ?? error).split('\n')[0] });
      }
      const cell = row.get(system);
      process.stderr.write(
        `  e2e ${workloadLabel(workload)} ${system}: ${isError(cell) ? `ERROR ${cell.error}` : `${formatNumber(cell?.committedPerSec ?? 0)} ops/s, p99 ${ms(cell?.p99 ?? Number.NaN)} ms`}\n`,
      );
    }
  }

  const idle = new Map<SystemName, IdleCellResult | { error: string }>();
  if (plan.idle > 0) {
    for (const system of plan.systems) {
      try {
        idle.set(system, await runIdleCell(system, plan.idle));
      } catch (error) {
        idle.set(system, { error: String((error as Error).message ?? error).split('\n')[0] });
      }
    }
  }
  const loadAfter = load();

  // ---- per-cell detail
  console.log('### Throughput, latency and resources per cell\n');
  const detail: (string | number)[][] = [];
  for (const workload of workloads) {
    for (const system of plan.systems) {
      const cell = results.get(key(workload))?.get(system);
      if (cell === undefined) continue;
      if (isError(cell)) {
        detail.push([
          workloadLabel(workload),
          SYSTEM_LABELS[system],
          `error: ${cell.error}`,
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
          '',
        ]);
        continue;
      }
      detail.push([
        workloadLabel(workload),
        SYSTEM_LABELS[system],
        formatNumber(cell.committedPerSec, 0),
        formatNumber(cell.deliveredPerSec, 0),
        `${ms(cell.p50)} / ${ms(cell.p95)} / ${ms(cell.p99)}`,
        mb(cell.serverRss),
        pct(cell.serverCpu),
        pct(cell.clientCpu),
        formatNumber(cell.bytesPerOp, 0),
        formatNumber(cell.opsPerFrame, 2),
        cell.missing === 0 ? '0' : formatNumber(cell.missing, 0),
        cell.converged + (cell.errors.length > 0 ? ` (errors: ${cell.errors.join('; ')})` : ''),
      ]);
    }
  }
  printTable(
    [
      'workload',
      'system',
      'committed ops/s',
      'delivered ops/s per client',
      'latency p50 / p95 / p99 (ms)',
      'server RSS (MB)',
      'server CPU',
      'clients CPU',
      'bytes recv / op',
      'ops / frame',
      'undelivered',
      'converged',
    ],
    detail,
  );

  // ---- ratios
  const tandemSystems = plan.systems.filter((s) => s.startsWith('tandem'));
  const get = (w: Workload, s: SystemName) => {
    const cell = results.get(key(w))?.get(s);
    return cell === undefined || isError(cell) ? undefined : cell;
  };
  if (tandemSystems.length > 0) {
    console.log('### Ratios (committed ops/s, same workload, same run)\n');
    const rows: (string | number)[][] = [];
    for (const workload of workloads) {
      for (const t of tandemSystems) {
        const ours = get(workload, t)?.committedPerSec;
        rows.push([
          workloadLabel(workload),
          SYSTEM_LABELS[t],
          ratio(ours, get(workload, 'sharedb')?.committedPerSec),
          ratio(ours, get(workload, 'hocuspocus')?.committedPerSec),
          ratio(ours, get(workload, 'ws')?.committedPerSec),
          `${ratio(get(workload, t)?.p99, get(workload, 'sharedb')?.p99)}`,
        ]);
      }
    }
    printTable(
      ['workload', 'Tandem', '× raw ShareDB', '× Hocuspocus/Yjs', '× bare-ws limit', 'p99 ÷ raw ShareDB p99'],
      rows,
    );
  }

  // ---- idle memory
  if (idle.size > 0) {
    console.log(
      `### Memory per idle connection (${plan.idle} subscribed sockets; server growth after two forced GCs)\n`,
    );
    const wsIdle = idle.get('ws');
    const wsCell = wsIdle !== undefined && !('error' in wsIdle) ? wsIdle : undefined;
    printTable(
      [
        'system',
        'RSS / connection (KB)',
        'heap+external / connection (KB)',
        'RSS fit R²',
        'RSS baseline → all connected (MB)',
        'RSS × bare ws',
        'heap × bare ws',
      ],
      plan.systems.map((system) => {
        const cell = idle.get(system);
        if (cell === undefined || 'error' in cell)
          return [SYSTEM_LABELS[system], `error: ${cell?.error}`, '', '', '', '', ''];
        return [
          SYSTEM_LABELS[system],
          formatNumber(cell.rssPerConnection / 1024, 1),
          formatNumber(cell.heapPerConnection / 1024, 1),
          formatNumber(cell.rssFit, 2),
          `${mb(cell.baselineRss)} → ${mb(cell.loadedRss)}`,
          wsCell !== undefined && rssComparable(cell, wsCell)
            ? ratio(cell.rssPerConnection, wsCell.rssPerConnection)
            : '— (R² < 0.9)',
          positiveRatio(cell.heapPerConnection, wsCell?.heapPerConnection),
        ];
      }),
    );
    console.log(
      'Per connection = least-squares slope of the server memory after two forced GCs at 0, ¼, ½, ¾ and all of the sockets ' +
        '(the room exists and 50 sockets were opened and closed before the first point, so lazily initialised code is not charged); ' +
        'RSS moves in pages as V8 and malloc take and return memory, so its fit (R²) says how far to trust it; ' +
        'heap+external = V8 heap and Buffers.\n',
    );
  }

  // ---- codecs
  if (plan.systems.includes('tandem-json') && plan.systems.includes('tandem-msgpack')) {
    console.log(
      '### Tandem wire size: msgpack vs JSON (bytes received by clients per delivered op, all frames)\n',
    );
    printTable(
      [
        'workload',
        'JSON bytes/op',
        'msgpack bytes/op',
        'msgpack ÷ JSON',
        'JSON mean frame',
        'msgpack mean frame',
        'ops/frame JSON / msgpack',
      ],
      workloads.map((w) => {
        const j = get(w, 'tandem-json');
        const m = get(w, 'tandem-msgpack');
        return [
          workloadLabel(w),
          formatNumber(j?.bytesPerOp ?? Number.NaN, 1),
          formatNumber(m?.bytesPerOp ?? Number.NaN, 1),
          ratio(m?.bytesPerOp, j?.bytesPerOp),
          formatNumber(j?.meanFrameBytes ?? Number.NaN, 0),
          formatNumber(m?.meanFrameBytes ?? Number.NaN, 0),
          `${formatNumber(j?.opsPerFrame ?? Number.NaN, 2)} / ${formatNumber(m?.opsPerFrame ?? Number.NaN, 2)}`,
        ];
      }),
    );
  }

  // ---- targets
  if (tandemSystems.length > 0) {
    console.log('### Targets (issue #6; reported, not asserted)\n');
    const rows: (string | number)[][] = [];
    const best = (w: Workload, metric: (c: LoadCellResult) => number, pick: 'max' | 'min') => {
      const values = tandemSystems
        .map((s) => get(w, s))
        .filter((c) => c !== undefined)
        .map(metric);
      if (values.length === 0) return undefined;
      return pick === 'max' ? Math.max(...values) : Math.min(...values);
    };
    for (const n of plan.clients.filter((c) => c >= 100 || (options.quick && c > 10))) {
      const w = { clients: n, rate: 0 };
      for (const t of tandemSystems) {
        const r = (get(w, t)?.committedPerSec ?? Number.NaN) / (get(w, 'ws')?.committedPerSec ?? Number.NaN);
        rows.push([
          `throughput ≥ 0.9× bare ws, ${n} clients full speed`,
          SYSTEM_LABELS[t],
          Number.isFinite(r) ? `${formatNumber(r, 2)}×` : '—',
          Number.isFinite(r) ? (r >= 0.9 ? 'met' : 'not met') : '—',
        ]);
      }
    }
    const maxN = Math.max(...plan.clients);
    for (const t of tandemSystems) {
      const p99 = get({ clients: maxN, rate: plan.rate }, t)?.p99;
      rows.push([
        `p99 ≤ 50 ms, ${maxN} clients / ${plan.rate} ops/s`,
        SYSTEM_LABELS[t],
        p99 === undefined ? '—' : `${ms(p99)} ms`,
        p99 === undefined ? '—' : p99 <= 50 ? 'met' : 'not met',
      ]);
    }
    const wsIdle = idle.get('ws');
    for (const t of tandemSystems) {
      const cell = idle.get(t);
      if (cell === undefined || 'error' in cell || wsIdle === undefined || 'error' in wsIdle) continue;
      const r = cell.rssPerConnection / wsIdle.rssPerConnection;
      const h = cell.heapPerConnection / wsIdle.heapPerConnection;
      const rssValid = rssComparable(cell, wsIdle);
      rows.push([
        'idle memory ≤ 1.2× bare ws',
        SYSTEM_LABELS[t],
        `heap ${formatNumber(h, 2)}×, RSS ${rssValid ? `${formatNumber(r, 2)}×` : `— (fit R² ${formatNumber(wsIdle.rssFit, 2)} bare ws / ${formatNumber(cell.rssFit, 2)}: noise)`}`,
        h <= 1.2 && (!rssValid || r <= 1.2) ? 'met' : 'not met',
      ]);
    }
    const codecRatios = workloads
      .map(
        (w) =>
          (get(w, 'tandem-msgpack')?.bytesPerOp ?? Number.NaN) /
          (get(w, 'tandem-json')?.bytesPerOp ?? Number.NaN),
      )
      .filter(Number.isFinite);
    if (codecRatios.length > 0) {
      const worst = Math.max(...codecRatios);
      rows.push([
        'msgpack frames smaller than JSON',
        'Tandem',
        `worst msgpack ÷ JSON ${formatNumber(worst, 2)}×`,
        worst < 1 ? 'met' : 'not met',
      ]);
    }
    printTable(['target', 'system', 'measured', 'verdict'], rows);
    void best;
  }

  console.log(
    `Load average (1/5/15 min) at start ${loadBefore}, at end ${loadAfter}; suite took ${formatNumber((Date.now() - started) / 1000, 0)} s. ` +
      'Latency = keystroke (submit) to receipt by each other client, same clock (one clients process). ' +
      '"committed" = keystrokes acknowledged by the server in the window; for bare ws, broadcasts (each frame relayed to every other socket, 1-byte ack to the sender). ' +
      'CPU = process CPU time ÷ wall time in the window (100% = one core). ' +
      '"undelivered" = (keystroke, receiver) pairs from the window still missing when the drain ended.\n',
  );
}

/**
 * flood — honest typing latency while attacker sockets flood the server at 10× their rate limit
 * (issue #7). Every cell is an e2e load cell (../e2e/harness.ts: server process on core 0, honest
 * clients on core 1) with Tandem's rate limits ON; a flood cell adds an attackers process
 * (../e2e/attackers.ts, also core 1) once the honest clients are connected, and stops it when their
 * measurement window ends. Baseline and flood cells run back to back with the same limits and load.
 *
 * The per-socket op limit is lowered from the default 200/s to 20/s (user limit 400/s → 40/s, the
 * same 2:1 ratio) so that 100 sockets at 10× their limit (20,000 msgs/s) come from one process.
 * Environment overrides: FLOOD_RUNS=3 FLOOD_SCENARIOS=one-same,many-own,many-same
 * FLOOD_ATTACKERS=100 FLOOD_MEASURE_MS=8000 FLOOD_OPS_LIMIT=20 FLOOD_FACTOR=10 FLOOD_PROCESS_RATE=0
 * (the process-wide ops budget, fair across users; 0: none).
 */
import type { ChildProcess } from 'node:child_process';
import type { AttackConfig, AttackResult } from '../e2e/attackers';
import { type LoadCellResult, pinned, runLoadCell, start } from '../e2e/harness';
import { type BenchOptions, formatNumber, percentile, printTable } from '../report';

export interface Scenario {
  name: string;
  /** The row label, for `n` attacker sockets. */
  label(n: number): string;
  users: AttackConfig['users'];
  /** 'same': the honest clients' document; 'own': a document per attacking user. */
  target: 'same' | 'own';
}

export const SCENARIOS: Scenario[] = [
  { name: 'one-same', label: (n) => `one user, ${n} sockets → the honest doc`, users: 'one', target: 'same' },
  {
    name: 'many-own',
    label: (n) => `${n} users, a socket each → own docs`,
    users: 'distinct',
    target: 'own',
  },
  {
    name: 'many-same',
    label: (n) => `${n} users, a socket each → the honest doc`,
    users: 'distinct',
    target: 'same',
  },
];

export interface FloodPlan {
  runs: number;
  honestClients: number;
  /** Ops per second each honest client types. */
  honestRate: number;
  attackers: number;
  /** Attack rate as a multiple of the per-socket op limit. */
  factor: number;
  opsLimit: number;
  /** The server's process-wide ops budget (`rateLimits.process`, fair across users); 0: none. */
  processRate: number;
  warmupMs: number;
  measureMs: number;
  drainMs: number;
  reconnectMs: number;
  scenarios: Scenario[];
}

export function planFor(options: BenchOptions, env: NodeJS.ProcessEnv = process.env): FloodPlan {
  const plan: FloodPlan = options.quick
    ? {
        runs: 1,
        honestClients: 10,
        honestRate: 10,
        attackers: 20,
        factor: 10,
        opsLimit: 20,
        processRate: 0,
        warmupMs: 1_000,
        measureMs: 1_500,
        drainMs: 2_000,
        reconnectMs: 100,
        scenarios: SCENARIOS.slice(0, 1),
      }
    : {
        runs: 3,
        honestClients: 10,
        honestRate: 10,
        attackers: 100,
        factor: 10,
        opsLimit: 20,
        processRate: 0,
        warmupMs: 3_000,
        measureMs: 8_000,
        drainMs: 3_000,
        reconnectMs: 100,
        scenarios: SCENARIOS.slice(0, 2),
      };
  const names = env.FLOOD_SCENARIOS?.split(',').map((s) => s.trim());
  if (names !== undefined) plan.scenarios = SCENARIOS.filter((s) => names.includes(s.name));
  if (env.FLOOD_RUNS !== undefined) plan.runs = Number(env.FLOOD_RUNS);
  if (env.FLOOD_ATTACKERS !== undefined) plan.attackers = Number(env.FLOOD_ATTACKERS);
  if (env.FLOOD_MEASURE_MS !== undefined) plan.measureMs = Number(env.FLOOD_MEASURE_MS);
  if (env.FLOOD_OPS_LIMIT !== undefined) plan.opsLimit = Number(env.FLOOD_OPS_LIMIT);
  if (env.FLOOD_FACTOR !== undefined) plan.factor = Number(env.FLOOD_FACTOR);
  if (env.FLOOD_PROCESS_RATE !== undefined) plan.processRate = Number(env.FLOOD_PROCESS_RATE);
  return plan;
}

/** The server's limits: defaults except the per-socket and per-user op rates (see the header). */
export function limitsFor(plan: FloodPlan) {
  return {
    ops: { rate: plan.opsLimit, burst: plan.opsLimit * 2 },
    user: { rate: plan.opsLimit * 2, burst: plan.opsLimit * 4 },
    process:
      plan.processRate > 0 ? { rate: plan.processRate, burst: Math.ceil(plan.processRate / 10) } : undefined,
  };
}

export interface FloodCellResult {
  honest: LoadCellResult;
  /** Undefined for a baseline cell. */
  attack?: AttackResult;
}

/** Run the attackers process beside a load cell: started when the honest clients are connected. */
class Flood {
  private child: ChildProcess | undefined;
  private result: Promise<AttackResult> | undefined;

  constructor(
    private readonly plan: FloodPlan,
    private readonly scenario: Scenario,
  ) {}

  /** On `connected`: resolves once every attacker socket is in its session (the load waits for it). */
  onPhase(phase: string, room: { url: string; collection: string; docId: string }): Promise<void> | void {
    if (phase === 'connected') {
      // On the server's core, at the lowest priority (attackers.ts): the honest clients' core times
      // only them, and the server is not slowed by the benchmark's own attacker process.
      const child = start('attackers.ts', [], Number(process.env.FLOOD_ATTACKER_CORE ?? 0), []);
      this.child = child;
      this.result = new Promise((resolve, reject) => {
        child.on('message', (message: { type: string; result: AttackResult }) => {
          if (message.type === 'result') resolve(message.result);
        });
        child.once('exit', (code) => reject(new Error(`attackers exited (${code}) before reporting`)));
      });
      this.result.catch(() => {});
      const config: AttackConfig = {
        url: room.url,
        sockets: this.plan.attackers,
        rate: this.plan.opsLimit * this.plan.factor,
        users: this.scenario.users,
        target: this.scenario.target === 'same' ? { collection: room.collection, docId: room.docId } : 'own',
        reconnectMs: this.plan.reconnectMs,
      };
      child.send({ type: 'start', config });
      return new Promise<void>((resolve) => {
        child.on('message', (message: { type: string }) => {
          if (message.type === 'ready') resolve();
        });
        child.once('exit', () => resolve());
      });
    } else if (phase === 'measure-start') {
      this.child?.send({ type: 'window-start' });
    } else if (phase === 'measure-end') {
      this.child?.send({ type: 'stop' });
    }
  }

  async finish(): Promise<AttackResult> {
    try {
      if (this.result === undefined) throw new Error('the attackers never started');
      return await this.result;
    } finally {
      this.child?.kill('SIGKILL');
    }
  }
}

export async function runFloodCell(
  plan: FloodPlan,
  scenario: Scenario | undefined,
): Promise<FloodCellResult> {
  const flood = scenario === undefined ? undefined : new Flood(plan, scenario);
  try {
    const honest = await runLoadCell({
      system: 'tandem-json',
      clients: plan.honestClients,
      rate: plan.honestClients * plan.honestRate,
      warmupMs: plan.warmupMs,
      measureMs: plan.measureMs,
      drainMs: plan.drainMs,
      serverArgs: [JSON.stringify({ rateLimits: limitsFor(plan) })],
      onPhase: flood === undefined ? undefined : (phase, room) => flood.onPhase(phase, room),
    });
    return { honest, attack: await flood?.finish() };
  } catch (error) {
    await flood?.finish().catch(() => undefined);
    throw error;
  }
}

const ms = (n: number) => formatNumber(n, 1);
const mb = (n: number) => formatNumber(n / 1024 / 1024, 1);
const pct = (n: number) => `${Math.round(n * 100)}%`;

export async function run(options: BenchOptions): Promise<void> {
  const plan = planFor(options);
  const limits = limitsFor(plan);
  console.log(
    `${plan.honestClients} honest clients (distinct users) typing ${plan.honestRate} ops/s each into one ` +
      `document; ${plan.attackers} attacker sockets each sending ops at ${plan.factor}× the per-socket limit ` +
      `(${plan.opsLimit * plan.factor}/s). Server rate limits on, defaults except ops ${limits.ops.rate}/s ` +
      `(burst ${limits.ops.burst}) per socket and ${limits.user.rate}/s (burst ${limits.user.burst}) per user ` +
      `— lowered from 200/s and 400/s so 10× the limit is reachable from one client process; process ` +
      `budget ${limits.process === undefined ? 'none' : `${limits.process.rate} ops/s (burst ${limits.process.burst}), fair across users`}. Latency = ` +
      `keystroke → receipt by each other honest client; window ${plan.measureMs} ms after ${plan.warmupMs} ms ` +
      `warm-up; attackers reconnect ${plan.reconnectMs} ms after the server closes them. ` +
      `Children ${pinned ? 'pinned: server core 0 with the attackers at nice 19, honest clients core 1' : 'not pinned'}.\n`,
  );
  const rows: (string | number)[][] = [];
  const p99s = new Map<string, number[]>([['baseline', []]]);
  for (let r = 1; r <= plan.runs; r++) {
    // Baseline and flood cells back to back in every run, so slow drifts of a shared machine hit both.
    const baseline = await runFloodCell(plan, undefined);
    rows.push(row(plan, r, 'baseline (no flood)', baseline, baseline));
    p99s.get('baseline')?.push(baseline.honest.p99);
    for (const scenario of plan.scenarios) {
      const flooded = await runFloodCell(plan, scenario);
      rows.push(row(plan, r, scenario.label(plan.attackers), flooded, baseline));
      p99s.set(scenario.name, [...(p99s.get(scenario.name) ?? []), flooded.honest.p99]);
    }
  }
  printTable(
    [
      'run',
      'scenario',
      'honest p50 / p95 / p99 (ms)',
      'p99 ÷ same run baseline',
      'honest samples (undelivered)',
      'attack sent/s (acked/s)',
      'RATE_LIMITED notices',
      'closed for violation (all closes)',
      'server CPU',
      'server µs / attack msg',
      'server RSS (MB)',
    ],
    rows,
  );
  const base = median(p99s.get('baseline') ?? []);
  for (const scenario of plan.scenarios) {
    const flooded = median(p99s.get(scenario.name) ?? []);
    const ratio = flooded / base;
    console.log(
      `${scenario.label(plan.attackers)}: median honest p99 over ${plan.runs} run(s) ${ms(flooded)} ms vs ` +
        `${ms(base)} ms without the flood = ${formatNumber(ratio)}× → ${ratio <= 2 ? 'PASS' : 'MISS'} (target ≤ 2×)`,
    );
  }
}

function median(values: number[]): number {
  return percentile(values, 50);
}

function row(
  plan: FloodPlan,
  run: number,
  label: string,
  cell: FloodCellResult,
  baseline: FloodCellResult,
): (string | number)[] {
  const h = cell.honest;
  const a = cell.attack;
  const perSec = (n: number) => (a === undefined ? 0 : (n * 1000) / a.windowMs);
  // The attackers process is starved of CPU (it runs at the lowest priority): say so in the row.
  const offered = plan.attackers * plan.opsLimit * plan.factor;
  const short = (sent: number) => (sent < 0.9 * offered ? ` (< 90% of ${formatNumber(offered, 0)})` : '');
  const errors = a?.otherErrors.length ? ` errors: ${a.otherErrors.join(' ; ')}` : '';
  if (h.errors.length > 0) console.log(`honest errors (run ${run}, ${label}): ${h.errors.join(' ; ')}`);
  if (errors !== '') console.log(`attacker errors (run ${run}, ${label}):${errors}`);
  return [
    String(run),
    label,
    `${ms(h.p50)} / ${ms(h.p95)} / ${ms(h.p99)}`,
    `${formatNumber(h.p99 / baseline.honest.p99)}×`,
    `${h.samples} (${h.missing})`,
    a === undefined
      ? '—'
      : `${formatNumber(perSec(a.sent), 0)}${short(perSec(a.sent))} (${formatNumber(perSec(a.acked), 0)})`,
    a === undefined ? '—' : String(a.notices),
    a === undefined ? '—' : `${a.violations} (${a.closed})`,
    pct(h.serverCpu),
    // Extra server CPU over the same run's baseline, per attacker message received.
    a === undefined
      ? '—'
      : formatNumber(((h.serverCpu - baseline.honest.serverCpu) * 1e6) / perSec(a.sent), 1),
    mb(h.serverRss),
  ];
}
